// Writes FILE.br and FILE.gz next to every compressible file of the built dashboard (default dist/web), so the
// server sends them as they are (@fastify/static preCompressed) instead of compressing each response again.
// Maximum levels: this runs once per build, not per request. Run after `vite build`.
import { readdir, readFile, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { brotliCompressSync, constants, gzipSync } from "node:zlib";

const COMPRESSIBLE = /\.(?:js|mjs|css|html|svg|json|txt|map|wasm)$/;
/** Below this a compressed copy saves less than a packet and costs a second file. */
const MIN_BYTES = 1024;

async function* files(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* files(path);
    else if (entry.isFile() && COMPRESSIBLE.test(entry.name)) yield path;
  }
}

const root = process.argv[2] ?? "dist/web";
let raw = 0;
let br = 0;
let gz = 0;
for await (const path of files(root)) {
  if ((await stat(path)).size < MIN_BYTES) continue;
  const data = await readFile(path);
  const brotli = brotliCompressSync(data, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_SIZE_HINT]: data.length,
    },
  });
  const gzip = gzipSync(data, { level: 9 });
  await writeFile(`${path}.br`, brotli);
  await writeFile(`${path}.gz`, gzip);
  raw += data.length;
  br += brotli.length;
  gz += gzip.length;
}
console.log(`precompress: ${root}: ${raw} bytes -> br ${br}, gzip ${gz}`);
