/**
 * Process helpers for the benchmark: spawn a server, wait for its port, sample its resources from /proc,
 * and stop it (and everything it started) by PID. Linux only, by design: /proc is the measuring instrument.
 */
import { spawn } from "node:child_process";
import { readdirSync, readFileSync, writeFileSync } from "node:fs";
import net from "node:net";

const CLK_TCK = 100; // getconf CLK_TCK on Linux x86-64
const PAGE = 4096;

/** @param {number} ms */
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** Monotonic milliseconds, comparable across processes on one machine (CLOCK_MONOTONIC). */
export function nowMs() {
  const [s, ns] = process.hrtime();
  return s * 1e3 + ns / 1e6;
}

/**
 * Wait until `check()` returns a truthy value, polling; throws after `timeoutMs`.
 * @template T
 * @param {() => T | Promise<T>} check
 * @param {{ timeoutMs?: number, intervalMs?: number, what?: string }} [opts]
 * @returns {Promise<T>}
 */
export async function waitFor(check, { timeoutMs = 10_000, intervalMs = 10, what = "condition" } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await check();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(intervalMs);
  }
}

/** A free TCP port on 127.0.0.1 (bind port 0, read it, release it). */
export function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once("error", reject);
    s.listen(0, "127.0.0.1", () => {
      const addr = s.address();
      const port = typeof addr === "object" && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

/** Resolves true once a TCP connect to 127.0.0.1:port succeeds. */
export function canConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: "127.0.0.1" });
    s.once("connect", () => {
      s.destroy();
      resolve(true);
    });
    s.once("error", () => resolve(false));
  });
}

/** Every process the bench started and has not stopped yet, so a failure or Ctrl-C can stop them all. */
const running = new Map();

/** Stop every process still running that this bench started (by PID, with its descendants). */
export async function stopAll() {
  await Promise.all([...running.values()].map((stop) => stop()));
}

/**
 * Remember a started process until it is stopped.
 * @param {number} pid
 * @param {() => Promise<void>} stop
 */
export function track(pid, stop) {
  running.set(pid, stop);
}

/** @param {number} pid */
export function untrack(pid) {
  running.delete(pid);
}

/**
 * @typedef {{ pid: number, child: import("node:child_process").ChildProcess, stderr: () => string,
 *   exited: Promise<number | null>, stop: () => Promise<void> }} Proc
 */

/**
 * Spawn a process with a raised fd limit (via prlimit) and stdout/stderr captured (last 64 KiB).
 * `prlimit` execs the command, so the PID we get is the real process.
 * @param {string} cmd
 * @param {string[]} args
 * @param {{ env?: NodeJS.ProcessEnv, cwd?: string, nofile?: number, quiet?: boolean }} [opts]
 * @returns {Proc}
 */
export function startProcess(cmd, args, { env, cwd, nofile = 20000, quiet = false } = {}) {
  const child = spawn("prlimit", [`--nofile=${nofile}:${nofile}`, cmd, ...args], {
    env: env ?? process.env,
    cwd,
    stdio: ["ignore", quiet ? "ignore" : "pipe", quiet ? "ignore" : "pipe"],
  });
  let out = "";
  const keep = (/** @type {Buffer} */ b) => {
    out = (out + b.toString()).slice(-65536);
  };
  child.stdout?.on("data", keep);
  child.stderr?.on("data", keep);
  const exited = new Promise((resolve) => child.once("exit", (code) => resolve(code)));
  const pid = /** @type {number} */ (child.pid);
  let stopping = /** @type {Promise<void> | null} */ (null);
  const stop = () => {
    stopping ??= stopTree(pid, exited).then(() => {
      running.delete(pid);
    });
    return stopping;
  };
  track(pid, stop);
  return { pid, child, stderr: () => out, exited, stop };
}

/** PIDs of all descendants of `pid` (children first-level via /proc/.../children, recursively). */
export function descendants(pid) {
  /** @type {number[]} */
  const out = [];
  const stack = [pid];
  while (stack.length) {
    const p = /** @type {number} */ (stack.pop());
    let tasks = [];
    try {
      tasks = readdirSync(`/proc/${p}/task`);
    } catch {
      continue;
    }
    for (const t of tasks) {
      let kids = "";
      try {
        kids = readFileSync(`/proc/${p}/task/${t}/children`, "utf8");
      } catch {}
      for (const k of kids.split(" ")) {
        const n = Number(k);
        if (n > 0) {
          out.push(n);
          stack.push(n);
        }
      }
    }
  }
  return out;
}

