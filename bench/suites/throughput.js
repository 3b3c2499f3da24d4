/**
 * 2. Throughput: a burst of ~100-byte lines appended as fast as the disk takes them (64 KiB writes that cut
 * lines anywhere); time until one client has them all, lost/duplicated/mangled counts (any for livetrail
 * fails the run), the server's peak RSS and CPU seconds. livetrail gets 1,000,000 lines and, for a like-for-like
 * ratio, the 200,000 the peers get (they need seconds per 100k lines).
 */
import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ClientPool } from "../lib/client-pool.js";
import { buildBurst, makeLine, writeBurst } from "../lib/lines.js";
import { nowMs, procStat, startSampler } from "../lib/proc.js";
import { summarizeRecords } from "../lib/stats.js";
import { systems } from "../lib/systems/index.js";
import { livetrailCounters } from "../lib/systems/livetrail.js";

/** @param {import("../lib/context.js").Context} ctx */
export async function throughput(ctx) {
  const big = ctx.quick ? 200_000 : 1_000_000;
  const small = ctx.quick ? 50_000 : 200_000;
  /** @type {{ key: string, system: string, lines: number }[]} */
  const variants = [];
  for (const s of ctx.systems) {
    if (s === "livetrail") variants.push({ key: "livetrail-1m", system: s, lines: big });
    variants.push({ key: s, system: s, lines: small });
  }
  /** @type {Record<string, Record<string, number>[]>} */
  const records = Object.fromEntries(variants.map((v) => [v.key, []]));
  const bursts = new Map([...new Set(variants.map((v) => v.lines))].map((n) => [n, buildBurst(n)]));
  const pool = new ClientPool(1);
  try {
    for (let run = 0; run < ctx.runs; run++) {
      for (const v of variants) {
        const file = join(ctx.tmp, `throughput-${v.key}-${run}.log`);
        writeFileSync(file, "");
        const server = await /** @type {import("../lib/systems/types.js").System} */ (
          systems[v.system]
        ).start({ file });
        try {
          const c = await pool.connect(v.system, server.target, 1);
          if (c.failed) throw new Error(`${v.key}: could not connect: ${c.errorSamples.join("; ")}`);
          let primer = -1;
          await pool.primeAll(() => appendFileSync(file, makeLine(primer--)));
          await pool.track(0, v.lines, { verify: true, burst: true });
          const sampler = startSampler(server.pid, 50);
          const clientCpu0 = pool.cpuSeconds();
          const t0 = nowMs();
          const settled = pool.settle({ stallMs: 5000, timeoutMs: 120_000 });
          writeBurst(file, /** @type {Buffer} */ (bursts.get(v.lines)));
          const writtenMs = nowMs() - t0;
          const s = await settled;
          const res = sampler.stop();
          const clientCpu = pool.cpuSeconds() - clientCpu0;
          const r = await pool.report();
          const ms = s.complete ? s.at - t0 : Number.NaN;
          const hwm = procStat(server.pid)?.hwm ?? 0;
          const counters = v.system === "livetrail" ? await livetrailCounters(server.port) : {};
          const rec = {
            seconds: ms / 1000,
            linesPerSec: s.complete ? v.lines / (ms / 1000) : Number.NaN,
            writeSeconds: writtenMs / 1000,
            lost: r.lost,
            dup: r.dup,
            mangled: r.mangled,
            lossSum: r.lost + r.dup + r.mangled,
            peakRssMB: Math.max(res.peakRss, hwm) / 2 ** 20,
            cpuSeconds: res.cpuS,
            clientCpuSeconds: clientCpu,
            // livetrail only: times the client fell 4 MiB behind and was caught up from memory or the file.
            catchUps: counters.livetrail_slow_client_catchups_total ?? Number.NaN,
          };
          records[v.key]?.push(rec);
          ctx.log(
            `  throughput ${v.key} run ${run + 1}: ${v.lines} lines in ${rec.seconds.toFixed(2)} s ` +
              `(${Math.round(rec.linesPerSec)} lines/s), lost ${r.lost} dup ${r.dup} mangled ${r.mangled}, ` +
              `peak RSS ${rec.peakRssMB.toFixed(0)} MB, CPU ${rec.cpuSeconds.toFixed(2)} s (client ${clientCpu.toFixed(2)} s)` +
              (v.system === "livetrail" ? `, slow-client catch-ups ${rec.catchUps}` : ""),
          );
          if (v.system === "livetrail" && (r.lost || r.dup || r.mangled || r.gaps)) {
            ctx.fail(
              `throughput ${v.key}: lost ${r.lost}, duplicated ${r.dup}, mangled ${r.mangled}, gaps ${r.gaps}`,
            );
          }
        } finally {
          await pool.disconnectAll();
          await server.stop();
        }
      }
    }
  } finally {
    await pool.close();
  }
  return {
    params: { livetrailLines: big, peerLines: small, lineBytes: 100, runs: ctx.runs },
    systems: Object.fromEntries(Object.entries(records).map(([k, recs]) => [k, summarizeRecords(recs)])),
  };
}
