import { formatDuration } from "../core/duration.js";
import type { Entry } from "../core/entry.js";
import { type AlertHost, AlertState } from "./alert-state.js";
import type { TimedEvidence } from "./evidence.js";
import { type BaselineState, EwmaBaseline } from "./ewma-baseline.js";
import { compileFilter, type LineFilter } from "./line-filter.js";
import type { PlannedRule } from "./match-plan.js";
import { type LineFilterSpec, type RuleSpec, ruleDefinition, type SourceEventKind } from "./rule-config.js";

/** What a rule keeps of one alert across a restart (the state file). */
export interface GroupSnapshot {
  labels: Record<string, string>;
  /** Silence: the last matching line's time, and whether it is one (false: when watching began). */
  lastSeen?: number;
  lastSeenIsMatch?: boolean;
  /** Anomaly: the baseline and the open bucket. */
  baseline?: BaselineState;
  bucket?: number;
  bucketCount?: number;
  /** An announced episode still firing: restored without announcing it again. */
  firing?: { id: string; startedAt: number; count: number };
  evidence?: TimedEvidence[];
}

/** Everything about one alert (rule + labels) besides its state machine. */
interface Group {
  alert: AlertState;
  /** Rate and source: the times of the last threshold+1 matches, a ring. */
  times: Float64Array | null;
  next: number;
  filled: number;
  baseline: EwmaBaseline | null;
  bucket: number;
  bucketCount: number;
  /** The first bucket began before this group existed: its count is short, so it is not folded in. */
  partial: boolean;
  lastSeen: number;
  lastSeenIsMatch: boolean;
  silenceTimer: (() => void) | null;
}

const ANY_STREAM = "*";

/**
 * One rule at work: its compiled line filter and its alerts by group. Kinds differ only in what makes an alert
 * trigger: every match (match), more than N in a sliding window (rate), a bucket far above the baseline
 * (anomaly), a period with no match (silence), feed events (source).
 */
export class RuleRuntime implements PlannedRule {
  readonly definition: string;
  readonly filter: LineFilter;
  private readonly groups = new Map<string, Group>();
  private readonly what: string;

  constructor(
    readonly spec: RuleSpec,
    private readonly host: AlertHost,
  ) {
    this.definition = ruleDefinition(spec);
    const filterSpec: LineFilterSpec =
      spec.kind === "source"
        ? { pattern: null, regex: false, caseSensitive: true, levels: null }
        : spec.filter;
    // A source rule sees no lines: its filter is never planned (isLineRule) and matches nothing.
    this.filter =
      spec.kind === "source"
        ? { literals: null, literalsFolded: false, test: () => false }
        : compileFilter(filterSpec);
    this.what = describeFilter(filterSpec);
  }

  appliesTo(stream: string): boolean {
    return this.spec.streams === null || this.spec.streams.includes(stream);
  }

  get isLineRule(): boolean {
    return this.spec.kind !== "source";
  }

  /** A stream exists: a silence rule starts watching it (a stream that never writes must still alarm). */
  watch(stream: string, now: number): void {
    if (this.spec.kind !== "silence" || !this.appliesTo(stream)) return;
    this.group(this.labelsFor(stream, null), now);
  }

  /** A matching line; `history` lines (older than the backlog limit) only tell silence rules when it was seen. */
  onLine(stream: string, item: TimedEvidence, entry: () => Entry, now: number, history: boolean): void {
    const spec = this.spec;
    if (spec.kind === "silence") {
      const g = this.group(this.labelsFor(stream, null), now);
      // A live line was seen now; a history line at its own time, which only counts if it is newer.
      const at = history ? (entry().tsMs as number) : now;
      if (!g.lastSeenIsMatch || at > g.lastSeen) g.lastSeen = at;
      g.lastSeenIsMatch = true;
      if (now - g.lastSeen < spec.periodMs) g.alert.resolve(now);
      g.alert.observe(item);
      return;
    }
    if (history) return;
    const g = this.group(this.labelsFor(stream, entry), now);
    const alert = g.alert;
    alert.observe(item);
    switch (spec.kind) {
      case "match":
        alert.trigger(
          now,
          now,
          1,
          (n) => `${n} ${plural(n, "line")} matching ${this.what} on ${where(alert)}`,
        );
        return;
      case "rate":
        if (this.countAndCheck(g, now, spec.windowMs)) {
          alert.trigger(
            now,
            now - spec.windowMs,
            g.filled,
            (n) =>
              `more than ${spec.threshold} ${plural(spec.threshold, "line")} matching ${this.what} within ` +
              `${formatDuration(spec.windowMs)} on ${where(alert)} (${n} in this episode)`,
          );
        }
        return;
      case "anomaly": {
        this.roll(g, now);
        g.bucketCount++;
        const base = g.baseline as EwmaBaseline;
        if (base.buckets < spec.warmup || g.bucketCount < spec.minCount) return;
        const z = base.zScore(g.bucketCount);
        if (z < spec.zScore) return;
        const mean = base.mean;
        const bucketStart = g.bucket * spec.bucketMs;
        alert.trigger(
          now,
          bucketStart,
          g.bucketCount,
          (n) =>
            `${n} ${plural(n, "line")} matching ${this.what} on ${where(alert)} since ${new Date(bucketStart).toISOString()}, ` +
            `against a baseline of ${mean.toFixed(1)} per ${formatDuration(spec.bucketMs)} (z = ${z.toFixed(1)})`,
        );
        return;
      }
    }
  }

