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
    const text = await ctx.metrics.metrics();
    return reply.type(ctx.metrics.contentType).header("cache-control", "no-store").send(text);
  });
}
