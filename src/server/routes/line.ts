import type { FastifyInstance } from "fastify";
import type { ServerContext } from "../context.js";
import { toWholeWireLine } from "../frames.js";
import { sendError, sendReadError } from "./http-errors.js";

/**
 * `GET /api/streams/:name/line?cursor=C`: the whole line that ends at cursor C (pages and `/ws` frames carry
 * only the first 64 KiB of a long line; the dashboard asks here for the rest).
 */
export function registerLineRoute(app: FastifyInstance, ctx: ServerContext): void {
  app.get<{ Params: { name: string }; Querystring: Record<string, string | undefined> }>(
    "/api/streams/:name/line",
    async (request, reply) => {
      const hub = ctx.streams.get(request.params.name);
      if (hub === undefined)
        return sendError(reply, "unknown_stream", `no stream named "${request.params.name}"`);
      const cursor = request.query.cursor;
      if (typeof cursor !== "string" || cursor === "") {
        return sendError(reply, "bad_request", `give the line's cursor once: ?cursor=CURSOR`);
      }
      try {
        const { lines } = await hub.backend.readBefore(cursor, 1);
        const line = lines[0];
        if (line === undefined) return sendError(reply, "bad_cursor", "no line ends at this cursor");
        return { stream: hub.name, line: toWholeWireLine(line) };
      } catch (error) {
        return sendReadError(reply, error);
      }
    },
  );
}
