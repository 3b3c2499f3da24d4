/**
 * Redis for the benches: a `redis-server` of our own (loopback, free port, its own dir, no persistence), ship
 * agents (`livetrail ship`), and one shipping measurement (a backlog and a burst through one agent) that both
 * bench/redis-ship.js and the `redis` suite run. Every process is started with startProcess, so it is tracked
 * and stopped by its PID.
 */
import { execFileSync } from "node:child_process";
import { rmSync, writeFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { Redis } from "ioredis";
import { LIVETRAIL_CLI } from "./context.js";
import { writeBurst } from "./lines.js";
import { canConnect, freePort, nowMs, procStat, sleep, startProcess, stopAll, waitFor } from "./proc.js";

/**
 * The key names of the build under test (loaded lazily, so the bench runner still starts without a dist/).
 * @returns {Promise<{ streamKey: (name: string) => string, REGISTRY_KEY: string }>}
 */
export function redisKeys() {
  const entry = resolve(dirname(LIVETRAIL_CLI), "../backend/redis/entry.js");
  return import(pathToFileURL(entry).href);
}

/** `redis-server --version` of the redis-server on PATH. */
export function redisVersion() {
  return execFileSync("redis-server", ["--version"]).toString().trim();
}

/**
 * A redis-server on a free loopback port with its data in `dir`, and an ioredis client to it.
 * @param {string} dir
 */
export async function startRedis(dir) {
  const port = await freePort();
  const proc = startProcess("redis-server", [
    "--port",
    String(port),
    "--bind",
    "127.0.0.1",
    "--dir",
    dir,
    "--save",
    "",
    "--appendonly",
    "no",
    "--protected-mode",
    "no",
    "--loglevel",
    "warning",
  ]);
  try {
    await waitFor(
      async () =>
        (await canConnect(port)) ||
        (proc.child.exitCode !== null &&
          fail(`redis-server could not start (apt-get install redis-server): ${proc.stderr()}`)),
      { timeoutMs: 10_000, what: "redis-server to listen" },
    );
  } catch (err) {
    await proc.stop();
    throw err;
  }
  const url = `redis://127.0.0.1:${port}`;
  // Without the offline queue a command fails at once when the server is gone, instead of after 20 retries.
  const client = new Redis(url, { enableOfflineQueue: false, maxRetriesPerRequest: 1 });
  // ioredis prints every failed reconnect unless someone listens; the failing command says what happened.
  client.on("error", () => {});
  await waitFor(() => client.status === "ready", { timeoutMs: 10_000, what: "a connection to redis-server" });
  /** @type {Promise<never>} */
  const died = proc.exited.then((code) => {
    const said = proc.stderr().trim().split("\n").slice(-3).join(" | ");
    throw new Error(`redis-server exited (${code ?? "killed"}); its last words: ${said || "none"}`);
  });
  died.catch(() => {});
  return {
    pid: proc.pid,
    port,
    url,
    client,
    /**
     * `step`'s outcome; if redis-server exits first, every process the bench started is stopped by its PID (so the
     * step's waits end at once instead of at their timeouts), the step is let finish, and the exit is the error.
     * @template T
     * @param {Promise<T>} step
     * @returns {Promise<T>}
     */
    async whileUp(step) {
      const exit = await Promise.race([step.then(noError, noError), died.catch((err) => err)]);
      if (!exit) return step;
      await stopAll();
      await step.catch(() => {});
      throw exit;
    },
    /** Disconnect the client, then stop the server by its PID. */
    async stop() {
      client.disconnect();
      await proc.stop();
    },
  };
}

/** @typedef {Awaited<ReturnType<typeof startRedis>>} RedisServer */

/**
 * `livetrail ship NAME=FILE --redis URL`.
 * @param {string} url
 * @param {string} name
 * @param {string} file
 */
export function startAgent(url, name, file) {
  const proc = startProcess(process.execPath, [LIVETRAIL_CLI, "ship", `${name}=${file}`, "--redis", url]);
  return {
    pid: proc.pid,
    stderr: proc.stderr,
    /** Its CPU seconds and peak RSS so far. */
    stat: () => procStat(proc.pid),
    /** SIGTERM (the agent sends what it read, then exits 0); a non-zero exit is an error. */
    async stop() {
      await proc.stop();
      const code = await Promise.race([proc.exited, sleep(100).then(() => "still running")]);
      if (code !== 0) throw new Error(`ship agent ${name} exited ${code}: ${proc.stderr()}`);
    },
  };
}

/** @typedef {ReturnType<typeof startAgent>} Agent */

/**
 * Polls XLEN until it reaches `n`; the monotonic times of the first non-zero and of the final reading.
 * @param {Redis} redis
 * @param {string} key
 * @param {number} n
 * @param {number} timeoutMs
 * @param {Agent} agent whose stderr says why when it never gets there
 */
export async function untilLength(redis, key, n, timeoutMs, agent) {
  /** @type {number | null} */
  let first = null;
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const len = await redis.xlen(key);
    const t = nowMs();
    if (len > 0 && first === null) first = t;
    if (len >= n) return { first: first ?? t, last: t };
    if (Date.now() > deadline)
      throw new Error(`${key} holds ${len} of ${n} entries after ${timeoutMs} ms: ${agent.stderr()}`);
    await sleep(2);
  }
}

/**
 * Redis's own CPU seconds so far (INFO cpu: main thread and I/O threads, user + system).
 * @param {Redis} redis
 */
export async function redisCpuS(redis) {
  const info = await redis.info("cpu");
  return infoNumber(info, "used_cpu_user") + infoNumber(info, "used_cpu_sys");
}

