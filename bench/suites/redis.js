/**
 * Redis Streams scale-out (docs/scale-out.md), on a redis-server of the suite's own (loopback, no persistence):
 *   1. shipping: one agent ships 1,000,000 100-byte lines, as a backlog and as a burst; lines/s, agent and Redis
 *      CPU seconds per million lines (bench/lib/redis.js measureShipping, as bench/redis-ship.js);
 *   2. latency at 20 lines/s (the latency suite's load), file append → ship agent → Redis → `serve --redis` → a
 *      WebSocket client, interleaved run by run with livetrail serving the same kind of file itself;
 *   3. two replicas (two `serve --redis` on the same Redis) × 1,000 clients each (a client process per replica)
 *      and a 1,000-line burst appended to the shipped file: time until every client has every line, RSS of each;
 *   4. Redis memory per million lines (from 1's backlog stream).
 * Every process (redis-server, agents, servers, client workers) is stopped by its PID in a finally.
 */
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ClientPool } from "../lib/client-pool.js";
import { buildBurst, LINE_BYTES, makeLine } from "../lib/lines.js";
import { nowMs, sleep, startSampler, treeStat } from "../lib/proc.js";
import { dropStream, measureShipping, redisVersion, startAgent, startRedis } from "../lib/redis.js";
import { summarizeRecords } from "../lib/stats.js";
import { livetrail } from "../lib/systems/livetrail.js";
import { latencyLoad, pacedLatency } from "./latency.js";

/** @typedef {import("../lib/context.js").Context} Context */
/** @typedef {import("../lib/redis.js").RedisServer} RedisServer */

/**
 * Drop a finished step's stream. Best effort: when Redis is gone the step's own error is the one to report, and
 * the server's data goes with its temp dir anyway.
 * @param {RedisServer} server
 * @param {string} name
 */
function forget(server, name) {
  return dropStream(server.client, name).catch(() => {});
}

/** @param {Context} ctx */
export async function redis(ctx) {
  const shipLines = ctx.quick ? 100_000 : 1_000_000;
  const { count: latencyLines, intervalMs } = latencyLoad(ctx);
  const replicaClients = ctx.quick ? 200 : 1000;
  const burstLines = 1000;
  const replicaRuns = Math.min(ctx.runs, 2);
  const params = {
    redis: redisVersion(),
    persistence: "none",
    lineBytes: LINE_BYTES,
    shipLines,
    latency: { lines: latencyLines, intervalMs },
    replicas: { servers: 2, clientsEach: replicaClients, burst: burstLines, runs: replicaRuns },
    runs: ctx.runs,
  };
  if (!ctx.systems.includes("livetrail")) {
    ctx.log("  redis: livetrail is not among the systems: skipped");
    return { params, systems: {} };
  }
  const dir = join(ctx.tmp, "redis");
  mkdirSync(dir, { recursive: true });
  /** @type {Record<string, Record<string, number>[]>} */
  const records = { ship: [], "latency-redis": [], "latency-file": [], replicas: [] };
  const server = await startRedis(dir);
  try {
    const burst = buildBurst(shipLines);
    for (let run = 0; run < ctx.runs; run++) {
      const rec = await server.whileUp(
        measureShipping(server, { dir, tag: String(run), burst, lines: shipLines }),
      );
      records.ship?.push(rec);
      ctx.log(
        `  redis ship run ${run + 1}: backlog ${Math.round(rec.backlogLinesPerSec)} lines/s ` +
          `(agent ${rec.backlogAgentCpuSPerMillion.toFixed(2)} s, Redis ${rec.backlogRedisCpuSPerMillion.toFixed(2)} s CPU per 1M), ` +
          `burst ${Math.round(rec.burstLinesPerSec)} lines/s (agent ${rec.burstAgentCpuSPerMillion.toFixed(2)} s, ` +
          `Redis ${rec.burstRedisCpuSPerMillion.toFixed(2)} s per 1M); Redis memory per 1M lines: ` +
          `MEMORY USAGE ${rec.redisMemoryUsageMBPerMillion.toFixed(0)} MB, used_memory +${rec.redisUsedMemoryDeltaMBPerMillion.toFixed(0)} MB`,
      );
      if (rec.backlogEntries !== shipLines || rec.burstEntries !== shipLines) {
        ctx.fail(
          `redis ship run ${run + 1}: ${rec.backlogEntries} (backlog) and ${rec.burstEntries} (burst) entries for ${shipLines} lines`,
        );
      }
    }
    const pool = new ClientPool(1);
    try {
      for (let run = 0; run < ctx.runs; run++) {
        for (const via of /** @type {const} */ (["redis", "file"])) {
          const rec = await server.whileUp(
            latencyRun(ctx, server, pool, { via, run, count: latencyLines, intervalMs }),
          );
          records[`latency-${via}`]?.push(rec);
        }
      }
    } finally {
      await pool.close();
    }
    for (let run = 0; run < replicaRuns; run++) {
      records.replicas?.push(
        await server.whileUp(replicasRun(ctx, server, { run, clients: replicaClients, burst: burstLines })),
      );
    }
  } finally {
    await server.stop();
  }
  return {
    params,
    systems: Object.fromEntries(Object.entries(records).map(([k, recs]) => [k, summarizeRecords(recs)])),
  };
}

