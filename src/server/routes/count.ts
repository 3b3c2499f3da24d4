import type { FastifyInstance } from "fastify";
import type { ServerContext } from "../context.js";
import { countRange } from "../range-count.js";
import { sendError, sendReadError } from "./http-errors.js";

/** Counts running at once on the server: each reads its range through, like a gap fill does. */
const MAX_CONCURRENT_COUNTS = 2;

/**
 * `GET /api/streams/:name/count?after=C&before=C`: how many lines (errors, warnings) a gap row hides and over what
 * time (range-count.ts). Bounded by the search time limit and stopped when the client goes away.
 */
export function registerCountRoute(app: FastifyInstance, ctx: ServerContext): void {
  let running = 0;
  app.get<{ Params: { name: string }; Querystring: Record<string, unknown> }>(
    "/api/streams/:name/count",
    async (request, reply) => {
      const hub = ctx.streams.get(request.params.name);
      if (hub === undefined)
        return sendError(reply, "unknown_stream", `no stream named "${request.params.name}"`);
      const { after, before } = request.query;
      for (const [name, value] of [
        ["after", after],
        ["before", before],
      ] as const) {
        if (value === undefined) continue;
        if (typeof value !== "string" || value === "")
          return sendError(reply, "bad_request", `give "${name}" at most once, as a cursor`);
        try {
          hub.backend.check(value);
        } catch (error) {
          return sendReadError(reply, error);
        }
      }
      if (running >= MAX_CONCURRENT_COUNTS) {
        reply.header("retry-after", "1");
        return sendError(reply, "busy", "too many counts running; retry shortly");
      }
      running++;
      const cancel = new AbortController();
      const onClose = () => cancel.abort();
      reply.raw.once("close", onClose);
      try {
        return await countRange(
          hub.backend,
          (after as string | undefined) ?? null,
          (before as string | undefined) ?? null,
          {
            deadline: Date.now() + ctx.options.searchTimeoutMs,
            signal: cancel.signal,
          },
        );
      } catch (error) {
        return sendReadError(reply, error);
      } finally {
        running--;
        reply.raw.off("close", onClose);
      }
    },
  );
}
