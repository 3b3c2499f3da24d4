/**
 * 5. Slow clients: 10 clients that stop reading (their sockets paused) plus one normal client, while
 * 1 KB lines arrive at 5,000/s (5 MB/s per client, far more than the kernel's socket buffers absorb).
 * The normal client's latency in the first and second half, and the server's RSS at the end of each half:
 * both should stay flat. livetrail must not lose or duplicate a line for the normal client.
 */
import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ClientPool } from "../lib/client-pool.js";
import { makeLine, writePaced } from "../lib/lines.js";
import { startSampler, treeStat } from "../lib/proc.js";
import { summarizeRecords } from "../lib/stats.js";
import { systems } from "../lib/systems/index.js";
import { livetrailCounters } from "../lib/systems/livetrail.js";

const SLOW = 10;
const EXTRA = `payload=${"p".repeat(890)}`;

/** @param {import("../lib/context.js").Context} ctx */
export async function slowClients(ctx) {
  const rate = 5000;
  const halfSeconds = ctx.quick ? 2 : 5;
  /** @type {Record<string, Record<string, number>[]>} */
  const records = Object.fromEntries(ctx.systems.map((s) => [s, []]));
  const runs = Math.min(ctx.runs, 2);
  for (let run = 0; run < runs; run++) {
    for (const s of ctx.systems) records[s]?.push(await slowRun(ctx, s, run, rate, halfSeconds));
  }
  return {
    params: {
      slowClients: SLOW,
      lineBytes: 1000,
      linesPerSec: rate,
      seconds: 2 * halfSeconds,
      runs,
    },
    systems: Object.fromEntries(Object.entries(records).map(([k, recs]) => [k, summarizeRecords(recs)])),
  };
}

/**
 * @param {import("../lib/context.js").Context} ctx
 * @param {string} name
 * @param {number} run
 * @param {number} rate
 * @param {number} halfSeconds
 */
async function slowRun(ctx, name, run, rate, halfSeconds) {
  const file = join(ctx.tmp, `slow-${name}-${run}.log`);
  writeFileSync(file, "");
  const server = await /** @type {import("../lib/systems/types.js").System} */ (systems[name]).start({
    file,
  });
  const pool = new ClientPool(1);
  try {
    await pool.connect(name, server.target, SLOW, { concurrency: SLOW });
    await pool.connect(name, server.target, 1);
    let primer = -1;
    await pool.primeAll(() => appendFileSync(file, makeLine(primer--)));
    await pool.pause(SLOW);
    const rss0 = treeStat(server.pid).rss;
    const sampler = startSampler(server.pid, 200);
    const half = rate * halfSeconds;
    /** @type {{ p50: number, p99: number, rss: number, lost: number, dup: number, gaps: number }[]} */
    const halves = [];
    for (let h = 0; h < 2; h++) {
      // Only the normal client completes: track its lines, settle on "no progress" for the slow ones.
      await pool.track(h * half, half);
      const batch = rate / 100; // a write every 10 ms
      await writePaced(file, {
        count: half / batch,
        intervalMs: 10,
        firstSeq: h * half,
        batch,
        extra: EXTRA,
      });
      await pool.settle({ stallMs: 3000, timeoutMs: 30_000, need: 1 });
      const r = await pool.report();
      // Paused sockets deliver nothing, so the latency histogram is the normal client's alone.
      halves.push({
        p50: r.latency.p50,
        p99: r.latency.p99,
        rss: treeStat(server.pid).rss,
        lost: r.last?.lost ?? half,
        dup: r.last?.dup ?? 0,
        gaps: r.gaps,
      });
    }
    const res = sampler.stop();
    // Paused clients never read the gap messages sent to them; livetrail counts them in /metrics.
    const counters = name === "livetrail" ? await livetrailCounters(server.port) : {};
    // Counters with labels appear once they count something: absent is zero for livetrail.
    const serverGaps = name === "livetrail" ? (counters.livetrail_gaps_total ?? 0) : Number.NaN;
    const catchUps = name === "livetrail" ? (counters.livetrail_slow_client_catchups_total ?? 0) : Number.NaN;
    // The largest queue the server holds for one client: it should sit at the configured cap (4 MiB).
    const maxQueuedMB = (counters.livetrail_client_buffered_bytes_max ?? Number.NaN) / 2 ** 20;
    const [a, b] = /** @type {[typeof halves[0], typeof halves[0]]} */ (halves);
    const rec = {
      normalP50First: a.p50,
      normalP99First: a.p99,
      normalP50Second: b.p50,
      normalP99Second: b.p99,
      normalLost: a.lost + b.lost,
      normalDup: a.dup + b.dup,
      rssStartMB: rss0 / 2 ** 20,
      rssFirstMB: a.rss / 2 ** 20,
      rssSecondMB: b.rss / 2 ** 20,
      rssGrowthSecondHalfMB: (b.rss - a.rss) / 2 ** 20,
      peakRssMB: res.peakRss / 2 ** 20,
      serverGaps,
      catchUps,
      maxQueuedMB,
    };
    ctx.log(
      `  slow ${name} run ${run + 1}: normal client p50/p99 ${a.p50.toFixed(1)}/${a.p99.toFixed(1)} then ` +
        `${b.p50.toFixed(1)}/${b.p99.toFixed(1)} ms, lost ${rec.normalLost} dup ${rec.normalDup}; RSS ` +
        `${rec.rssStartMB.toFixed(0)} -> ${rec.rssFirstMB.toFixed(0)} -> ${rec.rssSecondMB.toFixed(0)} MB ` +
        `(peak ${rec.peakRssMB.toFixed(0)}); server gaps ${serverGaps}, slow-client catch-ups ${catchUps}, largest client queue ${maxQueuedMB.toFixed(1)} MB`,
    );
    if (name === "livetrail" && (rec.normalLost || rec.normalDup)) {
      ctx.fail(
        `slow-clients: the normal livetrail client lost ${rec.normalLost}, duplicated ${rec.normalDup}`,
      );
    }
    return rec;
  } finally {
    await pool.close();
    await server.stop();
  }
}