/**
 * One latency run: `via` "redis" writes to a file a ship agent follows into Redis, read by `serve --redis`;
 * "file" is livetrail serving a file of its own. One client, the latency suite's load and checks.
 * @param {Context} ctx
 * @param {RedisServer} server
 * @param {ClientPool} pool
 * @param {{ via: "redis" | "file", run: number, count: number, intervalMs: number }} o
 */
async function latencyRun(ctx, server, pool, { via, run, count, intervalMs }) {
  const name = `latency-${run}`;
  const file = join(ctx.tmp, `redis-latency-${via}-${run}.log`);
  writeFileSync(file, "");
  const agent = via === "redis" ? startAgent(server.url, name, file) : null;
  /** @type {import("../lib/systems/types.js").Server | null} */
  let serve = null;
  try {
    serve = await livetrail.start(
      via === "redis" ? { file, redis: { url: server.url, stream: name } } : { file },
    );
    const { rec, gaps } = await pacedLatency(pool, {
      system: "livetrail",
      target: serve.target,
      file,
      count,
      intervalMs,
      what: `latency via ${via}`,
    });
    ctx.log(
      `  redis latency via ${via} run ${run + 1}: p50 ${rec.p50.toFixed(2)} p99 ${rec.p99.toFixed(2)} max ${rec.max.toFixed(2)} ms, lost ${rec.lost} dup ${rec.dup}`,
    );
    if (rec.lost || rec.dup || rec.mangled || gaps)
      ctx.fail(
        `redis latency via ${via}: lost ${rec.lost}, duplicated ${rec.dup}, mangled ${rec.mangled}, gaps ${gaps}`,
      );
    return rec;
  } finally {
    await pool.disconnectAll().catch(() => {});
    await serve?.stop();
    await agent?.stop();
    if (agent) await forget(server, name);
  }
}

/**
 * Two `serve --redis` replicas of one shipped stream, `clients` WebSocket clients on each (one client process per
 * replica), then `burst` lines appended to the file in one write: time until every client of both has all of them.
 * @param {Context} ctx
 * @param {RedisServer} server
 * @param {{ run: number, clients: number, burst: number }} o
 */
