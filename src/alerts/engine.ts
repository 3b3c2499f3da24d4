import type { Line } from "../core/line.js";
import type { AlertNotification } from "./alert.js";
import type { AlertHost, AlertState } from "./alert-state.js";
import { boundText, lineEvidence, type TimedEvidence } from "./evidence.js";
import { MatchPlan } from "./match-plan.js";
import type { RuleSpec, SourceEventKind } from "./rule-config.js";
import { RuleRuntime } from "./rule-runtime.js";
import { type Scheduler, systemScheduler } from "./scheduler.js";
import { type EngineState, readState, writeState } from "./state-file.js";

/** A stream as the engine sees it: the Hub satisfies this (alerts/ does not depend on server/). */
export interface FeedSource {
  readonly name: string;
  /** Cursor after the last line read (an event's evidence points there), null before the source exists. */
  readonly cursor: string | null;
}

/** The feed events a tap receives (backend FeedEvent minus lines), plus a command stream's exit. */
export type TapEvent =
  | { type: "reset"; reason: string; cursor: string }
  | { type: "missing" }
  | { type: "gap"; reason: string; from: string | null; to: string; skipped?: number }
  | { type: "error"; error: Error }
  | { type: "exited"; code: number | null; signal?: string | null; cursor?: string }
  /** The stream's sealed history no longer matches its source (docs/integrity.md): `finding` says how. */
  | { type: "tampered"; finding: string };

/** Structurally the Hub's FeedTap. */
export interface LineTap {
  onLines(source: FeedSource, lines: readonly Line[]): void;
  onEvent(source: FeedSource, event: TapEvent): void;
}

export interface AlertEngineOptions {
  rules: readonly RuleSpec[];
  /** Every notification (firing, resolved), synchronously: queue delivery, do not block. The object is shared
   * with snapshot(): treat it as read-only. */
  onNotify?: (notification: AlertNotification) => void;
  /** Problems the engine keeps going through (a state file it cannot write). */
  onError?: (error: Error) => void;
  scheduler?: Scheduler;
  /** Where silence times and anomaly baselines survive a restart; null: kept in memory only. */
  stateFile?: string | null;
  /** How often changed state is written (default 30 s; also on close). */
  saveIntervalMs?: number;
  /** A line whose own time is older than this is history (the tail a feed starts with): it only tells silence
   * rules when it was seen (default 5 min). */
  backlogMs?: number;
  /** Notifications kept for snapshot() (default 200). */
  recentLimit?: number;
}

export interface RuleCounters {
  fired: number;
  resolved: number;
  /** Episodes that started and ended within a cooldown, never announced. */
  suppressed: number;
}

export interface AlertSnapshot {
  /** Announced alerts firing now, newest first. */
  firing: AlertNotification[];
  /** The latest notifications (firing and resolved), newest first, each episode once in its latest state. */
  recent: AlertNotification[];
}

/**
 * Evaluates every rule on every line in the pass that feeds clients (a tap on each stream's hub). Per stream one
 * MatchPlan decides which line rules a line matches; each rule's alerts then trigger, resolve and announce on
 * the injected scheduler's time.
 */
export class AlertEngine implements LineTap {
  private rules = new Map<string, RuleRuntime>();
  private plans = new Map<string, MatchPlan<RuleRuntime>>();
  private readonly streams = new Set<string>();
  private readonly recent = new Map<string, AlertNotification>();
  private readonly counts = new Map<string, RuleCounters>();
  private readonly scheduler: Scheduler;
  private readonly host: AlertHost;
  private readonly backlogMs: number;
  private readonly recentLimit: number;
  private saved: EngineState | null = null;
  /** Alerts that started firing during the batch being evaluated (null outside one). */
  private announcing: AlertState[] | null = null;
  private saveTimer: (() => void) | null = null;
  private saving: Promise<void> = Promise.resolve();
  private closed = false;

