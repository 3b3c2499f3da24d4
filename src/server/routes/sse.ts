import type { FastifyInstance } from "fastify";
import { MAX_TAIL } from "../../protocol/client-message.js";
import type { ServerContext } from "../context.js";
import { SseSession } from "../sse-session.js";
import { sendError } from "./http-errors.js";

/**
 * `GET /api/streams/:name/events`: the stream as Server-Sent Events. Resumes after `Last-Event-ID` (what browsers
 * send on reconnect) or `?since=CURSOR`; else starts with `?tail=N` recent lines (default 0: live only).
 */
export function registerSseRoute(app: FastifyInstance, ctx: ServerContext): void {
  app.get<{ Params: { name: string }; Querystring: Record<string, string | undefined> }>(
    "/api/streams/:name/events",
    (request, reply) => {
      const hub = ctx.streams.get(request.params.name);
      if (hub === undefined)
        return sendError(reply, "unknown_stream", `no stream named "${request.params.name}"`);
      if (ctx.closing) return sendError(reply, "shutting_down", "the server is shutting down");
      const header = request.headers["last-event-id"];
      const since = (Array.isArray(header) ? header[0] : header) || request.query.since || undefined;
      let tail = 0;
      if (since !== undefined) {
        try {
          hub.backend.check(since);
        } catch (error) {
          return sendError(reply, "bad_cursor", (error as Error).message);
        }
      } else if (request.query.tail !== undefined) {
        tail = Number(request.query.tail);
        if (!/^\d{1,6}$/.test(request.query.tail) || tail > MAX_TAIL) {
          return sendError(reply, "bad_request", `tail must be an integer 0..${MAX_TAIL}`);
        }
      }
      reply.hijack();
      const session = new SseSession(reply.raw, hub, {
        maxBufferedBytes: ctx.options.maxBufferedBytes,
        delivery: ctx.delivery,
        retryMs: 2000,
        onClose: (s) => {
          ctx.connections.delete(s);
          ctx.heartbeat.delete(s);
        },
      });
      ctx.connections.add(session);
      ctx.heartbeat.add(session);
      void session.start(since !== undefined ? { since } : { tail });
      return reply;
    },
  );
}
