import { existsSync } from "node:fs";
import fastifyStatic from "@fastify/static";
import type { FastifyInstance } from "fastify";
import { STATIC_DELIVERY } from "../http/static-caching.js";

const NOT_BUILT = `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>livetrail</title></head>
<body><h1>livetrail</h1>
<p>The dashboard is not built. Run <code>npm run build</code> (it writes <code>dist/web</code>), then reload.</p>
<p>The API works without it: <a href="/api/streams">/api/streams</a>, <a href="/api/audit">/api/audit</a>,
<a href="/healthz">/healthz</a>, <a href="/metrics">/metrics</a>.</p>
</body></html>
`;

/** The built web app at `/` when `dir` exists, else a page saying it is not built. */
export async function registerDashboard(app: FastifyInstance, dir: string | null): Promise<void> {
  if (dir !== null && existsSync(dir)) {
    await app.register(fastifyStatic, {
      root: dir,
      prefix: "/",
      index: ["index.html"],
      wildcard: true,
      ...STATIC_DELIVERY,
    });
    return;
  }
  app.get("/", async (_request, reply) => reply.type("text/html; charset=utf-8").send(NOT_BUILT));
}