  /** A feed event of a source rule's kind. */
  onEvent(stream: string, kind: SourceEventKind, item: TimedEvidence, now: number): void {
    const spec = this.spec;
    if (spec.kind !== "source" || !spec.events.includes(kind) || !this.appliesTo(stream)) return;
    const g = this.group(this.labelsFor(stream, null), now);
    g.alert.observe(item);
    if (!this.countAndCheck(g, now, spec.windowMs)) return;
    const alert = g.alert;
    g.alert.trigger(
      now,
      now - spec.windowMs,
      g.filled,
      (n) => `${n} ${plural(n, "event")} (${spec.events.join(", ")}) on ${where(alert)}`,
    );
  }

  /** Alerts as they stand, for the snapshot. */
  alerts(): AlertState[] {
    return [...this.groups.values()].map((g) => g.alert);
  }

  /** What survives a restart: silence times, anomaly baselines, announced episodes still firing. */
  snapshot(now: number): GroupSnapshot[] {
    const out: GroupSnapshot[] = [];
    for (const g of this.groups.values()) {
      const s: GroupSnapshot = { labels: { ...g.alert.labels } };
      if (this.spec.kind === "silence") {
        s.lastSeen = g.lastSeen;
        s.lastSeenIsMatch = g.lastSeenIsMatch;
      }
      if (g.baseline !== null) {
        this.roll(g, now);
        s.baseline = g.baseline.toJSON();
        s.bucket = g.bucket;
        s.bucketCount = g.bucketCount;
      }
      const a = g.alert;
      if (a.firing && a.announced) {
        s.firing = { id: a.episodeId, startedAt: a.startedAt, count: a.count };
      }
      const evidence = a.timedEvidence();
      if (evidence.length > 0) s.evidence = evidence;
      out.push(s);
    }
    return out;
  }

  /** Takes back what snapshot() saved under the same definition. */
  restore(groups: readonly GroupSnapshot[], now: number): void {
    for (const s of groups) {
      const g = this.group(s.labels, now, s);
      if (s.firing !== undefined) {
        const a = g.alert;
        const autoResolve = this.spec.kind !== "silence";
        a.restore(
          now,
          s.firing.startedAt,
          s.firing.id,
          s.firing.count,
          (n) => `${this.describeRestored(a)} (${n} so far, before a restart)`,
          autoResolve,
        );
      }
    }
  }

  /** Ends every episode (the rule was removed or changed): receivers get a resolution, not a stuck alert. */
  dispose(now: number): void {
    for (const g of this.groups.values()) {
      g.alert.resolve(now);
      g.alert.dispose();
      g.silenceTimer?.();
    }
    this.groups.clear();
  }

  /** Timers only (engine close): firing state stays for the state file. */
  stop(): void {
    for (const g of this.groups.values()) {
      g.alert.dispose();
      g.silenceTimer?.();
      g.silenceTimer = null;
    }
  }

  private describeRestored(alert: AlertState): string {
    return `${this.spec.kind} rule on ${where(alert)}: ${this.what}`;
  }

  private labelsFor(stream: string, entry: (() => Entry) | null): Record<string, string> {
    const by = this.spec.groupBy;
    const labels: Record<string, string> = { stream: by.includes("stream") ? stream : ANY_STREAM };
    if (entry !== null && by.includes("level") && this.spec.kind !== "silence") labels.level = entry().level;
    return labels;
  }

