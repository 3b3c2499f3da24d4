import type { FastifyInstance } from "fastify";
import type { ServerContext } from "../context.js";

/** `GET /healthz` (liveness plus a glance at the streams) and `GET /metrics` (Prometheus). */
export function registerHealthRoutes(app: FastifyInstance, ctx: ServerContext): void {
  app.get("/healthz", async (_request, reply) => {
    const streams = ctx.streams.all().map((hub) => ({ name: hub.name, following: hub.position !== null }));
    return reply.header("cache-control", "no-store").send({
      status: ctx.closing ? "closing" : "ok",
      clients: ctx.connections.size,
      streams,
    });
  });

  app.get("/metrics", async (_request, reply) => {
    const registry = await ctx.metrics();
    const text = await registry.metrics();
    return reply.type(registry.contentType).header("cache-control", "no-store").send(text);
  });
}
