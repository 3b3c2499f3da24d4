/**
 * The CLI as one module plus the chunks it loads lazily (TLS certificate generation, metrics): Node then loads
 * one file at startup instead of ~300, which takes ~190 ms off spawn-to-listening here (610 -> 430 ms). A second
 * entries are the alert rule worker and the integrity seal worker (their own threads load them).
 * The input is tsc's output; dist/bin/ sits two levels below the package root like the modules it bundles, so
 * their package-root paths (package.json, dist/web) still hold.
 */
export default {
  input: {
    main: "dist/cli/main.js",
    // The alert rule worker (src/alerts/engine-thread.ts starts it from dist/bin/ whichever module runs).
    "alerts-engine-worker": "dist/alerts/engine-worker.js",
    // The integrity seal worker (src/server/integrity/seal-thread.ts starts it from dist/bin/).
    "integrity-seal-worker": "dist/server/integrity/seal-worker.js",
  },
  platform: "node",
  output: {
    dir: "dist/bin",
    format: "esm",
    sourcemap: true,
    cleanDir: true,
    entryFileNames: "[name].js",
    // Content-hashed chunks: a process still running an older main.js keeps finding the chunks it was built
    // with while test/global-setup.ts publishes a new build next to them.
    chunkFileNames: "[name]-[hash].js",
  },
};
