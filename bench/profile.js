/**
 * Profile livetrail's server under one bench: `node bench/profile.js throughput` (or fanout, ...).
 * Runs the suite once against livetrail alone with the server under `node --cpu-prof`, then prints the
 * functions with the most self time (and the files they live in) over all profiles the server wrote.
 * Numbers are not recorded in latest.json: profiling slows the server down.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import os from "node:os";
import { join, relative } from "node:path";
import { makeContext, ROOT } from "./lib/context.js";
import { stopAll } from "./lib/proc.js";
import { suites } from "./suites/index.js";

const name = process.argv[2] ?? "throughput";
const quick = process.argv.includes("--quick");
const suite = suites[name];
if (!suite) throw new Error(`unknown bench ${name}; known: ${Object.keys(suites).join(", ")}`);

const tmp = mkdtempSync(join(os.tmpdir(), "livetrail-profile-"));
const profDir = join(tmp, "profiles");
process.env.BENCH_LIVETRAIL_NODE_ARGS = `--cpu-prof --cpu-prof-dir=${profDir}`;
try {
  const ctx = makeContext({ tmp, quick, runs: 1, systems: ["livetrail"] });
  await suite(ctx);
  summarize(profDir);
} finally {
  await stopAll();
  rmSync(tmp, { recursive: true, force: true });
}

/** @param {string} dir */
function summarize(dir) {
  /** @type {Map<string, number>} */
  const self = new Map();
  /** @type {Map<string, number>} */
  const byFile = new Map();
  let total = 0;
  let files = 0;
  for (const f of readdirSync(dir).filter((x) => x.endsWith(".cpuprofile"))) {
    files++;
    const p = JSON.parse(readFileSync(join(dir, f), "utf8"));
    /** @type {Map<number, any>} */
    const nodes = new Map(p.nodes.map((/** @type {any} */ n) => [n.id, n]));
    const dts = p.timeDeltas;
    for (let i = 0; i < p.samples.length; i++) {
      const n = nodes.get(p.samples[i]);
      const dt = (dts[i] ?? 0) / 1000;
      total += dt;
      const cf = n.callFrame;
      const url = cf.url ? relative(ROOT, cf.url.replace(/^file:\/\//, "")) : "";
      const key = `${cf.functionName || "(anonymous)"}  ${url}${url ? `:${cf.lineNumber + 1}` : ""}`;
      self.set(key, (self.get(key) ?? 0) + dt);
      const fileKey = url.startsWith("dist/")
        ? url
        : url.includes("node_modules/")
          ? url.replace(/.*node_modules\/((@[^/]+\/)?[^/]+).*/, "node_modules/$1")
          : cf.functionName.startsWith("(")
            ? cf.functionName
            : "node internals";
      byFile.set(fileKey, (byFile.get(fileKey) ?? 0) + dt);
    }
  }
  const top = (/** @type {Map<string, number>} */ m, /** @type {number} */ k) =>
    [...m.entries()].sort((a, b) => b[1] - a[1]).slice(0, k);
  console.log(`\n${files} profile(s), ${total.toFixed(0)} ms sampled.\n\nSelf time by file/package:`);
  for (const [k, v] of top(byFile, 15))
    console.log(`${v.toFixed(0).padStart(8)} ms ${((100 * v) / total).toFixed(1).padStart(5)} %  ${k}`);
  console.log("\nSelf time by function:");
  for (const [k, v] of top(self, 30))
    console.log(`${v.toFixed(0).padStart(8)} ms ${((100 * v) / total).toFixed(1).padStart(5)} %  ${k}`);
}
