import { constants } from "node:zlib";
import fastifyCompress from "@fastify/compress";
import type { FastifyInstance } from "fastify";

/**
 * Compressible types, except Server-Sent Events: a compressor buffers until it has a block, which would hold
 * SSE events back (SSE responses are written raw, after hijack, so they never reach the plugin anyway).
 */
const COMPRESSIBLE = /^(?:text\/(?!event-stream)|application\/(?:json|javascript|x-ndjson)|image\/svg\+xml)/;

/**
 * Compression of responses on the fly: API JSON, `/api/audit` (a stream piped through the compressor, so a
 * 200 MB log keeps flowing in bounded memory) and any static file that has no precompressed copy. Brotli at
 * quality 4 and gzip at 6: close to their best ratio on log text at a fraction of the CPU of the maximum (which
 * only the build's precompressed assets use). A response that already has Content-Encoding is left alone.
 */
export async function registerCompression(app: FastifyInstance): Promise<void> {
  await app.register(fastifyCompress, {
    global: true,
    threshold: 1024,
    encodings: ["br", "gzip"],
    customTypes: COMPRESSIBLE,
    brotliOptions: { params: { [constants.BROTLI_PARAM_QUALITY]: 4 } },
    zlibOptions: { level: 6 },
  });
}
