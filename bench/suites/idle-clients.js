/**
 * 50,000 idle clients: livetrail holds 50,000 subscribed WebSocket clients (four client processes, each on its
 * own loopback source address, 127.0.0.2-5: one address has ~28,000 ephemeral ports), then one line is appended
 * and every client must receive it. The server's fd limit is raised to what the count needs (prlimit on its PID)
 * and `--max-connections` above the count. Where the hard fd limit (RLIMIT_NOFILE, which only a process with
 * CAP_SYS_RESOURCE may raise) is below that, the run holds as many clients as the limit leaves room for and
 * says so (params.clients < params.wanted, the row is not met). RSS per connection here is from the server's
 * start (no warm-up slope).
 * livetrail only: websocketd forks a process per client, frontail's socket.io is not built for this.
 */
import { execFileSync, spawn } from "node:child_process";
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fdCount, sleep, stopTree, track, treeStat, untrack } from "../lib/proc.js";
import { summarizeRecords } from "../lib/stats.js";
import { systems } from "../lib/systems/index.js";

const WORKER = resolve(import.meta.dirname, "../lib/idle-client-worker.js");
const PROCESSES = 4;
/** Connections each client process has in flight while connecting. */
const CONCURRENCY = 100;
/** Bounds on the whole connect phase and on the marker line's delivery. */
const CONNECT_TIMEOUT_MS = 10 * 60_000;
const DELIVER_TIMEOUT_MS = 60_000;

/** File descriptors the server needs besides its clients' sockets (files, watches, pipes, listening socket). */
const SPARE_FDS = 500;

/** This process's hard RLIMIT_NOFILE (what no child can exceed without CAP_SYS_RESOURCE). */
function hardFdLimit() {
  const line = readFileSync("/proc/self/limits", "utf8").match(/^Max open files\s+\S+\s+(\S+)/m);
  return line?.[1] === undefined || line[1] === "unlimited" ? Number.POSITIVE_INFINITY : Number(line[1]);
}

/** @param {import("../lib/context.js").Context} ctx */
export async function idleClients(ctx) {
  const wanted = ctx.quick ? 5000 : 50_000;
  const fdLimit = hardFdLimit();
  const clients = Math.min(wanted, fdLimit - SPARE_FDS);
  if (clients < wanted)
    ctx.log(`  idle-clients: the hard fd limit is ${fdLimit}: ${clients} clients instead of ${wanted}`);
  const runs = 1;
  /** @type {Record<string, number>[]} */
  const records = [];
  if (ctx.systems.includes("livetrail")) {
    for (let run = 0; run < runs; run++) records.push(await idleRun(ctx, clients, run));
  }
  return {
    params: {
      wanted,
      clients,
      fdLimit,
      clientProcesses: PROCESSES,
      concurrency: CONCURRENCY * PROCESSES,
      runs,
    },
    systems: records.length ? { livetrail: summarizeRecords(records) } : {},
  };
}

/** A client process (fd limit raised; its IPC calls answered in order of their id). */
function startWorker() {
  const child = spawn("prlimit", ["--nofile=20000:20000", process.execPath, WORKER], {
    stdio: ["ignore", "inherit", "inherit", "ipc"],
  });
  const pid = /** @type {number} */ (child.pid);
  const exited = new Promise((r) => child.once("exit", r));
  const stop = () => stopTree(pid, exited).then(() => untrack(pid));
  track(pid, stop);
  let nextId = 1;
  /** @type {Map<number, { resolve: (v: any) => void, reject: (e: Error) => void }>} */
  const pending = new Map();
  child.on("message", (/** @type {any} */ m) => {
    const p = pending.get(m.id);
    if (!p) return;
    pending.delete(m.id);
    if (m.error) p.reject(new Error(m.error));
    else p.resolve(m.result);
  });
  child.on("exit", () => {
    for (const p of pending.values()) p.reject(new Error("idle client worker exited"));
  });
  /** @param {Record<string, unknown>} msg @returns {Promise<any>} */
  const call = (msg) =>
    new Promise((resolve, reject) => {
      const id = nextId++;
      if (!child.connected) return reject(new Error("idle client worker exited"));
      pending.set(id, { resolve, reject });
      child.send({ ...msg, id }, (err) => {
        if (err && pending.delete(id)) reject(err);
      });
    });
  return { pid, call, stop };
}

