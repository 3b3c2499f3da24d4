/**
 * 3. Fan-out: N idle clients (spread over two client processes); the server's RSS per connection from the
 * RSS delta; a burst of 1,000 lines until every client has all of them (time, peak RSS); then a steady
 * 100 lines/s with write-to-receipt p50/p99 over all clients and every client checked complete.
 * livetrail runs 1,000 and 10,000 clients; the peers 1,000 (websocketd forks a `tail` per client).
 * At 10,000 clients the burst is 100 lines and the steady rate 10 lines/s: the client processes share the
 * same 2 cores and cannot take in 10 million or 1 million frames per second (documented in params).
 */
import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ClientPool } from "../lib/client-pool.js";
import { makeLine, writePaced } from "../lib/lines.js";
import { nowMs, sleep, startSampler, treeStat } from "../lib/proc.js";
import { median, summarizeRecords } from "../lib/stats.js";
import { systems } from "../lib/systems/index.js";

/** Lines per burst and steady rate (lines/s) by client count. */
const LOAD = { small: { burst: 1000, rate: 100 }, large: { burst: 100, rate: 10 } };

/** @param {import("../lib/context.js").Context} ctx */
export async function fanout(ctx) {
  const steadySeconds = ctx.quick ? 3 : 10;
  const small = ctx.quick ? 200 : 1000;
  const large = ctx.quick ? 1000 : 10_000;
  /** @type {{ key: string, system: string, clients: number, runs: number, burst: number, rate: number }[]} */
  const variants = [];
  for (const s of ctx.systems) {
    variants.push({
      key: `${s}-${small}`,
      system: s,
      clients: small,
      runs: Math.min(ctx.runs, 2),
      ...LOAD.small,
    });
    if (s === "livetrail")
      variants.push({ key: `${s}-${large}`, system: s, clients: large, runs: 1, ...LOAD.large });
  }
  /** @type {Record<string, Record<string, number>[]>} */
  const records = Object.fromEntries(variants.map((v) => [v.key, []]));
  const maxRuns = Math.max(...variants.map((v) => v.runs));
  for (let run = 0; run < maxRuns; run++) {
    for (const v of variants) {
      if (run >= v.runs) continue;
      const rec = await fanoutRun(ctx, v, run, steadySeconds);
      records[v.key]?.push(rec);
    }
  }
  // The slope between the two client counts is the cost of one more connection, without the fixed costs
  // (heap growth, JIT, pools) that the first thousand connections also pay for.
  const smallLt = records[`livetrail-${small}`] ?? [];
  const smallIdle = smallLt.length
    ? median(smallLt.map((r) => /** @type {number} */ (r.idleRssMB)))
    : Number.NaN;
  for (const r of records[`livetrail-${large}`] ?? []) {
    r.marginalKBPerConn = (((r.idleRssMB ?? Number.NaN) - smallIdle) * 1024) / (large - small);
  }
  return {
    params: {
      clients: { small, large },
      load: LOAD,
      steadySeconds,
      clientProcesses: 2,
      runs: Math.min(ctx.runs, 2),
      largeRuns: 1,
    },
    systems: Object.fromEntries(Object.entries(records).map(([k, recs]) => [k, summarizeRecords(recs)])),
  };
}

/**
 * @param {import("../lib/context.js").Context} ctx
 * @param {{ key: string, system: string, clients: number, burst: number, rate: number }} v
 * @param {number} run
 * @param {number} steadySeconds
 */
/** Connections made before the per-connection RSS baseline is taken (see fanoutRun). */
const WARM_CLIENTS = 100;

