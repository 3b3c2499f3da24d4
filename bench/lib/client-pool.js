/**
 * The runner's side of the client processes: spawns them, spreads connections over them, and merges what
 * they report. Every worker is stopped by close() (or killed by PID if it does not answer).
 */
import { spawn } from "node:child_process";
import { resolve } from "node:path";
import { procStat, stopTree, track, untrack, waitFor } from "./proc.js";
import { Histogram } from "./stats.js";

const WORKER = resolve(import.meta.dirname, "client-worker.js");

class Worker {
  constructor() {
    // prlimit execs node with the IPC channel fd inherited, so the fd limit applies to the real worker.
    this.child = spawn("prlimit", ["--nofile=20000:20000", process.execPath, WORKER], {
      stdio: ["ignore", "inherit", "inherit", "ipc"],
    });
    this.pid = /** @type {number} */ (this.child.pid);
    this.clients = 0;
    /** Receipt time of the worker's last "all my clients are done" event since the last track(). */
    this.doneAt = 0;
    this.nextId = 1;
    /** @type {Map<number, { resolve: (v: any) => void, reject: (e: Error) => void }>} */
    this.pending = new Map();
    /** @type {((at: number) => void) | null} */
    this.onDone = null;
    this.child.on("message", (/** @type {any} */ m) => {
      if (m.event === "done") {
        this.doneAt = m.at;
        this.onDone?.(m.at);
        return;
      }
      const p = this.pending.get(m.id);
      if (!p) return;
      this.pending.delete(m.id);
      if (m.error) p.reject(new Error(m.error));
      else p.resolve(m.result);
    });
    this.child.on("exit", () => {
      for (const p of this.pending.values()) p.reject(new Error("client worker exited"));
      this.pending.clear();
    });
  }

  /** @param {Record<string, unknown>} msg */
  call(msg) {
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      // A worker stopped under a running step (the runner's stopAll) fails the call instead of the process.
      if (!this.child.connected) return reject(new Error("client worker exited"));
      this.pending.set(id, { resolve, reject });
      this.child.send({ ...msg, id }, (err) => {
        if (err && this.pending.delete(id)) reject(err);
      });
    });
  }
}

export class ClientPool {
  /** @param {number} workers */
  constructor(workers) {
    this.workers = Array.from({ length: workers }, () => new Worker());
    this.closed = false;
    for (const w of this.workers) track(w.pid, () => this.close());
  }

  /** @param {Record<string, unknown>} msg */
  all(msg) {
    return Promise.all(this.workers.map((w) => w.call(msg)));
  }

  /**
   * Open `n` clients spread evenly over the workers.
   * @param {string} system
   * @param {import("./systems/types.js").Target} target
   * @param {number} n
   * @param {{ concurrency?: number, tailLines?: number }} [o]
   */
  async connect(system, target, n, { concurrency = 64, tailLines = 0 } = {}) {
    const per = this.split(n);
    const rs = await Promise.all(
      this.workers.map((w, i) => {
        w.clients += per[i] ?? 0;
        return w.call({ op: "connect", system, target, n: per[i], concurrency, tailLines });
      }),
    );
    return {
      connected: rs.reduce((a, r) => a + r.connected, 0),
      failed: rs.reduce((a, r) => a + r.failed, 0),
      ms: Math.max(...rs.map((r) => r.ms)),
      errorSamples: rs.flatMap((r) => r.errorSamples),
    };
  }

  /** @param {number} n */
  split(n) {
    const k = this.workers.length;
    return this.workers.map((_, i) => Math.floor(n / k) + (i < n % k ? 1 : 0));
  }

  /**
   * Start checking lines seq in [first, first+count) on every client.
   * @param {number} first
   * @param {number} count
   * `verify` compares each line with what was written; `burst` says the lines were written with t = 0
   * (buildBurst), so the workers build the expected texts now, before anything is timed.
   * @param {{ verify?: boolean, burst?: boolean }} [o]
   */
  track(first, count, { verify = false, burst = false } = {}) {
    for (const w of this.workers) w.doneAt = 0;
    return this.all({ op: "track", first, count, verify, burst });
  }

  /** Resolves when every client of every worker has all tracked lines; with the last receipt time. */
  allDone(timeoutMs = 60_000) {
    return new Promise((resolve, reject) => {
      const busy = this.workers.filter((w) => w.clients > 0);
      let left = busy.length;
      let last = 0;
      const timer = setTimeout(
        () => reject(new Error(`clients incomplete after ${timeoutMs} ms`)),
        timeoutMs,
      );
      for (const w of busy) {
        // A worker may have finished before we started waiting (e.g. while connect() was still resolving).
        if (w.doneAt) {
          last = Math.max(last, w.doneAt);
          if (--left === 0) {
            clearTimeout(timer);
            resolve(last);
          }
          continue;
        }
        w.onDone = (at) => {
          w.onDone = null;
          last = Math.max(last, at);
          if (--left === 0) {
            clearTimeout(timer);
            resolve(last);
          }
        };
      }
    });
  }