/** @param {Redis} redis */
export async function usedMemory(redis) {
  return infoNumber(await redis.info("memory"), "used_memory");
}

/**
 * @param {string} info
 * @param {string} field
 */
function infoNumber(info, field) {
  const m = new RegExp(`^${field}:([\\d.]+)`, "m").exec(info);
  if (!m) throw new Error(`INFO has no ${field}`);
  return Number(m[1]);
}

/**
 * Forget a stream: its key and its registry entry (so later servers do not discover it).
 * @param {Redis} redis
 * @param {string} name
 */
export async function dropStream(redis, name) {
  const { streamKey, REGISTRY_KEY } = await redisKeys();
  await redis.del(streamKey(name));
  await redis.hdel(REGISTRY_KEY, name);
}

/**
 * One shipping measurement through one agent, on `burst` (the lines as one buffer, `lines` of them):
 *   - backlog: the file is written before the agent starts; lines/s from the first entry in Redis to the last
 *     (node's start-up is not in the rate, but is in the agent's CPU seconds);
 *   - burst: the agent follows an empty file, then every line is appended at once (1 MiB writes); lines/s from the
 *     first write to the last entry in Redis, CPU from the first write on;
 *   - memory: `MEMORY USAGE key SAMPLES 0` of the backlog stream and the change in INFO used_memory, per million.
 * Both streams are dropped and their files removed afterwards. `entries` are the XLENs once the agent stopped:
 * anything but `lines` is a lost or duplicated line.
 * @param {RedisServer} server
 * @param {{ dir: string, tag: string, burst: Buffer, lines: number, timeoutMs?: number }} o
 */
export async function measureShipping(server, { dir, tag, burst, lines, timeoutMs = 300_000 }) {
  const redis = server.client;
  const { streamKey, REGISTRY_KEY } = await redisKeys();
  const backlogName = `backlog-${tag}`;
  const burstName = `burst-${tag}`;
  const backlogFile = join(dir, `${backlogName}.log`);
  const burstFile = join(dir, `${burstName}.log`);
  /** @type {Agent | null} */
  let agent = null;
  try {
    writeFileSync(backlogFile, burst);
    const memBefore = await usedMemory(redis);
    const cpuBefore = await redisCpuS(redis);
    agent = startAgent(server.url, backlogName, backlogFile);
    const backlog = await untilLength(redis, streamKey(backlogName), lines, timeoutMs, agent);
    const backlogStat = agent.stat();
    await agent.stop();
    agent = null;
    const backlogRedisCpuS = (await redisCpuS(redis)) - cpuBefore;
    const memAfter = await usedMemory(redis);
    const usage = Number(await redis.call("MEMORY", "USAGE", streamKey(backlogName), "SAMPLES", "0"));
    const backlogEntries = await redis.xlen(streamKey(backlogName));

    writeFileSync(burstFile, "");
    agent = startAgent(server.url, burstName, burstFile);
    const follower = agent;
    await waitFor(async () => (await redis.hget(REGISTRY_KEY, burstName)) !== null, {
      timeoutMs: 30_000,
      what: `the agent to register ${burstName}: ${follower.stderr()}`,
    });
    await sleep(200);
    const agentCpu0 = agent.stat()?.cpuS ?? 0;
    const redisCpu0 = await redisCpuS(redis);
    const t0 = nowMs();
    writeBurst(burstFile, burst, 1024 * 1024);
    const burstDone = await untilLength(redis, streamKey(burstName), lines, timeoutMs, agent);
    const burstRedisCpuS = (await redisCpuS(redis)) - redisCpu0;
    const burstStat = agent.stat();
    await agent.stop();
    agent = null;
    const burstEntries = await redis.xlen(streamKey(burstName));
    const perMillion = 1e6 / lines;
    return {
      backlogLinesPerSec: (lines / (backlog.last - backlog.first)) * 1000,
      backlogAgentCpuS: backlogStat?.cpuS ?? Number.NaN,
      backlogAgentCpuSPerMillion: (backlogStat?.cpuS ?? Number.NaN) * perMillion,
      backlogRedisCpuS,
      backlogRedisCpuSPerMillion: backlogRedisCpuS * perMillion,
      backlogAgentPeakRssMB: (backlogStat?.hwm ?? Number.NaN) / 2 ** 20,
      burstLinesPerSec: (lines / (burstDone.last - t0)) * 1000,
      burstAgentCpuS: (burstStat?.cpuS ?? Number.NaN) - agentCpu0,
      burstAgentCpuSPerMillion: ((burstStat?.cpuS ?? Number.NaN) - agentCpu0) * perMillion,
      burstRedisCpuS,
      burstRedisCpuSPerMillion: burstRedisCpuS * perMillion,
      burstAgentPeakRssMB: (burstStat?.hwm ?? Number.NaN) / 2 ** 20,
      redisMemoryUsageMBPerMillion: (usage * perMillion) / 1e6,
      redisUsedMemoryDeltaMBPerMillion: ((memAfter - memBefore) * perMillion) / 1e6,
      backlogEntries,
      burstEntries,
    };
  } finally {
    await agent?.stop().catch(() => {});
    // Best effort: when Redis is gone the measurement's own error is the one to report.
    await dropStream(redis, backlogName).catch(() => {});
    await dropStream(redis, burstName).catch(() => {});
    rmSync(backlogFile, { force: true });
    rmSync(burstFile, { force: true });
  }
}

const noError = () => null;

/** @param {string} why */
function fail(why) {
  throw new Error(why);
}
