import type { FastifyInstance, FastifyReply } from "fastify";
import type { SearchOutcome } from "../../backend/backend.js";
import type { Line } from "../../core/line.js";
import type { LinesPage, SearchResult, StreamSummary } from "../../protocol/messages.js";
import type { ServerContext } from "../context.js";
import { toWireLine } from "../frames.js";
import type { Hub } from "../hub.js";
import { sendError, sendReadError } from "./http-errors.js";

const DEFAULT_PAGE = 200;
const MAX_PAGE = 5_000;
const DEFAULT_MATCHES = 200;
const MAX_MATCHES = 5_000;
/** Searches one client may run at once (the client: request.searchClient, set by the security plugin). */
const SEARCHES_PER_CLIENT = 1;

interface StreamParams {
  name: string;
}

/** `GET /api/streams`, history paging (`/lines`) and whole-file search (`/search`). */
export function registerApiRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const slots = new SearchSlots(ctx);
  const hubOf = (name: string, reply: FastifyReply): Hub | undefined => {
    const hub = ctx.streams.get(name);
    if (hub === undefined) sendError(reply, "unknown_stream", `no stream named "${name}"`);
    return hub;
  };

  app.get("/api/streams", async () => {
    const out: StreamSummary[] = [];
    for (const hub of ctx.streams.all()) {
      const info = await hub.backend.info(hub.cursor);
      out.push({
        name: hub.name,
        default: hub.isDefault,
        size: info.size,
        lines: hub.counters.linesRead,
        lastUpdate: hub.lastChangeMs === null ? null : new Date(hub.lastChangeMs).toISOString(),
        cursor: hub.cursor,
        clients: hub.clientCount,
      });
    }
    return out;
  });

  app.get<{ Params: StreamParams; Querystring: Record<string, string | undefined> }>(
    "/api/streams/:name/lines",
    async (request, reply) => {
      const hub = hubOf(request.params.name, reply);
      if (hub === undefined) return reply;
      const { before, after, at } = request.query;
      const given = [before, after, at].filter((v) => v !== undefined).length;
      if (given > 1) return sendError(reply, "bad_request", "give at most one of before, after, at");
      const limit = intParam(request.query.limit, DEFAULT_PAGE, 1, MAX_PAGE);
      if (limit === null) return sendError(reply, "bad_request", `limit must be an integer 1..${MAX_PAGE}`);
      const backend = hub.backend;
      // The cursor to page backwards from: before the first line, null when the page starts the source.
      const page = (lines: Line[], after: string | null, more: boolean, atStart: boolean): LinesPage => {
        const first = lines[0];
        return {
          stream: hub.name,
          lines: lines.map(toWireLine),
          before: first !== undefined && !atStart ? backend.cursorBefore(first) : null,
          after,
          more,
        };
      };
      try {
        if (before !== undefined) {
          const r = await backend.readBefore(before, limit);
          return page(r.lines, before, r.more, !r.more);
        }
        if (after !== undefined) {
          const r = await backend.readAfter(after === "start" ? null : after, limit);
          return page(r.lines, r.cursor, r.more, r.atStart);
        }
        if (at !== undefined) {
          const atMs = Date.parse(at);
          if (Number.isNaN(atMs)) return sendError(reply, "bad_time", `"at" must be an ISO-8601 time`);
          const r = await backend.seek(atMs, limit);
          return page(r.lines, r.cursor, r.more, r.atStart);
        }
        const r = await backend.tail(limit);
        return page(r.lines, r.cursor, !r.atStart, r.atStart);
      } catch (error) {
        return sendReadError(reply, error);
      }
    },
  );

  app.get<{ Params: StreamParams; Querystring: Record<string, string | undefined> }>(
    "/api/streams/:name/search",
    async (request, reply) => {
      const hub = hubOf(request.params.name, reply);
      if (hub === undefined) return reply;
      const q: unknown = request.query.q;
      if (q === undefined || q === "") return sendError(reply, "bad_query", `"q" is required`);
      if (typeof q !== "string") return sendError(reply, "bad_query", `give "q" once`);
      if (q.length > 1000) return sendError(reply, "bad_query", `"q" is longer than 1000 characters`);
      const regex = flagParam(request.query.regex);
      const caseSensitive = flagParam(request.query.case);
      if (regex === null || caseSensitive === null) {
        return sendError(reply, "bad_request", "regex and case take 0 or 1");
      }
      const limit = intParam(request.query.limit, DEFAULT_MATCHES, 1, MAX_MATCHES);
      if (limit === null)
        return sendError(reply, "bad_request", `limit must be an integer 1..${MAX_MATCHES}`);
      // Gone before its turn (the socket closed while the hooks ran): nothing to search for.
      if (reply.raw.destroyed) return reply.hijack();
      const slot = slots.take(request.searchClient);
      if (slot === "client" || slot === "server") {
        reply.header("retry-after", "1");
        return sendError(
          reply,
          "busy",
          slot === "client"
            ? "a search of yours is still running; wait for its answer (or cancel it) and retry"
            : "too many searches running; retry shortly",
        );
      }
      const cancel = new AbortController();
      const search = (async () =>
        hub.backend.search({
          q,
          regex,
          caseSensitive,
          limit,
          timeoutMs: ctx.options.searchTimeoutMs,
          signal: cancel.signal,
        }))();
      const gone = clientGone(reply);
      let settled: { outcome: SearchOutcome } | { error: unknown } | typeof GONE;
      try {
        settled = await Promise.race([
          search.then(
            (outcome) => ({ outcome }),
            (error: unknown) => ({ error }),
          ),
          gone.promise,
        ]);
      } finally {
        gone.dispose();
      }
      if (settled === GONE) {
        // Nobody is waiting for the answer: stop the scan (its worker is terminated) and give the slot back.
        cancel.abort();
        slot.abandon(search);
        request.log.info({ stream: hub.name }, "search abandoned: the client went away");
        return reply.hijack();
      }
      slot.release();
      if ("error" in settled) return sendReadError(reply, settled.error);
      const { outcome } = settled;
      const body: SearchResult = {
        stream: hub.name,
        matches: outcome.matches.map(toWireLine),
        limited: outcome.limited,
        timedOut: outcome.timedOut,
        scannedBytes: outcome.scannedBytes,
      };
      return body;
    },
  );
}

