import { Worker } from "node:worker_threads";
import type { Line } from "../core/line.js";
import type { AlertNotification } from "./alert.js";
import type {
  AlertEngineOptions,
  AlertSnapshot,
  FeedSource,
  LineTap,
  RuleCounters,
  TapEvent,
} from "./engine.js";
import type { EngineMirror, FromWorker, ToWorker, WorkerInit } from "./engine-thread-messages.js";
import { type ContiguousSource, packLines } from "./line-handover.js";
import type { RuleSpec } from "./rule-config.js";

export interface AlertEngineThreadOptions extends Omit<AlertEngineOptions, "scheduler"> {
  /**
   * Text (UTF-16 units) handed over and not yet evaluated beyond which new batches are dropped and counted
   * (linesDropped) instead of queued: the worker's queue never holds more (default 16 Mi, ~170k 100-byte lines).
   */
  queueChars?: number;
  /** How often the worker refreshes the firing alerts snapshot() returns while they change (default 250 ms). */
  stateIntervalMs?: number;
}

// Under vitest this module is src/alerts/engine-thread.ts, which Node cannot run as a worker: the worker is then
// the build's (test/global-setup.ts builds dist/ first). From dist/alerts/ and from the CLI bundle in dist/bin/
// it is the bundled entry beside main.js (rolldown.config.mjs).
const WORKER_URL = import.meta.url.endsWith(".ts")
  ? new URL("../../dist/bin/alerts-engine-worker.js", import.meta.url)
  : new URL("../bin/alerts-engine-worker.js", import.meta.url);

/** At most one warning about dropped lines this often (a worker that stays behind drops in many episodes). */
const DROP_WARNING_MS = 60_000;

/** A worker that crashes this soon after it started is restarted only after this long (no crash loop). */
const QUICK_CRASH_MS = 1_000;
/** After this many such crashes in a row (a worker that cannot even start) it is not restarted again. */
const MAX_QUICK_CRASHES = 5;

interface Pending {
  message: ToWorker & { id: number };
  resolve: () => void;
}

/**
 * The AlertEngine's API with the engine in a worker thread: the main thread, which feeds every client, only packs
 * each feed batch (texts, sizes, one cursor per run: line-handover.ts) and posts it; rules, timers and the state
 * file live in the worker (engine-worker.ts). Lines and events reach it in the order the hub saw them. snapshot()
 * and counters() stay synchronous: they read a mirror kept from the notifications (exact) and from the worker's
 * periodic state (firing alerts' counts and evidence, at most stateIntervalMs old). A worker that falls more than
 * queueChars behind gets no more lines until it catches up (counted, with one warning per episode); one that
 * crashes is reported and restarted from its state file.
 */
export class AlertEngineThread implements LineTap {
  private rules: readonly RuleSpec[];
  private readonly streams = new Set<string>();
  private readonly recent = new Map<string, AlertNotification>();
  private firing = new Map<string, AlertNotification>();
  private counts = new Map<string, RuleCounters>();
  private readonly queueChars: number;
  private readonly recentLimit: number;
  private worker!: Worker;
  private progress!: BigInt64Array;
  private startedAt = 0;
  private postedLines = 0;
  private postedChars = 0;
  private readonly pending = new Map<number, Pending>();
  private nextId = 1;
  private dropping = false;
  private warnedAt = Number.NEGATIVE_INFINITY;
  private dropped = 0;
  private restartCount = 0;
  private restartTimer: NodeJS.Timeout | null = null;
  private quickCrashes = 0;
  /** Given up on after MAX_QUICK_CRASHES: lines are counted as dropped, requests answered at once. */
  private stopped = false;
  private closing = false;
  private closed = false;

  constructor(private readonly options: AlertEngineThreadOptions) {
    this.rules = options.rules;
    this.queueChars = options.queueChars ?? 16 * 1024 * 1024;
    this.recentLimit = options.recentLimit ?? 200;
    this.spawn();
  }

  /** Lines not evaluated because the worker was too far behind (or crashed with them queued). */
  get linesDropped(): number {
    return this.dropped;
  }

  /** Times the worker crashed and was started again. */
  get restarts(): number {
    return this.restartCount;
  }

  /** Loads the state file (in the worker) and starts the rules. */
  async start(): Promise<void> {
    await this.request("start");
  }

