/**
 * The benchmark runner: `npm run bench` runs every suite, `npm run bench -- NAME...` only those.
 * Flags: --quick (fewer, smaller runs: a smoke test of the harness), --runs N, --systems a,b, --no-build.
 * Results merge into bench/results/latest.json (suite by suite) and docs/benchmarks.md is regenerated.
 * Exits 1 when a correctness check failed (livetrail lost or duplicated a line) or a suite crashed.
 * Peers: frontail is the bench's own dependency (bench/package.json: `npm ci --prefix bench`); websocketd is
 * Debian's (`apt-get install -y websocketd`): without either, the suites that compare against it crash, and say so.
 * BENCH_LIVETRAIL_DIST=/path/to/other/checkout/dist benchmarks that build instead of this checkout's dist/ (pass
 * --no-build too, which leaves this checkout's dist/ alone), e.g. to compare two commits built in two git
 * worktrees: `BENCH_LIVETRAIL_DIST=/tmp/lt-old/dist node bench/run.js paused-catch-up --no-build`. Results
 * still go to this checkout's bench/results/latest.json and docs/benchmarks.md, stamped with its commit and,
 * as livetrailDist, the build that was measured.
 */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { makeContext, ROOT } from "./lib/context.js";
import { stopAll } from "./lib/proc.js";
import { writeReport } from "./lib/report.js";
import { suites } from "./suites/index.js";

const RESULTS = join(ROOT, "bench/results/latest.json");

function parseArgs(argv) {
  /** @type {{ names: string[], quick: boolean, noBuild: boolean, runs?: number, systems?: string[] }} */
  const o = { names: [], quick: false, noBuild: false };
  for (let i = 0; i < argv.length; i++) {
    const a = /** @type {string} */ (argv[i]);
    if (a === "--quick") o.quick = true;
    else if (a === "--no-build") o.noBuild = true;
    else if (a === "--runs") o.runs = Number(argv[++i]);
    else if (a === "--systems") o.systems = String(argv[++i]).split(",");
    else if (a.startsWith("-")) throw new Error(`unknown flag ${a}`);
    else o.names.push(a);
  }
  for (const n of o.names)
    if (!(n in suites)) throw new Error(`unknown bench ${n}; known: ${Object.keys(suites).join(", ")}`);
  return o;
}

function gitCommit() {
  try {
    return execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: ROOT }).toString().trim();
  } catch {
    return "unknown";
  }
}

/** Build dist/ so livetrail runs the current source; type errors only warn, as long as the CLI was emitted. */
function build() {
  try {
    execFileSync(
      process.execPath,
      [join(ROOT, "node_modules/typescript/bin/tsc"), "-p", "tsconfig.build.json"],
      {
        cwd: ROOT,
        stdio: "pipe",
      },
    );
  } catch (err) {
    const out = String(/** @type {any} */ (err).stdout ?? "")
      .split("\n")
      .slice(0, 5)
      .join("\n");
    console.log(`! tsc reported errors (livetrail is benchmarked as emitted):\n${out}`);
  }
}

async function main() {
  const args = parseArgs(process.argv.slice(2));
  if (!args.noBuild) build();
  const names = args.names.length ? args.names : Object.keys(suites);
  const tmp = mkdtempSync(join(os.tmpdir(), "livetrail-bench-"));
  const ctx = makeContext({ tmp, quick: args.quick, runs: args.runs, systems: args.systems });
  const previous = existsSync(RESULTS) ? JSON.parse(readFileSync(RESULTS, "utf8")) : { benches: {} };
  const results = { ...previous, benches: { ...previous.benches } };
  const t0 = Date.now();
  let crashed = false;
  const onSignal = async () => {
    console.log("\ninterrupted: stopping every process the bench started");
    await stopAll();
    rmSync(tmp, { recursive: true, force: true });
    process.exit(130);
  };
  process.once("SIGINT", onSignal);
  process.once("SIGTERM", onSignal);
  try {
    for (const name of names) {
      const s0 = Date.now();
      const loadBefore = os.loadavg().map((x) => Math.round(x * 10) / 10);
      console.log(`== ${name} (load average ${loadBefore.join(" ")})`);
      try {
        const failuresBefore = ctx.failures.length;
        const result = await /** @type {(c: typeof ctx) => Promise<object>} */ (suites[name])(ctx);
        results.benches[name] = {
          ...result,
          // The machine is shared: the load average says how noisy this bench's numbers are.
          loadAvg: { before: loadBefore, after: os.loadavg().map((x) => Math.round(x * 10) / 10) },
          at: new Date().toISOString(),
          commit: gitCommit(),
          // Another build than this checkout's was measured: say which.
          ...(process.env.BENCH_LIVETRAIL_DIST ? { livetrailDist: process.env.BENCH_LIVETRAIL_DIST } : {}),
          seconds: Math.round((Date.now() - s0) / 100) / 10,
          quick: ctx.quick,
          failures: ctx.failures.slice(failuresBefore),
        };
      } catch (err) {
        crashed = true;
        console.log(`!! ${name} crashed: ${/** @type {Error} */ (err).stack}`);
        results.benches[name] = {
          error: String(/** @type {Error} */ (err).message),
          at: new Date().toISOString(),
        };
      } finally {
        await stopAll();
      }
      console.log(`   ${name}: ${((Date.now() - s0) / 1000).toFixed(1)} s`);
    }
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  results.meta = {
    at: new Date().toISOString(),
    commit: gitCommit(),
    node: process.version,
    cpu: os.cpus()[0]?.model ?? "unknown",
    cores: os.cpus().length,
    memGiB: Math.round(os.totalmem() / 2 ** 30),
    lastRun: { suites: names, seconds: Math.round((Date.now() - t0) / 1000), quick: ctx.quick },
    // How long the whole suite takes, kept across partial runs.
    lastFullRun:
      names.length === Object.keys(suites).length && !ctx.quick
        ? { at: new Date().toISOString(), seconds: Math.round((Date.now() - t0) / 1000) }
        : previous.meta?.lastFullRun,
  };
  mkdirSync(join(ROOT, "bench/results"), { recursive: true });
  writeFileSync(RESULTS, `${JSON.stringify(results, null, 2)}\n`);
  writeReport(results, join(ROOT, "docs/benchmarks.md"));
  console.log(`wrote ${RESULTS} and docs/benchmarks.md in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
  if (ctx.failures.length || crashed) {
    console.log(
      `bench FAILED: ${ctx.failures.length} correctness failure(s)${crashed ? ", a suite crashed" : ""}`,
    );
    process.exitCode = 1;
  }
}

main().catch(async (err) => {
  console.error(err);
  await stopAll();
  process.exit(1);
});
