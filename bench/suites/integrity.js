/**
 * Integrity of sealed logs (issue 13, docs/integrity.md), by running the two standalone scripts as child
 * processes and reading the JSON they print (their stderr progress is passed through):
 *   1. bench/integrity-verify.js, once per run (one round each): sealFile catch-up CPU, sidecar size and `verify`
 *      lines/s and CPU (all threads) on a file of 100-byte lines;
 *   2. bench/integrity-serve.js, once: the burst with sealing off and on, interleaved round by round (lines/s,
 *      the server main thread's CPU, when the newest checkpoint covers the burst), then inclusion and consistency
 *      proof latency over HTTP on one sealed log of 10M lines (1M in quick mode).
 * The scripts measure this checkout's dist/ (not BENCH_LIVETRAIL_DIST). Their temp files go under the run's
 * temp dir (TMPDIR), so the runner removes them even when a script is stopped half way.
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "../lib/context.js";
import { stopTree, track, untrack } from "../lib/proc.js";
import { summarizeRecords } from "../lib/stats.js";

/**
 * Run a bench script with node; resolves its stdout parsed as JSON, rejects when it exits non-zero.
 * @param {import("../lib/context.js").Context} ctx
 * @param {string} script path under bench/
 * @param {string[]} args
 * @returns {Promise<any>}
 */
function runScript(ctx, script, args) {
  const child = spawn(process.execPath, [join(ROOT, "bench", script), ...args], {
    cwd: ROOT,
    env: { ...process.env, TMPDIR: ctx.tmp },
    stdio: ["ignore", "pipe", "pipe"],
  });
  const pid = /** @type {number} */ (child.pid);
  const exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  track(pid, () => stopTree(pid, exited));
  let out = "";
  let err = "";
  child.stdout.on("data", (d) => {
    out += d;
  });
  child.stderr.on("data", (d) => {
    err = (err + d).slice(-4096);
    for (const l of String(d).trimEnd().split("\n")) ctx.log(`    ${script}: ${l}`);
  });
  return exited.then((code) => {
    untrack(pid);
    if (code !== 0) throw new Error(`${script} ${args.join(" ")} exited ${code}: ${err.trim()}`);
    return JSON.parse(out);
  });
}

/** @param {import("../lib/context.js").Context} ctx */
export async function integrity(ctx) {
  const verifyLines = ctx.quick ? 100_000 : 1_000_000;
  const burst = ctx.quick ? 100_000 : 1_000_000;
  const proofLines = ctx.quick ? 1_000_000 : 10_000_000;
  const proofs = ctx.quick ? 100 : 300;
  const params = {
    lineBytes: 100,
    verify: { lines: verifyLines, checkpointEveryLines: 1000, runs: ctx.runs },
    burst: { lines: burst, rounds: ctx.runs },
    proofs: { lines: proofLines, checkpointEveryLines: 100_000, requestsEach: proofs },
  };
  if (!ctx.systems.includes("livetrail")) return { skipped: "livetrail only", params };

  /** @type {Record<string, number>[]} */
  const verify = [];
  for (let run = 0; run < ctx.runs; run++) {
    const v = await runScript(ctx, "integrity-verify.js", [String(verifyLines), "1"]);
    const rec = {
      linesPerSec: v.verifyLinesPerSecond,
      cpuSPerMillion: v.verifyCpuMsPerMillionLines / 1000,
      sealCpuSPerMillion: v.sealCpuMsPerMillionLines / 1000,
      sealSPerMillion: v.sealMsPerMillionLines / 1000,
      sidecarMBPerMillion: v.sidecarBytesPerMillionLines / 2 ** 20,
    };
    verify.push(rec);
    ctx.log(
      `  integrity verify run ${run + 1}: ${verifyLines} lines at ${rec.linesPerSec} lines/s ` +
        `(${rec.cpuSPerMillion.toFixed(2)} CPU s per 1M, all threads); sealFile ${rec.sealSPerMillion.toFixed(2)} s, ` +
        `${rec.sealCpuSPerMillion.toFixed(2)} CPU s per 1M; sidecar ${rec.sidecarMBPerMillion.toFixed(1)} MB per 1M`,
    );
  }

  const s = await runScript(ctx, "integrity-serve.js", [
    "--rounds",
    String(ctx.runs),
    "--burst",
    String(burst),
    "--proof-lines",
    String(proofLines),
    "--proofs",
    String(proofs),
  ]);
  const perMillion = 1_000_000 / burst;
  /** @param {"off" | "on"} mode */
  const side = (mode) =>
    s.burst[mode].linesPerSec.map((/** @type {number} */ rate, /** @type {number} */ i) => ({
      linesPerSec: rate,
      mainThreadCpuSPerMillion: s.burst[mode].mainThreadCpuSeconds[i] * perMillion,
      serverCpuSPerMillion: s.burst[mode].serverCpuSeconds[i] * perMillion,
      burstMaxLoopDelayMs: s.burst[mode].burstMaxLoopDelayMs[i],
      probeP50Ms: s.burst[mode].probeP50Ms[i],
      ...(mode === "on"
        ? {
            sealedAfterSeconds: s.burst.on.sealedAfterSeconds[i],
            // Round i ran both modes back to back: the ratio compares neighbours on the shared machine.
            ratioToOff: rate / s.burst.off.linesPerSec[i],
          }
        : {}),
    }));
  const off = side("off");
  const on = side("on");
  for (const [i, r] of on.entries()) {
    ctx.log(
      `  integrity burst round ${i + 1}: off ${Math.round(off[i]?.linesPerSec ?? Number.NaN)} lines/s, ` +
        `on ${Math.round(r.linesPerSec)} lines/s (ratio ${r.ratioToOff.toFixed(3)}), main thread ` +
        `${r.mainThreadCpuSPerMillion.toFixed(2)} CPU s per 1M on, checkpoint covers the burst after ${r.sealedAfterSeconds} s`,
    );
  }
  const p = s.proofs;
  ctx.log(
    `  integrity proofs on ${p.lines} lines (sealed in ${p.sealSeconds.toFixed(1)} s): inclusion p50 ` +
      `${p.inclusion.p50Ms.toFixed(2)} p99 ${p.inclusion.p99Ms.toFixed(2)} ms, consistency p50 ` +
      `${p.consistency.p50Ms.toFixed(2)} p99 ${p.consistency.p99Ms.toFixed(2)} ms`,
  );
  return {
    params,
    systems: {
      verify: summarizeRecords(verify),
      "burst-off": summarizeRecords(off),
      "burst-on": summarizeRecords(on),
      proofs: summarizeRecords([
        {
          inclusionP50Ms: p.inclusion.p50Ms,
          inclusionP99Ms: p.inclusion.p99Ms,
          inclusionMaxMs: p.inclusion.maxMs,
          consistencyP50Ms: p.consistency.p50Ms,
          consistencyP99Ms: p.consistency.p99Ms,
          consistencyMaxMs: p.consistency.maxMs,
          sealSeconds: p.sealSeconds,
        },
      ]),
    },
  };
}