  constructor(private readonly options: AlertEngineOptions) {
    this.scheduler = options.scheduler ?? systemScheduler;
    this.backlogMs = options.backlogMs ?? 5 * 60_000;
    this.recentLimit = options.recentLimit ?? 200;
    this.host = {
      scheduler: this.scheduler,
      notify: (n) => this.notify(n),
      announce: (alert) => {
        if (this.announcing !== null) this.announcing.push(alert);
        else this.notify(alert.notification(this.scheduler.now()));
      },
      suppressed: (rule) => this.counter(rule).suppressed++,
    };
  }

  /** Loads the state file (when set), starts the rules and the periodic save. */
  async start(): Promise<void> {
    const file = this.options.stateFile ?? null;
    if (file !== null) this.saved = await readState(file, (e) => this.report(e));
    this.install(this.options.rules);
    if (file !== null) this.armSave();
  }

  /** Taps a hub (anything with `name`, `cursor` and `tap`); returns the function that detaches it. */
  attach(hub: FeedSource & { tap(tap: LineTap): () => void }): () => void {
    this.watch(hub.name);
    return hub.tap(this);
  }

  /** A stream exists: silence rules watch it from now on even if it never writes a line. */
  watch(stream: string): void {
    if (this.streams.has(stream)) return;
    this.streams.add(stream);
    const now = this.scheduler.now();
    for (const rule of this.rules.values()) rule.watch(stream, now);
  }

  onLines(source: FeedSource, lines: readonly Line[]): void {
    if (this.closed || lines.length === 0) return;
    const stream = source.name;
    const plan = this.plans.get(stream) ?? this.planFor(stream);
    if (plan.empty) return;
    const now = this.scheduler.now();
    const oldest = now - this.backlogMs;
    const announcing: AlertState[] = [];
    this.announcing = announcing;
    try {
      plan.run(lines, (rule, i, entry) => {
        const line = lines[i] as Line;
        const e = entry();
        const history = e.tsMs !== undefined && e.tsMs < oldest;
        const item: TimedEvidence = { at: now, evidence: lineEvidence(stream, line.text, line.cursor, e) };
        rule.onLine(stream, item, entry, now, history);
      });
    } finally {
      this.announcing = null;
    }
    for (const alert of announcing) if (alert.firing) this.notify(alert.notification(now));
  }

  onEvent(source: FeedSource, event: TapEvent): void {
    if (this.closed) return;
    const described = describeEvent(event);
    if (described === null) return;
    const now = this.scheduler.now();
    const cursor = ("cursor" in event && event.cursor) || ("to" in event && event.to) || source.cursor || "";
    const item: TimedEvidence = {
      at: now,
      evidence: {
        stream: source.name,
        text: boundText(described.text),
        time: new Date(now).toISOString(),
        cursor,
      },
    };
    for (const rule of this.rules.values()) rule.onEvent(source.name, described.kind, item, now);
  }

  /**
   * New rules (SIGHUP): a rule whose name and definition are unchanged keeps its state; a removed or changed
   * one resolves its firing alerts and is dropped; new ones start.
   */
  reload(rules: readonly RuleSpec[]): void {
    this.install(rules);
  }

  snapshot(): AlertSnapshot {
    const firing: AlertNotification[] = [];
    const now = this.scheduler.now();
    for (const rule of this.rules.values()) {
      for (const alert of rule.alerts())
        if (alert.firing && alert.announced) firing.push(alert.notification(now));
    }
    firing.sort((a, b) => b.startsAt.localeCompare(a.startsAt));
    return { firing, recent: [...this.recent.values()].reverse() };
  }

  /** Per rule name (every rule that ever notified or is configured). */
  counters(): Map<string, RuleCounters> {
    for (const name of this.rules.keys()) this.counter(name);
    return new Map([...this.counts].map(([k, v]) => [k, { ...v }]));
  }

  /** The rules in force. */
  get ruleSpecs(): RuleSpec[] {
    return [...this.rules.values()].map((r) => r.spec);
  }

