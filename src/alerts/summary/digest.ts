import { type EntryLevel, parseEntry } from "../../core/entry.js";
import { type AlertRecord, parseAlertRecord } from "./alert-records.js";
import { maskMessage } from "./mask.js";
import { MessageGroups } from "./message-groups.js";

/** A digest of one period of logs: what `livetrail summary` prints or posts. */
export interface Digest {
  since: string;
  until: string;
  lines: number;
  byLevel: Record<EntryLevel, number>;
  streams: { stream: string; lines: number; byLevel: Record<EntryLevel, number> }[];
  /** The most frequent messages by shape (numbers, ids, times masked), largest first. */
  top: TopMessage[];
  /** Shapes were dropped from the bounded table (counts of rare shapes may be short: see maxUndercount). */
  groupsEvicted: number;
  firstError: DigestLine | null;
  lastError: DigestLine | null;
  /** Null when the alerts state was not available (no alerts stream). */
  alerts: AlertsDigest | null;
}

export interface TopMessage {
  template: string;
  example: string;
  level: EntryLevel;
  count: number;
  maxUndercount: number;
  first: string | null;
  last: string | null;
}

export interface DigestLine {
  stream: string;
  time: string | null;
  text: string;
}

export interface AlertsDigest {
  /** Firing notifications in the period (the first MAX_ALERTS), oldest first. */
  fired: AlertRecord[];
  firedCount: number;
  resolvedCount: number;
  /** Silence (dead man's switch) rules that fired: something expected did not happen. */
  silences: AlertRecord[];
}

export interface DigestOptions {
  sinceMs: number;
  untilMs: number;
  /** Messages listed (default 10). */
  topN?: number;
  /** Message shapes tracked at most (default 2000): the memory bound of a digest. */
  groupCapacity?: number;
}

const MAX_ALERTS = 200;
const MAX_LINE_CHARS = 1_000;

const zero = (): Record<EntryLevel, number> => ({ error: 0, warn: 0, ok: 0, info: 0 });

/**
 * Builds a digest line by line in bounded memory: counters, one table of message shapes of fixed size, the first
 * and last error, and at most MAX_ALERTS alert records. Lines come in source order per stream; a line without a
 * time belongs where the stamped line before it does (a continuation), or to the period when none came before
 * (the reader started at the period's first line).
 */
export class DigestBuilder {
  private readonly byLevel = zero();
  private readonly streams = new Map<string, { lines: number; byLevel: Record<EntryLevel, number> }>();
  private readonly inPeriod = new Map<string, boolean>();
  private readonly groups: MessageGroups;
  private lines = 0;
  private firstError: (DigestLine & { ms: number | null }) | null = null;
  private lastError: (DigestLine & { ms: number | null }) | null = null;
  private alerts: AlertsDigest | null = null;

  constructor(private readonly options: DigestOptions) {
    this.groups = new MessageGroups(options.groupCapacity);
  }

  addLine(stream: string, text: string): void {
    const entry = parseEntry(text);
    if (entry.tsMs !== undefined) this.inPeriod.set(stream, entry.tsMs >= this.options.sinceMs);
    if (this.inPeriod.get(stream) === false) return;
    const atMs = entry.tsMs ?? null;
    this.lines++;
    this.byLevel[entry.level]++;
    let s = this.streams.get(stream);
    if (s === undefined) {
      s = { lines: 0, byLevel: zero() };
      this.streams.set(stream, s);
    }
    s.lines++;
    s.byLevel[entry.level]++;
    const message =
      entry.message.length > MAX_LINE_CHARS ? entry.message.slice(0, MAX_LINE_CHARS) : entry.message;
    this.groups.add(maskMessage(message), message, entry.level, atMs);
    if (entry.level === "error") {
      const line = { stream, time: entry.ts ?? null, text: text.slice(0, MAX_LINE_CHARS), ms: atMs };
      // Streams are read one after another: first and last are by time where the lines have one.
      if (this.firstError === null || earlier(line.ms, this.firstError.ms)) this.firstError = line;
      if (this.lastError === null || !earlier(line.ms, this.lastError.ms)) this.lastError = line;
    }
  }

  /** The alerts stream was found (even if it holds nothing in the period): the digest says "none fired". */
  alertsAvailable(): void {
    this.alerts ??= { fired: [], firedCount: 0, resolvedCount: 0, silences: [] };
  }

  /** A line of the alerts stream: a notification in the period is counted, anything else ignored. */
  addAlertLine(text: string): void {
    this.alertsAvailable();
    const alerts = this.alerts as AlertsDigest;
    const record = parseAlertRecord(text);
    if (record === null) return;
    const at = Date.parse(record.status === "firing" ? record.startsAt : (record.endsAt ?? record.startsAt));
    if (!Number.isNaN(at) && at < this.options.sinceMs) return;
    if (record.status === "resolved") {
      alerts.resolvedCount++;
      return;
    }
    alerts.firedCount++;
    if (alerts.fired.length < MAX_ALERTS) alerts.fired.push(record);
    if (record.kind === "silence" && alerts.silences.length < MAX_ALERTS) alerts.silences.push(record);
  }

  result(): Digest {
    const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());
    const line = (l: (DigestLine & { ms: number | null }) | null): DigestLine | null =>
      l === null ? null : { stream: l.stream, time: l.time, text: l.text };
    return {
      since: toSeconds(this.options.sinceMs),
      until: toSeconds(this.options.untilMs),
      lines: this.lines,
      byLevel: { ...this.byLevel },
      streams: [...this.streams].map(([stream, s]) => ({
        stream,
        lines: s.lines,
        byLevel: { ...s.byLevel },
      })),
      top: this.groups.top(this.options.topN ?? 10).map((g) => ({
        template: g.template,
        example: g.example,
        level: g.level,
        count: g.count,
        maxUndercount: g.maxUndercount,
        first: iso(g.firstMs),
        last: iso(g.lastMs),
      })),
      groupsEvicted: this.groups.evicted,
      firstError: line(this.firstError),
      lastError: line(this.lastError),
      alerts: this.alerts,
    };
  }
}

/** ISO time to the second, as entries are stamped. */
function toSeconds(ms: number): string {
  return new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");
}

/** a is before b; a line without a time is never before one with. */
function earlier(a: number | null, b: number | null): boolean {
  return a !== null && (b === null || a < b);
}
