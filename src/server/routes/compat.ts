import type { FastifyInstance } from "fastify";
import type { ServerContext } from "../context.js";
import { sendError } from "./http-errors.js";

/** `GET /api/audit` (and HEAD): the default stream's file as plain text, as the old dashboard loaded it. */
export function registerCompatRoutes(app: FastifyInstance, ctx: ServerContext): void {
  // Streams from a StreamSource (serve --redis) may not be known yet: no default stream then.
  const backend = () => ctx.streams.all().find((hub) => hub.isDefault)?.backend;

  app.get("/api/audit", { exposeHeadRoute: false }, async (_request, reply) => {
    const body = (await backend()?.openRaw()) ?? null;
    if (body === null) return sendError(reply, "no_file", "the audit log does not exist (yet)");
    return reply.type("text/plain; charset=utf-8").header("cache-control", "no-store").send(body);
  });

  // Its own route: Fastify's automatic HEAD would read the whole file and report no length.
  app.head("/api/audit", async (_request, reply) => {
    const info = await backend()?.info(null);
    if (info === undefined || !info.exists) return reply.code(404).send();
    return reply
      .type("text/plain; charset=utf-8")
      .header("content-length", String(info.size))
      .header("cache-control", "no-store")
      .send();
  });
}