  /** Writes the state file now (when set). */
  async save(): Promise<void> {
    const file = this.options.stateFile ?? null;
    if (file === null) return;
    const state = this.state();
    // One write at a time, in order: the last one holds the newest state.
    this.saving = this.saving.then(() => writeState(file, state)).catch((e: Error) => this.report(e));
    await this.saving;
  }

  /** Stops every timer and writes the state file; idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.saveTimer?.();
    this.saveTimer = null;
    const file = this.options.stateFile ?? null;
    if (file !== null) await this.save();
    for (const rule of this.rules.values()) rule.stop();
  }

  private install(specs: readonly RuleSpec[]): void {
    const now = this.scheduler.now();
    const next = new Map<string, RuleRuntime>();
    for (const spec of specs) {
      const old = this.rules.get(spec.name);
      const fresh = new RuleRuntime(spec, this.host);
      if (old !== undefined && old.definition === fresh.definition) {
        next.set(spec.name, old);
        continue;
      }
      const saved = this.saved?.rules[spec.name];
      if (saved !== undefined && saved.definition === fresh.definition) fresh.restore(saved.groups, now);
      for (const stream of this.streams) fresh.watch(stream, now);
      next.set(spec.name, fresh);
    }
    for (const [name, old] of this.rules) if (next.get(name) !== old) old.dispose(now);
    this.rules = next;
    this.saved = null;
    this.plans.clear();
  }

  private planFor(stream: string): MatchPlan<RuleRuntime> {
    // A stream first seen here (tapped without attach): its silence rules start watching it now.
    this.watch(stream);
    const rules = [...this.rules.values()].filter((r) => r.isLineRule && r.appliesTo(stream));
    const plan = new MatchPlan(rules);
    this.plans.set(stream, plan);
    return plan;
  }

  private notify(n: AlertNotification): void {
    const c = this.counter(n.rule);
    if (n.status === "firing") c.fired++;
    else c.resolved++;
    this.recent.delete(n.id);
    this.recent.set(n.id, n);
    if (this.recent.size > this.recentLimit) this.recent.delete(this.recent.keys().next().value as string);
    try {
      this.options.onNotify?.(n);
    } catch (error) {
      this.report(error instanceof Error ? error : new Error(String(error)));
    }
  }

  private counter(rule: string): RuleCounters {
    let c = this.counts.get(rule);
    if (c === undefined) {
      c = { fired: 0, resolved: 0, suppressed: 0 };
      this.counts.set(rule, c);
    }
    return c;
  }

  private state(): EngineState {
    const now = this.scheduler.now();
    const rules: EngineState["rules"] = {};
    for (const [name, rule] of this.rules)
      rules[name] = { definition: rule.definition, groups: rule.snapshot(now) };
    return { version: 1, savedAt: now, rules };
  }

  private armSave(): void {
    const every = this.options.saveIntervalMs ?? 30_000;
    this.saveTimer = this.scheduler.at(this.scheduler.now() + every, () => {
      if (this.closed) return;
      void this.save().then(() => {
        if (!this.closed) this.armSave();
      });
    });
  }

  private report(error: Error): void {
    this.options.onError?.(error);
  }
}

function describeEvent(event: TapEvent): { kind: SourceEventKind; text: string } | null {
  switch (event.type) {
    case "reset": {
      const kind = event.reason === "rotated" || event.reason === "truncated" ? event.reason : "restarted";
      return { kind, text: `the source was ${event.reason}; following goes on from its start` };
    }
    case "gap":
      return {
        kind: "gap",
        text: `lines could not be delivered (${event.reason}${event.skipped === undefined ? "" : `, ${event.skipped} skipped`})`,
      };
    case "missing":
      return { kind: "missing", text: "the source does not exist (any more); waiting for it" };
    case "error":
      return { kind: "error", text: `source error: ${event.error.message}` };
    case "exited":
      return {
        kind: "command-exited",
        text: `the command exited (${event.signal ? `signal ${event.signal}` : `code ${event.code}`})`,
      };
    case "tampered":
      return { kind: "tampered", text: `integrity: ${event.finding}` };
    default:
      return null;
  }
}