/**
 * SIGTERM the process and its descendants, wait up to 3 s, then SIGKILL what is left.
 * @param {number} pid
 * @param {Promise<unknown>} [exited]
 */
export async function stopTree(pid, exited) {
  const all = [pid, ...descendants(pid)];
  for (const p of all) {
    try {
      process.kill(p, "SIGTERM");
    } catch {}
  }
  const gone = () => all.every((p) => !alive(p));
  const deadline = Date.now() + 3000;
  while (!gone() && Date.now() < deadline) await sleep(20);
  for (const p of all) {
    if (alive(p)) {
      try {
        process.kill(p, "SIGKILL");
      } catch {}
    }
  }
  if (exited) await Promise.race([exited, sleep(2000)]);
}

/** @param {number} pid */
function alive(pid) {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    // A zombie counts as gone: it holds no memory, and its parent (maybe us) reaps it.
    return statFields(stat)[0] !== "Z";
  } catch {
    return false;
  }
}

/** Fields of /proc/PID/stat after the `(comm)` part: [state, ppid, ...]. */
function statFields(stat) {
  return stat.slice(stat.lastIndexOf(")") + 2).split(" ");
}

/**
 * CPU seconds (user+system, own plus reaped children) and RSS bytes of one process, from /proc.
 * @param {number} pid
 * @returns {{ cpuS: number, rss: number, hwm: number } | null}
 */
export function procStat(pid) {
  try {
    const f = statFields(readFileSync(`/proc/${pid}/stat`, "utf8"));
    // After comm: state=0 ppid=1 ... utime=11 stime=12 cutime=13 cstime=14 ... rss=21 (pages)
    const ticks = Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]);
    const rss = Number(f[21]) * PAGE;
    let hwm = rss;
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const m = /VmHWM:\s+(\d+) kB/.exec(status);
    if (m) hwm = Number(m[1]) * 1024;
    return { cpuS: ticks / CLK_TCK, rss, hwm };
  } catch {
    return null;
  }
}

/**
 * Resources of a process tree now: summed RSS and CPU seconds (the peers fork helpers: frontail runs `tail`,
 * websocketd a process per client, and their cost is the server's cost).
 * @param {number} pid
 */
export function treeStat(pid) {
  let cpuS = 0;
  let rss = 0;
  let procs = 0;
  for (const p of [pid, ...descendants(pid)]) {
    const s = procStat(p);
    if (!s) continue;
    cpuS += s.cpuS;
    rss += s.rss;
    procs++;
  }
  return { cpuS, rss, procs };
}

/** Open file descriptors of a process tree (count of /proc/PID/fd entries). */
export function fdCount(pid) {
  let n = 0;
  for (const p of [pid, ...descendants(pid)]) {
    try {
      n += readdirSync(`/proc/${p}/fd`).length;
    } catch {}
  }
  return n;
}

/** Reset the kernel's peak-RSS mark (VmHWM) of our own process so a phase's peak can be read on its own. */
export function resetPeak(pid) {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
  } catch {}
}

/**
 * Samples a process tree's RSS and CPU every `intervalMs` until stopped; reports peak RSS and CPU used.
 * @param {number} pid
 * @param {number} [intervalMs]
 */
export function startSampler(pid, intervalMs = 100) {
  const first = treeStat(pid);
  let peak = first.rss;
  let last = first;
  /** @type {{ t: number, rss: number, cpuS: number }[]} */
  const series = [{ t: 0, rss: first.rss, cpuS: 0 }];
  const t0 = Date.now();
  const tick = () => {
    const s = treeStat(pid);
    if (s.procs === 0) return;
    last = s;
    if (s.rss > peak) peak = s.rss;
    series.push({ t: Date.now() - t0, rss: s.rss, cpuS: s.cpuS - first.cpuS });
  };
  const timer = setInterval(tick, intervalMs);
  return {
    /** Stop sampling; one last sample is taken first. */
    stop() {
      clearInterval(timer);
      tick();
      return { peakRss: peak, startRss: first.rss, endRss: last.rss, cpuS: last.cpuS - first.cpuS, series };
    },
  };
}