async function fanoutRun(ctx, v, run, steadySeconds) {
  const burst = v.burst;
  const steadyRate = v.rate;
  const file = join(ctx.tmp, `fanout-${v.key}-${run}.log`);
  writeFileSync(file, "");
  const server = await /** @type {import("../lib/systems/types.js").System} */ (systems[v.system]).start({
    file,
  });
  const pool = new ClientPool(2);
  /** @type {Record<string, number>} */
  const rec = {};
  try {
    await sleep(500);
    const start = treeStat(server.pid).rss;
    // The first WARM_CLIENTS connections (and a line to each) also pay one-time costs: code compiled on first use,
    // the heap's first growth. The per-connection figure is the slope after them; the figure from the server's
    // start is kept too.
    let primer = -1;
    const warm = await pool.connect(v.system, server.target, WARM_CLIENTS, { concurrency: 100 });
    await pool.primeAll(() => appendFileSync(file, makeLine(primer--)), 120_000);
    await sleep(500);
    const base = treeStat(server.pid).rss;
    const c = await pool.connect(v.system, server.target, v.clients - WARM_CLIENTS, { concurrency: 100 });
    rec.connectFailed = warm.failed + c.failed;
    rec.connectSeconds = (warm.ms + c.ms) / 1000;
    await pool.primeAll(() => appendFileSync(file, makeLine(primer--)), 120_000);
    await sleep(1000);
    const idle = treeStat(server.pid);
    rec.idleRssMB = idle.rss / 2 ** 20;
    rec.rssPerConnKB = (idle.rss - base) / (v.clients - WARM_CLIENTS) / 1024;
    rec.rssPerConnFromStartKB = (idle.rss - start) / v.clients / 1024;

    // Burst: the lines in one write; every client must get all of them.
    await pool.track(0, burst);
    let sampler = startSampler(server.pid, 200);
    let clientCpu0 = pool.cpuSeconds();
    const lines = [];
    for (let i = 0; i < burst; i++) lines.push(makeLine(i));
    const settled = pool.settle({ stallMs: 10_000, timeoutMs: 90_000 });
    const t0 = nowMs();
    appendFileSync(file, lines.join(""));
    const s = await settled;
    let res = sampler.stop();
    let r = await pool.report();
    rec.burstSeconds = s.complete ? (s.at - t0) / 1000 : Number.NaN;
    rec.burstPeakRssMB = res.peakRss / 2 ** 20;
    rec.burstCpuSeconds = res.cpuS;
    rec.burstClientCpuSeconds = pool.cpuSeconds() - clientCpu0;
    rec.burstComplete = r.complete;
    rec.burstLost = r.lost;
    rec.burstDup = r.dup;
    ctx.log(
      `  fanout ${v.key} run ${run + 1}: ${warm.connected + c.connected}/${v.clients} connected in ${rec.connectSeconds.toFixed(1)} s, ` +
        `${rec.rssPerConnKB.toFixed(1)} KB/conn (${rec.rssPerConnFromStartKB.toFixed(1)} from start); burst ${burst} lines: ${rec.burstSeconds.toFixed(2)} s, ` +
        `${r.complete}/${r.clients} complete, lost ${r.lost} dup ${r.dup}, peak RSS ${rec.burstPeakRssMB.toFixed(0)} MB`,
    );
    if (v.system === "livetrail" && (r.lost || r.dup || r.gaps)) {
      ctx.fail(`fanout ${v.key} burst: lost ${r.lost}, duplicated ${r.dup}, gaps ${r.gaps}`);
    }

    // Steady: lines at a fixed rate; latency over every line at every client.
    const steadyLines = steadyRate * steadySeconds;
    await pool.track(burst, steadyLines);
    sampler = startSampler(server.pid, 200);
    clientCpu0 = pool.cpuSeconds();
    const steady = pool.settle({ stallMs: 10_000, timeoutMs: steadySeconds * 1000 + 60_000 });
    await writePaced(file, { count: steadyLines, intervalMs: 1000 / steadyRate, firstSeq: burst });
    await steady;
    res = sampler.stop();
    r = await pool.report();
    rec.steadyP50 = r.latency.p50;
    rec.steadyP99 = r.latency.p99;
    rec.steadyMax = r.latency.max;
    rec.steadyComplete = r.complete;
    rec.steadyLost = r.lost;
    rec.steadyDup = r.dup;
    rec.steadyCpuSeconds = res.cpuS;
    rec.steadyClientCpuSeconds = pool.cpuSeconds() - clientCpu0;
    rec.incomplete = v.clients - Math.min(rec.burstComplete, r.complete);
    // Connections the server (or the network) closed during the run: e.g. a heartbeat answered too late.
    rec.closedDuringRun = r.closed;
    rec.steadyPeakRssMB = res.peakRss / 2 ** 20;
    ctx.log(
      `  fanout ${v.key} run ${run + 1}: steady ${steadyRate}/s x ${steadySeconds} s: p50 ${rec.steadyP50.toFixed(2)} ` +
        `p99 ${rec.steadyP99.toFixed(2)} max ${rec.steadyMax.toFixed(1)} ms, ${r.complete}/${r.clients} complete, ` +
        `lost ${r.lost} dup ${r.dup}, ${r.closed} closed by the server, CPU server ${res.cpuS.toFixed(1)} s / clients ${rec.steadyClientCpuSeconds.toFixed(1)} s`,
    );
    if (v.system === "livetrail" && (r.lost || r.dup || r.gaps)) {
      ctx.fail(`fanout ${v.key} steady: lost ${r.lost}, duplicated ${r.dup}, gaps ${r.gaps}`);
    }
  } finally {
    await pool.close();
    await server.stop();
  }
  return rec;
}