  private group(labels: Record<string, string>, now: number, saved?: GroupSnapshot): Group {
    const key = labels.level === undefined ? (labels.stream as string) : `${labels.stream}\0${labels.level}`;
    let g = this.groups.get(key);
    if (g !== undefined) return g;
    const spec = this.spec;
    const size = spec.kind === "rate" || spec.kind === "source" ? spec.threshold + 1 : 0;
    g = {
      alert: new AlertState(spec, labels, this.host),
      times: size > 0 ? new Float64Array(size) : null,
      next: 0,
      filled: 0,
      baseline: spec.kind === "anomaly" ? new EwmaBaseline(spec.baseline, saved?.baseline) : null,
      bucket: spec.kind === "anomaly" ? (saved?.bucket ?? Math.floor(now / spec.bucketMs)) : 0,
      bucketCount: saved?.bucketCount ?? 0,
      partial: spec.kind === "anomaly" && saved?.bucket === undefined && now % spec.bucketMs !== 0,
      lastSeen: saved?.lastSeen ?? now,
      lastSeenIsMatch: saved?.lastSeenIsMatch ?? false,
      silenceTimer: null,
    };
    for (const item of saved?.evidence ?? []) g.alert.observe(item);
    this.groups.set(key, g);
    if (spec.kind === "silence") this.armSilence(g, g.lastSeen + spec.periodMs);
    return g;
  }

  /** Adds a match to the ring; true when the ring holds more than `threshold` matches within `windowMs`. */
  private countAndCheck(g: Group, now: number, windowMs: number): boolean {
    const times = g.times as Float64Array;
    times[g.next] = now;
    g.next = (g.next + 1) % times.length;
    if (g.filled < times.length) g.filled++;
    // Once full, the slot to write next holds the oldest of the last threshold+1 matches.
    return g.filled === times.length && now - (times[g.next] as number) <= windowMs;
  }

  /** Closes the buckets that ended before `now` into the baseline (empty ones too). */
  private roll(g: Group, now: number): void {
    const spec = this.spec;
    if (spec.kind !== "anomaly") return;
    const bucket = Math.floor(now / spec.bucketMs);
    if (bucket <= g.bucket) return;
    const base = g.baseline as EwmaBaseline;
    if (!g.partial) base.add(g.bucketCount);
    base.addEmpty(bucket - g.bucket - 1);
    g.bucket = bucket;
    g.bucketCount = 0;
    g.partial = false;
  }

  /** One timer per silence alert, checked when due and re-armed from the last match (none per line). */
  private armSilence(g: Group, atMs: number): void {
    const spec = this.spec;
    if (spec.kind !== "silence") return;
    const scheduler = this.host.scheduler;
    g.silenceTimer = scheduler.at(atMs, () => {
      g.silenceTimer = null;
      const now = scheduler.now();
      const due = g.lastSeen + spec.periodMs;
      if (now < due) {
        this.armSilence(g, due);
        return;
      }
      const alert = g.alert;
      const since = g.lastSeen;
      const seen = g.lastSeenIsMatch;
      alert.trigger(
        now,
        Number.NEGATIVE_INFINITY,
        0,
        () =>
          `no line matching ${this.what} on ${where(alert)} for ${formatDuration(now - since)}` +
          (seen ? ` (last seen ${new Date(since).toISOString()})` : " since watching began"),
        false,
      );
      // Once resolved by a match, the next period is watched again.
      this.armSilence(g, Math.max(now, g.lastSeen) + spec.periodMs);
    });
  }
}

function describeFilter(f: LineFilterSpec): string {
  const parts: string[] = [];
  if (f.pattern !== null) {
    const text = f.regex ? `/${f.pattern}/` : JSON.stringify(f.pattern);
    parts.push(f.caseSensitive ? text : `${text} (any case)`);
  }
  if (f.levels !== null) parts.push(`level ${f.levels.join("|")}`);
  return parts.join(" at ");
}

function where(alert: AlertState): string {
  const stream = alert.labels.stream;
  const onStream = stream === ANY_STREAM ? "any stream" : (stream as string);
  return alert.labels.level === undefined ? onStream : `${onStream} (${alert.labels.level})`;
}

function plural(n: number, word: string): string {
  return n === 1 ? word : `${word}s`;
}