async function replicasRun(ctx, server, { run, clients, burst }) {
  const name = `replicas-${run}`;
  const file = join(ctx.tmp, `redis-replicas-${run}.log`);
  writeFileSync(file, "");
  const agent = startAgent(server.url, name, file);
  /** @type {import("../lib/systems/types.js").Server[]} */
  const replicas = [];
  /** @type {ClientPool[]} */
  const pools = [];
  /** @type {Record<string, number>} */
  const rec = {};
  try {
    for (let i = 0; i < 2; i++) {
      replicas.push(await livetrail.start({ file, redis: { url: server.url, stream: name } }));
      pools.push(new ClientPool(1));
    }
    let primer = -1;
    let connectFailed = 0;
    let connectMs = 0;
    for (const [i, pool] of pools.entries()) {
      const replica = /** @type {import("../lib/systems/types.js").Server} */ (replicas[i]);
      const c = await pool.connect("livetrail", replica.target, clients, { concurrency: 100 });
      connectFailed += c.failed;
      connectMs = Math.max(connectMs, c.ms);
      await pool.primeAll(() => appendFileSync(file, makeLine(primer--)), 120_000);
    }
    rec.connectFailed = connectFailed;
    rec.connectSeconds = connectMs / 1000;
    await sleep(1000);
    replicas.forEach((replica, i) => {
      rec[`replica${i + 1}IdleRssMB`] = treeStat(replica.pid).rss / 2 ** 20;
    });

    for (const pool of pools) await pool.track(0, burst);
    const samplers = replicas.map((replica) => startSampler(replica.pid, 200));
    const text = Array.from({ length: burst }, (_, i) => makeLine(i)).join("");
    const settled = Promise.all(pools.map((pool) => pool.settle({ stallMs: 10_000, timeoutMs: 90_000 })));
    const t0 = nowMs();
    appendFileSync(file, text);
    const s = await settled;
    const res = samplers.map((sampler) => sampler.stop());
    const reports = await Promise.all(pools.map((pool) => pool.report()));
    const complete = s.every((x) => x.complete);
    rec.burstSeconds = complete ? (Math.max(...s.map((x) => x.at)) - t0) / 1000 : Number.NaN;
    res.forEach((r, i) => {
      rec[`replica${i + 1}RssMB`] = r.endRss / 2 ** 20;
      rec[`replica${i + 1}PeakRssMB`] = r.peakRss / 2 ** 20;
      rec[`replica${i + 1}CpuSeconds`] = r.cpuS;
    });
    const sum = (/** @type {"complete" | "lost" | "dup" | "gaps" | "closed"} */ k) =>
      reports.reduce((a, r) => a + r[k], 0);
    rec.complete = sum("complete");
    rec.incomplete = 2 * clients - rec.complete;
    rec.lost = sum("lost");
    rec.dup = sum("dup");
    rec.gaps = sum("gaps");
    rec.closedDuringRun = sum("closed");
    ctx.log(
      `  redis replicas run ${run + 1}: 2 × ${clients} clients (${connectFailed} failed to connect, ${rec.connectSeconds.toFixed(1)} s); ` +
        `burst ${burst} lines: ${rec.burstSeconds.toFixed(2)} s, ${rec.complete}/${2 * clients} complete, lost ${rec.lost} dup ${rec.dup} gaps ${rec.gaps}; ` +
        `RSS ${rec.replica1RssMB?.toFixed(0)} / ${rec.replica2RssMB?.toFixed(0)} MB (peak ${rec.replica1PeakRssMB?.toFixed(0)} / ${rec.replica2PeakRssMB?.toFixed(0)})`,
    );
    if (connectFailed || rec.incomplete || rec.lost || rec.dup || rec.gaps) {
      ctx.fail(
        `redis replicas: ${connectFailed} clients failed to connect, ${rec.incomplete} of ${2 * clients} incomplete, lost ${rec.lost}, duplicated ${rec.dup}, gaps ${rec.gaps}`,
      );
    }
  } finally {
    await Promise.all(pools.map((pool) => pool.close()));
    await Promise.all(replicas.map((replica) => replica.stop()));
    await agent.stop();
    await forget(server, name);
  }
  return rec;
}
