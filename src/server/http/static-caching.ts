import type { Stats } from "node:fs";
import { sep } from "node:path";
import type { FastifyReply } from "fastify";

/** Vite names every file under assets/ by its content hash: a new build is a new URL, so it may be kept forever. */
const IMMUTABLE = "public, max-age=31536000, immutable";
/** Everything else (index.html names the current hashes) is checked with the server on each use. */
const REVALIDATE = "no-cache";

/** @fastify/static's setHeaders: the Cache-Control of a dashboard file by where it lives. */
export function cacheHeaders(reply: FastifyReply, path: string, _stat?: Stats): void {
  reply.header("cache-control", path.includes(`${sep}assets${sep}`) ? IMMUTABLE : REVALIDATE);
}

/** The @fastify/static options that serve the build's .br/.gz copies and set the caching above. */
export const STATIC_DELIVERY = {
  preCompressed: true,
  cacheControl: false,
  setHeaders: cacheHeaders,
} as const;
