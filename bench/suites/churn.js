/**
 * 4. Churn: connect/subscribe/disconnect cycles (two client processes, 50 in flight each) in three rounds of
 * 5,000. A leak shows as RSS or open file descriptors that keep growing, so we measure after a warm-up and
 * after each round: rounds two and three should add (close to) nothing.
 * websocketd forks a process per connection, so it gets fewer cycles (documented in params).
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ClientPool } from "../lib/client-pool.js";
import { fdCount, sleep, treeStat, waitFor } from "../lib/proc.js";
import { summarizeRecords } from "../lib/stats.js";
import { systems } from "../lib/systems/index.js";

/** @param {import("../lib/context.js").Context} ctx */
export async function churn(ctx) {
  const full = ctx.quick ? 1000 : 5000; // per round
  const forking = ctx.quick ? 200 : 1000;
  const runs = Math.min(ctx.runs, 2);
  /** @type {Record<string, Record<string, number>[]>} */
  const records = Object.fromEntries(ctx.systems.map((s) => [s, []]));
  for (let run = 0; run < runs; run++) {
    for (const s of ctx.systems) {
      const cycles = s === "websocketd" ? forking : full;
      records[s]?.push(await churnRun(ctx, s, cycles, run));
    }
  }
  return {
    params: { cyclesPerRound: full, rounds: 3, websocketdCyclesPerRound: forking, inFlight: 100, runs },
    systems: Object.fromEntries(Object.entries(records).map(([k, recs]) => [k, summarizeRecords(recs)])),
  };
}

/**
 * @param {import("../lib/context.js").Context} ctx
 * @param {string} name
 * @param {number} cycles
 * @param {number} run
 */
async function churnRun(ctx, name, cycles, run) {
  const file = join(ctx.tmp, `churn-${name}-${run}.log`);
  writeFileSync(file, "[2026-01-01T00:00:00Z] seq=-1 t=0 churn\n");
  const server = await /** @type {import("../lib/systems/types.js").System} */ (systems[name]).start({
    file,
  });
  const pool = new ClientPool(2);
  try {
    // Warm-up: first connections allocate pools and JIT code that are not leaks.
    await pool.churn(name, server.target, Math.min(500, cycles / 4), 50);
    const settle = async () => {
      const before = fdCount(server.pid);
      // Closing sockets finish asynchronously on the server; wait for the fd count to stop falling.
      let last = before;
      await waitFor(
        async () => {
          await sleep(250);
          const n = fdCount(server.pid);
          const stable = n >= last;
          last = n;
          return stable;
        },
        { timeoutMs: 10_000, intervalMs: 0, what: "fd count to settle" },
      ).catch(() => {});
      return { fds: last, rss: treeStat(server.pid).rss };
    };
    const base = await settle();
    const r1 = await pool.churn(name, server.target, cycles, 50);
    const after1 = await settle();
    const r2 = await pool.churn(name, server.target, cycles, 50);
    const after2 = await settle();
    const r3 = await pool.churn(name, server.target, cycles, 50);
    const after3 = await settle();
    const rec = {
      cyclesPerSec: cycles / (r1.ms / 1000),
      failed: r1.failed + r2.failed + r3.failed,
      baseRssMB: base.rss / 2 ** 20,
      rssGrowth1MB: (after1.rss - base.rss) / 2 ** 20,
      rssGrowth2MB: (after2.rss - after1.rss) / 2 ** 20,
      rssGrowth3MB: (after3.rss - after2.rss) / 2 ** 20,
      rssGrowthLaterMB: (after3.rss - after1.rss) / 2 / 2 ** 20,
      baseFds: base.fds,
      fdGrowth: after3.fds - base.fds,
    };
    ctx.log(
      `  churn ${name} run ${run + 1}: ${cycles} cycles x3 at ${Math.round(rec.cyclesPerSec)}/s, failed ${rec.failed}` +
        `${r1.errorSamples.length ? ` (${r1.errorSamples[0]})` : ""}; RSS ${rec.baseRssMB.toFixed(0)} MB ` +
        `+${rec.rssGrowth1MB.toFixed(1)}, +${rec.rssGrowth2MB.toFixed(1)}, +${rec.rssGrowth3MB.toFixed(1)} MB; fds ${base.fds} -> ${after3.fds}`,
    );
    if (name === "livetrail" && rec.fdGrowth > 2)
      ctx.fail(`churn: livetrail leaked ${rec.fdGrowth} file descriptors`);
    return rec;
  } finally {
    await pool.close();
    await server.stop();
  }
}
