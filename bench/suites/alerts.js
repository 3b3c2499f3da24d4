/**
 * Alert rules on the hot path, end to end: a real server (`serve FILE --config`) and one real WebSocket client
 * receive a burst of ~100-byte audit lines (a few percent say something the rules look for: lib/alert-rules.js),
 * with no rules, with 50 mixed rules evaluated on the main thread (`alerts.thread: false`), and with the same 50
 * in the rule worker (the default). Per variant: lines/s until the client has them all, the main thread's CPU
 * per line (/proc/PID/task/PID/stat: the thread that reads, taps and sends), the whole process's CPU and the
 * client's (both on the same 2 cores), lines the worker was too far behind to evaluate (/metrics), and
 * lost/duplicated lines (any fails the run). The variants alternate within each run, so drift on the shared
 * machine hits them alike; the ratio is per run.
 */
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildAlertBurst, rules50 } from "../lib/alert-rules.js";
import { ClientPool } from "../lib/client-pool.js";
import { makeLine, writeBurst } from "../lib/lines.js";
import { nowMs, procStat, startSampler } from "../lib/proc.js";
import { summarizeRecords } from "../lib/stats.js";
import { livetrail, livetrailCounters } from "../lib/systems/livetrail.js";

const CLK_TCK = 100;

/** CPU seconds of one thread of a process (the main thread's id is the process id). */
function threadCpuSeconds(/** @type {number} */ pid, /** @type {number} */ tid) {
  const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return (Number(f[11]) + Number(f[12])) / CLK_TCK;
}

/** @param {import("../lib/context.js").Context} ctx */
export async function alerts(ctx) {
  if (!ctx.systems.includes("livetrail")) return { skipped: "livetrail only" };
  const lines = ctx.quick ? 200_000 : 1_000_000;
  const variants = [
    { key: "no-rules", alerts: null },
    { key: "rules-main-thread", alerts: { rules: rules50(false), thread: false } },
    { key: "rules-worker", alerts: { rules: rules50(false) } },
  ];
  /** @type {Record<string, Record<string, number>[]>} */
  const records = Object.fromEntries(variants.map((v) => [v.key, []]));
  /** @type {Record<string, number[]>} */
  const ratios = { "rules-main-thread": [], "rules-worker": [] };
  const burst = buildAlertBurst(lines);
  const pool = new ClientPool(1);
  try {
    for (let run = 0; run < ctx.runs; run++) {
      /** @type {Record<string, number>} */
      const rates = {};
      for (const v of variants) {
        const file = join(ctx.tmp, `alerts-${v.key}-${run}.log`);
        writeFileSync(file, "");
        const args = [];
        if (v.alerts !== null) {
          const config = join(ctx.tmp, `alerts-${v.key}-${run}.json`);
          writeFileSync(config, JSON.stringify({ alerts: v.alerts }));
          args.push("--config", config);
        }
        const server = await livetrail.start({ file, args });
        try {
          const c = await pool.connect("livetrail", server.target, 1);
          if (c.failed) throw new Error(`${v.key}: could not connect: ${c.errorSamples.join("; ")}`);
          let primer = -1;
          await pool.primeAll(() => appendFileSync(file, makeLine(primer--)));
          // No content check: the burst's lines carry words for the rules (lost and duplicated lines still count).
          await pool.track(0, lines, { verify: false, burst: true });
          const sampler = startSampler(server.pid, 50);
          const main0 = threadCpuSeconds(server.pid, server.pid);
          const clientCpu0 = pool.cpuSeconds();
          const t0 = nowMs();
          const settled = pool.settle({ stallMs: 5000, timeoutMs: 120_000 });
          writeBurst(file, burst);
          const s = await settled;
          const main = threadCpuSeconds(server.pid, server.pid) - main0;
          const clientCpu = pool.cpuSeconds() - clientCpu0;
          const res = sampler.stop();
          const r = await pool.report();
          const ms = s.complete ? s.at - t0 : Number.NaN;
          const counters = await livetrailCounters(server.port);
          const rec = {
            seconds: ms / 1000,
            linesPerSec: s.complete ? lines / (ms / 1000) : Number.NaN,
            mainThreadNsPerLine: (main * 1e9) / lines,
            processCpuSeconds: res.cpuS,
            // With the server's, what the two cores had to do: the client runs on the same machine.
            clientCpuSeconds: clientCpu,
            peakRssMB: Math.max(res.peakRss, procStat(server.pid)?.hwm ?? 0) / 2 ** 20,
            linesDropped: counters.livetrail_alerts_lines_dropped_total ?? 0,
            lost: r.lost,
            dup: r.dup,
          };
          records[v.key]?.push(rec);
          rates[v.key] = rec.linesPerSec;
          ctx.log(
            `  alerts ${v.key} run ${run + 1}: ${lines} lines in ${rec.seconds.toFixed(2)} s ` +
              `(${Math.round(rec.linesPerSec)} lines/s), main thread ${rec.mainThreadNsPerLine.toFixed(0)} ns/line, ` +
              `process CPU ${rec.processCpuSeconds.toFixed(2)} s (client ${clientCpu.toFixed(2)} s), peak RSS ${rec.peakRssMB.toFixed(0)} MB, ` +
              `rule lines dropped ${rec.linesDropped}, lost ${r.lost} dup ${r.dup}`,
          );
          if (r.lost || r.dup || r.gaps) {
            ctx.fail(`alerts ${v.key}: lost ${r.lost}, duplicated ${r.dup}, gaps ${r.gaps}`);
          }
        } finally {
          await pool.disconnectAll();
          await server.stop();
        }
      }
      const none = rates["no-rules"] ?? Number.NaN;
      for (const k of Object.keys(ratios)) ratios[k]?.push((rates[k] ?? Number.NaN) / none);
    }
  } finally {
    await pool.close();
  }
  const systems = Object.fromEntries(Object.entries(records).map(([k, recs]) => [k, summarizeRecords(recs)]));
  for (const [k, rs] of Object.entries(ratios)) {
    systems[k] = { ...systems[k], ...summarizeRecords(rs.map((ratio) => ({ ratioToNoRules: ratio }))) };
  }
  return { params: { lines, lineBytes: 100, rules: 50, runs: ctx.runs }, systems };
}
