import { fileURLToPath } from "node:url";
import { defineConfig } from "vite";

// The dashboard: built into dist/web, served by `livetrail serve` at `/`. Relative base so it also works under
// a reverse-proxy path; no CDN, everything bundled.
export default defineConfig({
  root: fileURLToPath(new URL("./src/web", import.meta.url)),
  base: "./",
  build: {
    outDir: fileURLToPath(new URL("./dist/web", import.meta.url)),
    emptyOutDir: true,
    target: "es2022",
    // No source maps in the package: 550 kB that browsers never fetch unless devtools ask for them.
    sourcemap: false,
    // A strict CSP comes later: never inline scripts or the module preload polyfill.
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
  server: {
    proxy: {
      "/api": "http://127.0.0.1:8080",
      "/ws": { target: "ws://127.0.0.1:8080", ws: true },
    },
  },
});
