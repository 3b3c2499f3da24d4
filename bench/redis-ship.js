/**
 * The ship agent (`livetrail ship`) against a real redis-server, beside the file backend, on one machine.
 * Prints one JSON object:
 *   - backlog: a file of N 100-byte lines already written when the agent starts; lines/s from its first entry in
 *     Redis to its last (node's startup is not counted), the agent's CPU seconds and peak RSS, Redis's CPU seconds
 *     (on a shared 2-core machine the CPU seconds say more than the rate: 1 / max(agent, Redis) CPU per line is
 *     the rate with a core each);
 *   - burst: the agent follows an empty file, then N lines are appended at once; lines/s from the first write to
 *     the last entry in Redis (what "keeps up with a fast writer" means);
 *   - redisMemory: `MEMORY USAGE key SAMPLES 0` and the change in INFO used_memory, per million lines;
 *   - fileBackend: the same file read by the file follower alone (lines/s), and its size per million lines.
 * Usage: node bench/redis-ship.js [--lines N] [--runs R]   (after `npm run build`; needs redis-server)
 */
import { execFileSync, spawn } from "node:child_process";
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { Redis } from "ioredis";
import { Follower } from "../dist/backend/file/follower.js";
import { streamKey } from "../dist/backend/redis/entry.js";
import { buildBurst, LINE_BYTES, writeBurst } from "./lib/lines.js";
import { canConnect, freePort, nowMs, procStat, sleep, waitFor } from "./lib/proc.js";

const ROOT = fileURLToPath(new URL("..", import.meta.url));
const CLI = join(ROOT, "dist/bin/main.js");
const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
};
const LINES = arg("--lines", 1_000_000);
const RUNS = arg("--runs", 3);

async function startRedis(dir) {
  const port = await freePort();
  const child = spawn(
    "redis-server",
    ["--port", String(port), "--bind", "127.0.0.1", "--dir", dir, "--save", "", "--appendonly", "no"],
    { stdio: "ignore" },
  );
  await waitFor(() => canConnect(port), { timeoutMs: 10_000, what: "redis-server" });
  const exited = new Promise((r) => child.once("exit", r));
  const stop = () => {
    child.kill("SIGTERM");
    return exited;
  };
  return { port, url: `redis://127.0.0.1:${port}`, stop };
}

function startAgent(file, url, name) {
  const child = spawn(process.execPath, [CLI, "ship", `${name}=${file}`, "--redis", url], {
    stdio: ["ignore", "ignore", "pipe"],
  });
  let stderr = "";
  child.stderr.on("data", (d) => {
    stderr += d;
  });
  const exited = new Promise((r) => child.once("exit", (code) => r(code)));
  return { child, exited, stderr: () => stderr };
}

/** Polls XLEN until it reaches `n`; returns the monotonic times of the first non-zero and the final reading. */
async function untilLength(redis, key, n) {
  let first = null;
  for (;;) {
    const len = await redis.xlen(key);
    const t = nowMs();
    if (len > 0 && first === null) first = t;
    if (len >= n) return { first: first ?? t, last: t };
    await sleep(2);
  }
}

/** Redis's own CPU seconds so far (INFO cpu: main thread and I/O, user + system). */
async function redisCpuS(redis) {
  const info = await redis.info("cpu");
  return Number(/used_cpu_user:([\d.]+)/.exec(info)[1]) + Number(/used_cpu_sys:([\d.]+)/.exec(info)[1]);
}

async function stopAgent(agent) {
  const stat = procStat(agent.child.pid);
  agent.child.kill("SIGTERM");
  const code = await agent.exited;
  if (code !== 0) throw new Error(`agent exited ${code}: ${agent.stderr()}`);
  return stat;
}

async function followerRate(file, n) {
  const follower = new Follower(file, { start: { from: "start" }, watch: false });
  let seen = 0;
  const t0 = nowMs();
  follower.on((e) => {
    if (e.type === "lines") seen += e.lines.length;
  });
  await follower.start();
  const ms = nowMs() - t0;
  await follower.close();
  if (seen !== n) throw new Error(`follower read ${seen} lines, expected ${n}`);
  return (n / ms) * 1000;
}