const GONE = Symbol("client gone");

/** Resolves with GONE if the client's connection closes before the reply is sent; dispose() stops listening. */
function clientGone(reply: FastifyReply): { promise: Promise<typeof GONE>; dispose(): void } {
  let onClose = (): void => {};
  const promise = new Promise<typeof GONE>((resolve) => {
    onClose = () => resolve(GONE);
  });
  // A response's "close" before it was sent means the connection went away (a reset, a closed tab, a
  // cancelled fetch); it also fires after a normal answer, by which time the listener is gone.
  reply.raw.once("close", onClose);
  return { promise, dispose: () => reply.raw.off("close", onClose) };
}

interface SearchSlot {
  /** The search ended while its client waited: the slot is free. */
  release(): void;
  /** The client went away and `search` was cancelled: free the slot once it has stopped. */
  abandon(search: Promise<unknown>): void;
}

/**
 * Search slots, shared fairly. At most `maxConcurrentSearches` searches hold a slot (the ceiling); one client
 * holds at most SEARCHES_PER_CLIENT of them, so a client repeating a slow (or catastrophic) search cannot take
 * every slot and answer everyone else's searches with 503. A search whose client went away gives its slot back
 * as soon as its scan has stopped: the route cancels it (the backend terminates its worker), so scan workers alive
 * at once never exceed the ceiling.
 */
class SearchSlots {
  private readonly perClient = new Map<string, number>();

  constructor(private readonly ctx: ServerContext) {}

  /** A slot for a search by `client` (null: no per-client limit), or which limit refused it. */
  take(client: string | null): SearchSlot | "client" | "server" {
    if (client !== null && (this.perClient.get(client) ?? 0) >= SEARCHES_PER_CLIENT) return "client";
    if (this.ctx.searches >= this.ctx.options.maxConcurrentSearches) return "server";
    this.ctx.searches++;
    if (client !== null) this.perClient.set(client, (this.perClient.get(client) ?? 0) + 1);
    let held = true;
    const free = (): void => {
      if (!held) return;
      held = false;
      this.ctx.searches--;
      if (client === null) return;
      const left = (this.perClient.get(client) ?? 1) - 1;
      if (left > 0) this.perClient.set(client, left);
      else this.perClient.delete(client);
    };
    const ended = (search: Promise<unknown>): Promise<void> =>
      search.then(
        () => undefined,
        () => undefined,
      );
    return {
      release: free,
      abandon: (search) => {
        void ended(search).then(free);
      },
    };
  }
}

function intParam(value: string | undefined, fallback: number, min: number, max: number): number | null {
  if (value === undefined) return fallback;
  if (!/^\d{1,9}$/.test(value)) return null;
  const n = Number(value);
  return n >= min && n <= max ? n : null;
}

function flagParam(value: string | undefined): boolean | null {
  if (value === undefined || value === "0" || value === "false") return false;
  if (value === "1" || value === "true") return true;
  return null;
}
