import type { FastifyInstance, FastifyReply } from "fastify";
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

interface StreamParams {
  name: string;
}

/** `GET /api/streams`, history paging (`/lines`) and whole-file search (`/search`). */
export function registerApiRoutes(app: FastifyInstance, ctx: ServerContext): void {
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
      if (ctx.searches >= ctx.options.maxConcurrentSearches) {
        reply.header("retry-after", "1");
        return sendError(reply, "busy", "too many searches running; retry shortly");
      }
      ctx.searches++;
      try {
        const outcome = await hub.backend.search({
          q,
          regex,
          caseSensitive,
          limit,
          timeoutMs: ctx.options.searchTimeoutMs,
        });
        const body: SearchResult = {
          stream: hub.name,
          matches: outcome.matches.map(toWireLine),
          limited: outcome.limited,
          timedOut: outcome.timedOut,
          scannedBytes: outcome.scannedBytes,
        };
        return body;
      } catch (error) {
        return sendReadError(reply, error);
      } finally {
        ctx.searches--;
      }
    },
  );
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