const dir = mkdtempSync(join(tmpdir(), "livetrail-bench-ship-"));
const redisServer = await startRedis(dir);
const redis = new Redis(redisServer.url);
const burst = buildBurst(LINES);
const runs = [];
try {
  for (let run = 0; run < RUNS; run++) {
    // Backlog: the file is there before the agent starts.
    const backlogFile = join(dir, `backlog-${run}.log`);
    writeFileSync(backlogFile, burst);
    const backlogKey = streamKey(`backlog-${run}`);
    const before = Number(/used_memory:(\d+)/.exec(await redis.info("memory"))[1]);
    const cpuBefore = await redisCpuS(redis);
    let agent = startAgent(backlogFile, redisServer.url, `backlog-${run}`);
    const backlog = await untilLength(redis, backlogKey, LINES);
    const backlogStat = await stopAgent(agent);
    const backlogRedisCpuS = (await redisCpuS(redis)) - cpuBefore;
    const after = Number(/used_memory:(\d+)/.exec(await redis.info("memory"))[1]);
    const usage = Number(await redis.call("MEMORY", "USAGE", backlogKey, "SAMPLES", "0"));

    // Burst: the agent follows an empty file, then every line is appended at once.
    const burstFile = join(dir, `burst-${run}.log`);
    writeFileSync(burstFile, "");
    const burstKey = streamKey(`burst-${run}`);
    agent = startAgent(burstFile, redisServer.url, `burst-${run}`);
    await waitFor(async () => (await redis.hget("livetrail:streams", `burst-${run}`)) !== null, {
      what: "the agent to register",
    });
    await sleep(200);
    const t0 = nowMs();
    writeBurst(burstFile, burst, 1024 * 1024);
    const burstDone = await untilLength(redis, burstKey, LINES);
    const burstStat = await stopAgent(agent);

    runs.push({
      backlogLinesPerSec: Math.round((LINES / (backlog.last - backlog.first)) * 1000),
      backlogAgentCpuS: backlogStat?.cpuS,
      backlogAgentPeakRssMB: backlogStat ? Math.round(backlogStat.hwm / 1e6) : null,
      backlogRedisCpuS: Math.round(backlogRedisCpuS * 100) / 100,
      burstLinesPerSec: Math.round((LINES / (burstDone.last - t0)) * 1000),
      burstAgentCpuS: burstStat?.cpuS,
      burstAgentPeakRssMB: burstStat ? Math.round(burstStat.hwm / 1e6) : null,
      redisBytesPerMillionLines: Math.round((usage / LINES) * 1e6),
      redisUsedMemoryDeltaPerMillionLines: Math.round(((after - before) / LINES) * 1e6),
      fileFollowerLinesPerSec: Math.round(await followerRate(backlogFile, LINES)),
      fileBytesPerMillionLines: Math.round((statSync(backlogFile).size / LINES) * 1e6),
    });
    await redis.del(backlogKey, burstKey);
    rmSync(backlogFile);
    rmSync(burstFile);
  }
} finally {
  redis.disconnect();
  await redisServer.stop();
  rmSync(dir, { recursive: true, force: true });
}
const median = (key) => {
  const values = runs.map((r) => r[key]).sort((a, b) => a - b);
  return values[Math.floor(values.length / 2)];
};
const redisVersion = execFileSync("redis-server", ["--version"]).toString().trim();
console.log(
  JSON.stringify(
    {
      suite: "redis-ship",
      params: { lines: LINES, lineBytes: LINE_BYTES, runs: RUNS, redis: redisVersion, persistence: "none" },
      median: Object.fromEntries(Object.keys(runs[0]).map((k) => [k, median(k)])),
      runs,
    },
    null,
    2,
  ),
);