/**
 * @param {import("../lib/context.js").Context} ctx
 * @param {number} clients
 * @param {number} run
 */
async function idleRun(ctx, clients, run) {
  const file = join(ctx.tmp, `idle-clients-${run}.log`);
  writeFileSync(file, "[2026-01-01T00:00:00Z] seq=-1 t=0 idle\n");
  const server = await /** @type {import("../lib/systems/types.js").System} */ (systems.livetrail).start({
    file,
    args: ["--max-connections", String(clients + 1000)],
  });
  const fds = clients + SPARE_FDS;
  execFileSync("prlimit", ["--pid", String(server.pid), `--nofile=${fds}:${fds}`]);
  const workers = Array.from({ length: PROCESSES }, startWorker);
  /** @type {Record<string, number>} */
  const rec = { clients };
  try {
    await sleep(1000);
    const start = treeStat(server.pid).rss;
    const url = `ws://127.0.0.1:${server.port}/ws`;
    const per = Math.ceil(clients / PROCESSES);
    const t0 = performance.now();
    const connecting = Promise.all(
      workers.map((w, i) =>
        w.call({
          op: "connect",
          url,
          n: Math.min(per, clients - i * per),
          localAddress: `127.0.0.${2 + i}`,
          concurrency: CONCURRENCY,
        }),
      ),
    );
    /** @type {NodeJS.Timeout | undefined} */
    let timer;
    const c = await Promise.race([
      connecting,
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error(`idle-clients: not connected within ${CONNECT_TIMEOUT_MS / 1000} s`)),
          CONNECT_TIMEOUT_MS,
        );
      }),
    ]).finally(() => clearTimeout(timer));
    rec.connectSeconds = (performance.now() - t0) / 1000;
    rec.connected = c.reduce((n, r) => n + r.connected, 0);
    rec.connectFailed = c.reduce((n, r) => n + r.failed, 0);
    const errors = c.flatMap((r) => r.errors);
    await sleep(2000);
    const idle = treeStat(server.pid).rss;
    rec.idleRssMB = idle / 2 ** 20;
    rec.rssPerConnFromStartKB = (idle - start) / rec.connected / 1024;
    rec.serverFds = fdCount(server.pid);

    const marker = `idle-clients-marker-${run}-${Date.now()}`;
    const expecting = Promise.all(
      workers.map((w) => w.call({ op: "expect", marker, timeoutMs: DELIVER_TIMEOUT_MS })),
    );
    const t1 = performance.now();
    appendFileSync(file, `[2026-01-01T00:00:01Z] seq=-2 t=0 ${marker}\n`);
    const got = await expecting;
    rec.deliverSeconds = (performance.now() - t1) / 1000;
    rec.received = got.reduce((n, r) => n + r.got, 0);
    rec.missing = clients - rec.received;
    rec.closedByServer = got.reduce((n, r) => n + r.closedEarly, 0);
    ctx.log(
      `  idle-clients run ${run + 1}: ${rec.connected}/${clients} connected in ${rec.connectSeconds.toFixed(1)} s ` +
        `(failed ${rec.connectFailed}${errors.length ? `: ${errors[0]}` : ""}), server RSS ${rec.idleRssMB.toFixed(0)} MB ` +
        `(${rec.rssPerConnFromStartKB.toFixed(1)} KB/conn from start), ${rec.serverFds} fds; one line reached ` +
        `${rec.received}/${clients} in ${rec.deliverSeconds.toFixed(2)} s, ${rec.closedByServer} closed`,
    );
    if (rec.missing > 0) ctx.fail(`idle-clients: ${rec.missing} of ${clients} clients did not get the line`);
  } finally {
    await Promise.all(workers.map((w) => w.call({ op: "close" }).catch(() => undefined)));
    await Promise.all(workers.map((w) => w.stop()));
    await server.stop();
  }
  return rec;
}
