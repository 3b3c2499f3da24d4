import type { FastifyInstance } from "fastify";
import type { ServerContext } from "../context.js";

/**
 * `GET /healthz` (liveness plus a glance at the streams) and `GET /metrics` (Prometheus). /healthz answers
 * everyone, so with authentication on it names the streams and counts clients only for a caller with valid
 * credentials: the rest of the world learns that the server is up, nothing about what it serves.
 */
export function registerHealthRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get("/healthz", async (request, reply) => {
    const status = ctx.closing ? "closing" : "ok";
    reply.header("cache-control", "no-store");
    if (ctx.options.security.authRequired && request.principal === null) return reply.send({ status });
    const streams = ctx.streams.all().map((hub) => ({ name: hub.name, following: hub.cursor !== null }));
    return reply.send({ status, clients: ctx.connections.size, streams });
  });

  app.get("/metrics", async (_request, reply) => {
    const registry = await ctx.metrics();
    const text = await registry.metrics();
    return reply.type(registry.contentType).header("cache-control", "no-store").send(text);
  });
}