  attach(hub: FeedSource & { tap(tap: LineTap): () => void }): () => void {
    this.watch(hub.name);
    return hub.tap(this);
  }

  watch(stream: string): void {
    if (this.streams.has(stream)) return;
    this.streams.add(stream);
    this.post({ t: "watch", stream });
  }

  onLines(source: FeedSource, lines: readonly Line[]): void {
    if (this.closing || lines.length === 0) return;
    if (this.restartTimer !== null || this.stopped) {
      // The worker is down (waiting to be restarted, or given up on): these lines cannot be evaluated.
      this.dropped += lines.length;
      return;
    }
    // A stream first seen here (tapped without attach): the worker's engine watches it then, as in-thread.
    this.streams.add(source.name);
    const behind = this.postedChars - Number(Atomics.load(this.progress, 1));
    if (behind > 0 && behind >= this.queueChars) {
      this.dropped += lines.length;
      const now = Date.now();
      if (!this.dropping && now - this.warnedAt >= DROP_WARNING_MS) {
        this.warnedAt = now;
        this.report(
          new Error(
            `alert rules are ${Math.round(behind / 2 ** 20)} Mi characters behind the streams: new lines are not evaluated until they catch up (${this.dropped} so far; livetrail_alerts_lines_dropped_total counts them)`,
          ),
        );
      }
      this.dropping = true;
      return;
    }
    this.dropping = false;
    const batch = packLines(source.name, lines, source as ContiguousSource);
    this.postedLines += lines.length;
    this.postedChars += batch.chars;
    this.post({ t: "lines", at: Date.now(), ...batch });
  }

  onEvent(source: FeedSource, event: TapEvent): void {
    if (this.closing) return;
    this.streams.add(source.name);
    const wire = event.type === "error" ? { type: "error" as const, message: event.error.message } : event;
    this.post({ t: "event", at: Date.now(), stream: source.name, cursor: source.cursor, event: wire });
  }

  reload(rules: readonly RuleSpec[]): void {
    this.rules = rules;
    this.post({ t: "reload", rules });
  }

  snapshot(): AlertSnapshot {
    const firing = [...this.firing.values()].sort((a, b) => b.startsAt.localeCompare(a.startsAt));
    return { firing, recent: [...this.recent.values()].reverse() };
  }

  counters(): Map<string, RuleCounters> {
    for (const spec of this.rules) this.counter(spec.name);
    return new Map([...this.counts].map(([k, v]) => [k, { ...v }]));
  }

  get ruleSpecs(): RuleSpec[] {
    return [...this.rules];
  }

  /** Resolves once the worker has evaluated everything handed to it so far; snapshot() then reflects it. */
  async flush(): Promise<void> {
    await this.request("flush");
  }

  async save(): Promise<void> {
    await this.request("save");
  }