  /**
   * Wait until every client (or `need` of them) has every tracked line, or until nothing new arrived for
   * `stallMs` (then lines are lost), or `timeoutMs`. Resolves with whether they completed and, when all
   * clients completed, the last receipt time.
   * @param {{ stallMs?: number, timeoutMs?: number, need?: number }} [o]
   */
  async settle({ stallMs = 5000, timeoutMs = 120_000, need } = {}) {
    let doneAt = 0;
    const done = this.allDone(timeoutMs).then(
      (at) => {
        doneAt = at;
      },
      () => {},
    );
    const deadline = Date.now() + timeoutMs;
    let lastGot = -1;
    let lastChange = Date.now();
    let enough = false;
    while (!doneAt && !enough && Date.now() < deadline && Date.now() - lastChange < stallMs) {
      await Promise.race([done, new Promise((r) => setTimeout(r, need ? 20 : 200))]);
      if (doneAt) break;
      const s = await this.status();
      if (need && s.done >= need) enough = true;
      if (s.got !== lastGot) {
        lastGot = s.got;
        lastChange = Date.now();
      }
    }
    for (const w of this.workers) w.onDone = null;
    return { complete: doneAt > 0 || enough, at: doneAt };
  }

  async status() {
    const rs = await this.all({ op: "status" });
    return {
      primed: rs.reduce((a, r) => a + r.primed, 0),
      got: rs.reduce((a, r) => a + r.got, 0),
      done: rs.reduce((a, r) => a + r.done, 0),
      clients: rs.reduce((a, r) => a + r.clients, 0),
    };
  }

  /**
   * Wait until every client has received a primer line (seq < 0) written by `writePrimer()`, repeating it,
   * so a measurement starts only once every client is really following the file.
   * @param {() => void} writePrimer
   * @param {number} [timeoutMs]
   */
  async primeAll(writePrimer, timeoutMs = 60_000) {
    await this.all({ op: "unprime" });
    let lastWrite = 0;
    await waitFor(
      async () => {
        if (Date.now() - lastWrite > 500) {
          writePrimer();
          lastWrite = Date.now();
        }
        const s = await this.status();
        return s.primed === s.clients;
      },
      { timeoutMs, intervalMs: 50, what: "every client to receive the primer line" },
    );
  }

  /** Pause reading on the first `n` clients of each worker. */
  pause(n) {
    return this.all({ op: "pause", n });
  }

  async report() {
    const rs = await this.all({ op: "report" });
    const hist = new Histogram();
    for (const r of rs) hist.merge(r.hist);
    const sum = (/** @type {string} */ k) => rs.reduce((a, r) => a + r[k], 0);
    return {
      clients: sum("clients"),
      complete: sum("complete"),
      lost: sum("lost"),
      dup: sum("dup"),
      mangled: sum("mangled"),
      outside: sum("outside"),
      foreign: sum("foreign"),
      gaps: sum("gaps"),
      closed: sum("closed"),
      errors: sum("errors"),
      errorSamples: rs.flatMap((r) => r.errorSamples),
      firstDone: Math.min(...rs.map((r) => r.firstDone || Number.POSITIVE_INFINITY)),
      lastDone: Math.max(...rs.map((r) => r.lastDone)),
      latency: hist.summary(),
      /** The most recently connected client (the one normal client of the slow-clients bench). */
      last: rs.at(-1)?.last,
    };
  }

  /**
   * @param {string} system
   * @param {import("./systems/types.js").Target} target
   * @param {number} cycles
   * @param {number} concurrency per worker
   */
  async churn(system, target, cycles, concurrency) {
    const per = this.split(cycles);
    const rs = await Promise.all(
      this.workers.map((w, i) => w.call({ op: "churn", system, target, cycles: per[i], concurrency })),
    );
    return {
      cycles,
      failed: rs.reduce((a, r) => a + r.failed, 0),
      ms: Math.max(...rs.map((r) => r.ms)),
      errorSamples: rs.flatMap((r) => r.errorSamples),
    };
  }

  /** CPU seconds the client processes have used so far (to tell a client-bound measurement). */
  cpuSeconds() {
    return this.workers.reduce((a, w) => a + (procStat(w.pid)?.cpuS ?? 0), 0);
  }

  /** Close every client; the workers stay for the next system. */
  async disconnectAll() {
    await this.all({ op: "close" });
    for (const w of this.workers) w.clients = 0;
  }

  /** Close every client and stop the workers. Idempotent. */
  async close() {
    if (this.closed) return;
    this.closed = true;
    await Promise.all(
      this.workers.map(async (w) => {
        if (w.child.exitCode === null) {
          await Promise.race([
            w.call({ op: "close" }).catch(() => {}),
            new Promise((r) => setTimeout(r, 10_000)),
          ]);
        }
        if (w.child.connected) w.child.disconnect();
        await stopTree(w.pid);
        untrack(w.pid);
      }),
    );
  }
}
