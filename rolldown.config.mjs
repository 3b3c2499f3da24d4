import { readFileSync } from "node:fs";
import { dirname, join, relative } from "node:path";
import { fileURLToPath } from "node:url";

/**
 * The CLI and the library as one set of modules plus the chunks they load lazily. The input is tsc's output;
 * dist/bin/ sits two levels below the package root like the modules it bundles, so their package-root paths
 * (package.json, dist/web) still hold.
 *
 * What is bundled and what is not (docs/deploy.md#the-npm-package): every package in package.json
 * `dependencies` stays an import that npm installs; everything else the code imports is bundled. Bundled are our
 * own ~300 modules (Node loads a few files at startup instead of them) and @fastify/cookie and @fastify/static
 * (devDependencies), whose newest releases pull in ESM-only helpers that declare Node >= 22 (cookie 2,
 * content-disposition 3): the bundle carries the same API's CommonJS builds (package.json `overrides`: cookie
 * 1.1.1, content-disposition 2.0.1, Node >= 18), so an install never fetches a package that excludes Node 20.
 * No source maps: the code keeps its names (no mangling, no rewriting), so stack traces name our functions; only
 * whitespace is removed, which keeps the tarball under 1.5 MB with the precompressed dashboard (1.33 -> 1.01 MB).
 * The library's types go along as dist/bin/types/: only the declarations dist/index.d.ts reaches (half of tsc's).
 */
const { dependencies } = JSON.parse(readFileSync(new URL("./package.json", import.meta.url), "utf8"));
const installed = new Set(Object.keys(dependencies));

/** The package a bare specifier names ("@fastify/helmet/x" -> "@fastify/helmet"), or null for a path. */
function packageOf(id) {
  if (id.startsWith(".") || id.startsWith("/") || id.startsWith("node:")) return null;
  const parts = id.split("/");
  return id.startsWith("@") ? parts.slice(0, 2).join("/") : parts[0];
}

const ROOT = fileURLToPath(new URL(".", import.meta.url));

/** Emits dist/index.d.ts and every declaration file it reaches by relative import as types/... in the output. */
const libraryTypes = {
  name: "library-types",
  generateBundle() {
    const dist = join(ROOT, "dist");
    const pending = [join(dist, "index.d.ts")];
    const seen = new Set();
    for (let file = pending.pop(); file !== undefined; file = pending.pop()) {
      if (seen.has(file)) continue;
      seen.add(file);
      const source = readFileSync(file, "utf8");
      this.emitFile({ type: "asset", fileName: `types/${relative(dist, file)}`, source });
      for (const [, specifier] of source.matchAll(/(?:from\s+|import\()"(\.[^"]+)\.js"/g))
        pending.push(join(dirname(file), `${specifier}.d.ts`));
    }
  },
};

export default {
  input: {
    main: "dist/cli/main.js",
    // The library ("livetrail" in package.json exports).
    index: "dist/index.js",
    // The alert rule worker (src/alerts/engine-thread.ts starts it from dist/bin/ whichever module runs).
    "alerts-engine-worker": "dist/alerts/engine-worker.js",
    // The integrity seal worker (src/server/integrity/seal-thread.ts starts it from dist/bin/).
    "integrity-seal-worker": "dist/server/integrity/seal-worker.js",
  },
  platform: "node",
  external: (id) => installed.has(packageOf(id) ?? ""),
  plugins: [libraryTypes],
  output: {
    dir: "dist/bin",
    format: "esm",
    sourcemap: false,
    minify: { compress: false, mangle: false, codegen: { removeWhitespace: true } },
    cleanDir: true,
    entryFileNames: "[name].js",
    // Content-hashed chunks: a process still running an older main.js keeps finding the chunks it was built
    // with while test/global-setup.ts publishes a new build next to them.
    chunkFileNames: "[name]-[hash].js",
  },
};