  /** Stops the rules and writes the state file (in the worker), then ends the worker; idempotent. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    if (this.stopped) {
      this.closed = true;
      return;
    }
    if (this.restartTimer !== null) {
      clearTimeout(this.restartTimer);
      this.restartTimer = null;
      this.closed = true;
      return;
    }
    const exited = new Promise<void>((resolve) => this.worker.once("exit", () => resolve()));
    await this.request("close");
    // The answer unref'd the worker: keep it ref'd until it has exited, or a process with nothing else to wait for
    // ends with this promise unsettled (exit status 13 from the CLI's top-level await).
    this.worker.ref();
    this.closed = true;
    await exited;
  }

  private spawn(): void {
    const progress = new SharedArrayBuffer(16);
    const init: WorkerInit = {
      rules: this.rules,
      stateFile: this.options.stateFile ?? null,
      progress,
      stateIntervalMs: this.options.stateIntervalMs ?? 250,
      ...(this.options.saveIntervalMs === undefined ? {} : { saveIntervalMs: this.options.saveIntervalMs }),
      ...(this.options.backlogMs === undefined ? {} : { backlogMs: this.options.backlogMs }),
      ...(this.options.recentLimit === undefined ? {} : { recentLimit: this.options.recentLimit }),
    };
    const worker = new Worker(WORKER_URL, { workerData: init });
    this.worker = worker;
    this.progress = new BigInt64Array(progress);
    this.postedLines = 0;
    this.postedChars = 0;
    this.startedAt = Date.now();
    // Like the engine's timers, the worker does not keep the process alive; a request in flight does (ref()).
    worker.unref();
    worker.on("message", (m: FromWorker) => this.onMessage(m));
    worker.on("error", (error) => this.report(new Error(`alert rule worker: ${error.message}`)));
    worker.on("exit", (code) => this.onExit(worker, code));
  }

  private onMessage(m: FromWorker): void {
    switch (m.t) {
      case "notify":
        this.mirrorNotification(m.n);
        return;
      case "error":
        this.report(new Error(m.message));
        return;
      case "state":
        this.mirrorState(m);
        return;
      case "reply": {
        this.mirrorState(m);
        const p = this.pending.get(m.id);
        if (p === undefined) return;
        this.pending.delete(m.id);
        if (this.pending.size === 0) this.worker.unref();
        p.resolve();
        return;
      }
    }
  }

  private onExit(worker: Worker, code: number): void {
    if (worker !== this.worker || this.closed) return;
    if (this.closing) {
      // Ended while closing (its reply may not have come): nothing more to wait for.
      for (const p of this.pending.values()) p.resolve();
      this.pending.clear();
      this.closed = true;
      return;
    }
    const lost = this.postedLines - Number(Atomics.load(this.progress, 0));
    this.dropped += lost;
    const quick = Date.now() - this.startedAt < QUICK_CRASH_MS;
    this.quickCrashes = quick ? this.quickCrashes + 1 : 0;
    if (this.quickCrashes >= MAX_QUICK_CRASHES) {
      this.stopped = true;
      for (const p of this.pending.values()) p.resolve();
      this.pending.clear();
      this.report(
        new Error(
          `alert rule worker exited (code ${code}) ${this.quickCrashes} times in a row within ${QUICK_CRASH_MS / 1000} s of starting: alert rules are stopped until the server restarts (lines are counted in livetrail_alerts_lines_dropped_total)`,
        ),
      );
      return;
    }
    this.report(
      new Error(
        `alert rule worker exited (code ${code}) with ${lost} lines not evaluated; restarting it from its state file${quick ? ` in ${QUICK_CRASH_MS / 1000} s` : ""}`,
      ),
    );
    const restart = (): void => {
      this.restartTimer = null;
      this.restartCount++;
      this.spawn();
      for (const stream of this.streams) this.post({ t: "watch", stream });
      // Requests in flight go to the new worker in their order, after a start (theirs, if start was one).
      const again = [...this.pending.values()].map((p) => p.message);
      if (again[0]?.t !== "start") this.post({ t: "start", id: this.nextId++ });
      for (const message of again) this.post(message);
      if (this.pending.size > 0) this.worker.ref();
    };
    if (quick) this.restartTimer = setTimeout(restart, QUICK_CRASH_MS).unref();
    else restart();
  }

  private mirrorNotification(n: AlertNotification): void {
    const c = this.counter(n.rule);
    if (n.status === "firing") {
      c.fired++;
      this.firing.set(n.id, n);
    } else {
      c.resolved++;
      this.firing.delete(n.id);
    }
    this.recent.delete(n.id);
    this.recent.set(n.id, n);
    if (this.recent.size > this.recentLimit) this.recent.delete(this.recent.keys().next().value as string);
    try {
      this.options.onNotify?.(n);
    } catch (error) {
      this.report(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private mirrorState(m: EngineMirror): void {
    this.firing = new Map(m.firing.map((n) => [n.id, n]));
    this.counts = new Map(m.counters);
  }

  private counter(rule: string): RuleCounters {
    let c = this.counts.get(rule);
    if (c === undefined) {
      c = { fired: 0, resolved: 0, suppressed: 0 };
      this.counts.set(rule, c);
    }
    return c;
  }

  private request(t: "start" | "save" | "flush" | "close"): Promise<void> {
    if (this.closed || this.stopped) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const message = { t, id: this.nextId++ };
      this.pending.set(message.id, { message, resolve });
      this.worker.ref();
      this.worker.postMessage(message);
    });
  }

  private post(message: ToWorker): void {
    if (!this.stopped) this.worker.postMessage(message);
  }

  private report(error: Error): void {
    this.options.onError?.(error);
  }
}
