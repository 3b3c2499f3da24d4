import { parseEntry } from "../core/entry.js";
import { positionKey } from "../protocol/lines-frame.js";
import type { WireLine } from "../protocol/messages.js";
import { spliceIn } from "./splice-in.js";

/**
 * One stream's lines in memory, held compactly in parallel arrays (no object per line), so a million lines
 * cost little more than their text. Rows are lines or "gap" rows (lines known to exist but not loaded).
 *
 * Rows have an absolute index (`base + i`) that does not change when lines are appended, the oldest are
 * dropped, or older lines are prepended; only an insert in the middle (filling a gap) renumbers rows, and
 * that is reported as such so the filter can start over.
 */

/** Level codes as stored; GAP marks a gap row. */
export const Lvl = { info: 0, ok: 1, warn: 2, error: 3, gap: 4 } as const;
export type LvlCode = (typeof Lvl)[keyof typeof Lvl];
const LEVEL_CODE: Record<string, LvlCode> = { ok: Lvl.ok, warn: Lvl.warn, error: Lvl.error };
/** A bit beside the level in the levels column: the line came on stderr (frames' `err`, lines' `ch`). */
const STDERR = 8;
const LEVEL_BITS = 7;

export interface GapInfo {
  /** Cursor of the last line before the gap (null: from the start of the file). */
  from: string | null;
  /** Cursor where the lines after the gap continue. */
  to: string;
  /** Lines in the gap, when known. */
  skipped?: number | undefined;
  reason: string;
  /** Set once a fill found no more lines between from and to: the file no longer holds them. */
  unavailable?: boolean;
  /** A marker row's own words (a command's exit: its code and restart), shown instead of the reason's. */
  note?: string;
  /** What the server's count says the gap holds (`GET /api/streams/:name/count`), once asked; times in epoch ms. */
  lines?: number;
  errors?: number;
  firstTime?: number;
  lastTime?: number;
  /** False when the server stopped counting at its time limit: the numbers are a lower bound. */
  countExact?: boolean;
  /** Set while the gap is being loaded: lines loaded so far, of how many (null: unknown). */
  filling?: { done: number; total: number | null };
}

export type StoreChange =
  /** `count` rows were appended at the end. */
  | { kind: "append"; count: number }
  /** `count` rows were dropped from the start (base moved up). */
  | { kind: "evict"; count: number }
  /** `count` rows were inserted at row `at` (0 = prepend; base moved down by count). */
  | { kind: "insert"; at: number; count: number }
  /** `count` rows were removed at row `at` (not at the start). */
  | { kind: "remove"; at: number; count: number }
  | { kind: "clear" };

export type StoreListener = (change: StoreChange) => void;

export interface StoreOptions {
  /** Most rows held; beyond it the oldest are dropped (they can be loaded again from the server). */
  cap?: number;
}

export const DEFAULT_CAP = 1_000_000;
const MINUTE = 60_000;

/** A line as handed to the store: the wire shape. */
/**
 * A line as the store takes it: its level comes from the text itself (parseEntry, as the server parses), its time
 * from the source's own (`ts`, a container's record time) when it has one, else from the text; `ch` marks stderr.
 */
export type InLine = Pick<WireLine, "seq" | "text" | "c" | "trunc" | "ch" | "ts">;

export class StreamStore {
  readonly cap: number;
  // Parallel columns; row i lives at column index start + i. Dropped rows are released lazily (compaction).
  private texts: string[] = [];
  private cursors: string[] = [];
  private seqs: number[] = [];
  private times: number[] = [];
  private levels: number[] = [];
  private start = 0;
  private gapInfo = new Map<number, GapInfo>();
  /**
   * Rows whose text is only the head of a longer line (pages and `/ws` frames carry a line's first 64 KiB), by
   * absolute row: the line's real length in bytes. Sparse: most lines are short.
   */
  private cuts = new Map<number, number>();
  private nextGapId = 1;
  private listeners = new Set<StoreListener>();
  /** Absolute index of row 0. */
  base = 0;
  /** Cursor just before row 0 (null when unknown or at the start of the file). */
  headCursor: string | null = null;
  /** True once paging back reached the start of the file. */
  atFileStart = false;
  /** Cursor after the newest live line: where a reconnect resumes. */
  resumeCursor: string | null = null;
  /** Entries and errors per minute (key: minute since epoch) over the rows in memory. */
  readonly minutes = new Map<number, { entries: number; errors: number }>();

  constructor(options: StoreOptions = {}) {
    const cap = options.cap ?? DEFAULT_CAP;
    if (!Number.isInteger(cap) || cap < 1)
      throw new RangeError(`store cap must be a positive integer, got ${cap}`);
    this.cap = cap;
  }

  get length(): number {
    return this.texts.length - this.start;
  }

  onChange(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  text(i: number): string {
    return this.texts[this.start + i] ?? "";
  }
  cursor(i: number): string {
    return this.cursors[this.start + i] ?? "";
  }
  seq(i: number): number {
    return this.seqs[this.start + i] ?? -1;
  }
  /** Epoch ms, NaN when the line has no timestamp. */
  time(i: number): number {
    return this.times[this.start + i] ?? Number.NaN;
  }
  level(i: number): LvlCode {
    return ((this.levels[this.start + i] ?? Lvl.info) & LEVEL_BITS) as LvlCode;
  }
  /** The line came on stderr (a container's or a command's). */
  stderr(i: number): boolean {
    return ((this.levels[this.start + i] ?? 0) & STDERR) !== 0;
  }
  /** The line's real length in bytes when the row holds only its head (see `cuts`), else undefined. */
  trunc(i: number): number | undefined {
    return this.cuts.size === 0 ? undefined : this.cuts.get(this.base + i);
  }
  /** Rows (relative) whose text is only a head, in order. */
  cutRows(): number[] {
    const rows: number[] = [];
    for (const abs of this.cuts.keys()) rows.push(abs - this.base);
    return rows.sort((a, b) => a - b);
  }
  isGap(i: number): boolean {
    return this.level(i) === Lvl.gap;
  }
  gap(i: number): GapInfo | undefined {
    return this.isGap(i) ? this.gapInfo.get(this.seq(i)) : undefined;
  }

  /** Live lines: appended at the end; they advance the resume cursor. */
  appendLive(lines: readonly InLine[]): void {
    const last = lines[lines.length - 1];
    if (!last) return;
    this.resumeCursor = last.c;
    this.pushRows(lines);
  }

  /** A server-reported gap in live delivery: shown as a row; live delivery continues at `to`. */
  appendGap(info: GapInfo): void {
    this.resumeCursor = info.to;
    const id = this.nextGapId++;
    this.gapInfo.set(id, info);
    this.texts.push("");
    this.cursors.push(info.to);
    this.seqs.push(id);
    this.times.push(Number.NaN);
    this.levels.push(Lvl.gap);
    this.afterPush(1);
  }

  /**
   * Older lines (from `before` paging) put in front of row 0. `headCursor` is the cursor before the first of
   * them (null at the start of the file). Beyond the cap, the newest rows make room and become a gap row.
   */
  prepend(lines: readonly InLine[], headCursor: string | null, reachedStart: boolean): void {
    this.headCursor = headCursor;
    this.atFileStart = reachedStart;
    this.insertRows(0, lines);
    this.trimTail();
  }

  /**
   * A block of lines not adjacent to row 0 (e.g. a jump to a time before everything in memory): put in front,
   * with a gap row between it and the old row 0 so the hole stays visible and fillable.
   */
  prependDetached(lines: readonly InLine[], headCursor: string | null, reachedStart: boolean): void {
    const last = lines[lines.length - 1];
    if (!last) return;
    const gapTo = this.headCursor;
    if (this.length > 0 && gapTo !== null) {
      const id = this.nextGapId++;
      this.gapInfo.set(id, { from: last.c, to: gapTo, reason: "not-loaded" });
      this.insertColumns(0, [""], [gapTo], [id], [Number.NaN], [Lvl.gap]);
      this.notify({ kind: "insert", at: 0, count: 1 });
    }
    this.prepend(lines, headCursor, reachedStart);
  }

  /**
   * Lines loaded for the gap at row `row`: they go before it. When `complete`, the gap row is removed,
   * otherwise it shrinks to start after the last loaded line (or is marked unavailable if nothing came).
   */
  fillGap(row: number, lines: readonly InLine[], complete: boolean): void {
    const info = this.gap(row);
    if (!info) throw new RangeError(`row ${row} is not a gap`);
    const last = lines[lines.length - 1];
    if (complete) {
      this.gapInfo.delete(this.seq(row));
      this.removeRows(row, 1);
    } else if (last) {
      info.from = last.c;
      if (info.skipped !== undefined) info.skipped = Math.max(0, info.skipped - lines.length);
    } else {
      info.unavailable = true;
    }
    if (lines.length > 0) this.insertRows(row, lines);
    else this.notify({ kind: "remove", at: row, count: 0 });
    this.trimTail();
  }

  /**
   * Rows of another store (a merged view's members) put at `row`, copied column by column (no re-parse): lines
   * keep their text, cursor, time, level and cut mark; a gap row shares its GapInfo with the source, so filling it
   * there can be found from here. Beyond the cap the oldest rows are dropped, as for live lines.
   */
  insertCopied(
    row: number,
    stores: readonly StreamStore[],
    srcs: ArrayLike<number>,
    rows: ArrayLike<number>,
  ): void {
    const n = rows.length;
    if (n === 0) return;
    // Filled by push, not preallocated: V8 keeps a large `new Array(n)` as a slow dictionary (a rebuild copies
    // up to a million rows).
    const texts: string[] = [];
    const cursors: string[] = [];
    const seqs: number[] = [];
    const times: number[] = [];
    const levels: number[] = [];
    const cut: [number, number][] = [];
    for (let k = 0; k < n; k++) {
      const r = rows[k] as number;
      const from = stores[srcs[k] as number] as StreamStore;
      const lvl = from.level(r);
      const time = from.time(r);
      texts.push(from.text(r));
      cursors.push(from.cursor(r));
      times.push(time);
      levels.push(from.stderr(r) ? lvl | STDERR : lvl);
      if (lvl === Lvl.gap) {
        const id = this.nextGapId++;
        this.gapInfo.set(id, from.gap(r) ?? { from: null, to: from.cursor(r), reason: "not-loaded" });
        seqs.push(id);
      } else {
        seqs.push(from.seq(r));
        const t = from.trunc(r);
        if (t !== undefined) cut.push([k, t]);
        this.count(time, lvl, 1);
      }
    }
    if (row >= this.length) {
      const at = this.base + this.length;
      // A loop, not push(...rows): a rebuild copies up to the cap, past the engine's argument limit.
      for (let k = 0; k < n; k++) {
        this.texts.push(texts[k] as string);
        this.cursors.push(cursors[k] as string);
        this.seqs.push(seqs[k] as number);
        this.times.push(times[k] as number);
        this.levels.push(levels[k] as number);
      }
      for (const [k, bytes] of cut) this.cuts.set(at + k, bytes);
      this.afterPush(n);
      return;
    }
    this.insertColumns(row, texts, cursors, seqs, times, levels);
    for (const [k, bytes] of cut) this.cuts.set(this.base + row + k, bytes);
    this.notify({ kind: "insert", at: row, count: n });
    const excess = this.length - this.cap;
    if (excess > 0) this.evict(excess);
  }

  /** Row of the first line at or after `ms` (binary search; lines without time take a neighbour's). */
  rowAtTime(ms: number): number {
    let lo = 0;
    let hi = this.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.nearTime(mid) < ms) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Oldest and newest timestamp in memory (NaN when none). */
  timeRange(): [number, number] {
    return [this.nearTime(0), this.nearTime(this.length - 1)];
  }

  /** Row holding the line at this cursor's position, or -1 (newest first: recent lines are looked up most). */
  rowOfCursor(cursor: string): number {
    // The position part of the cursor, computed once rather than per row.
    const key = positionKey(cursor);
    const dot = key.endsWith(".") ? key.length - 1 : -1;
    for (let i = this.length - 1; i >= 0; i--) {
      const c = this.cursors[this.start + i] as string;
      if (c.startsWith(key) && c.lastIndexOf(".") === dot && !this.isGap(i)) return i;
    }
    return -1;
  }

  clear(): void {
    this.texts = [];
    this.cursors = [];
    this.seqs = [];
    this.times = [];
    this.levels = [];
    this.start = 0;
    this.gapInfo.clear();
    this.cuts.clear();
    this.minutes.clear();
    this.headCursor = null;
    this.atFileStart = false;
    this.notify({ kind: "clear" });
  }

  // ---- internals ----

  private nearTime(i: number): number {
    // Scan a little each way for a timestamp; lines without one sit at their neighbour's time.
    for (let d = 0; d < 64; d++) {
      const a = this.time(i - d);
      if (i - d >= 0 && !Number.isNaN(a)) return a;
      const b = this.time(i + d);
      if (i + d < this.length && !Number.isNaN(b)) return b;
    }
    return Number.NaN;
  }

  private pushRows(lines: readonly InLine[]): void {
    for (const l of lines) {
      const { tsMs, level } = parseEntry(l.text);
      const t = timeOf(l, tsMs);
      const lvl = LEVEL_CODE[level] ?? Lvl.info;
      if (l.trunc !== undefined) this.cuts.set(this.base + this.length, l.trunc);
      this.texts.push(l.text);
      this.cursors.push(l.c);
      this.seqs.push(l.seq);
      this.times.push(t);
      this.levels.push(l.ch === "stderr" ? lvl | STDERR : lvl);
      this.count(t, lvl, 1);
    }
    this.afterPush(lines.length);
  }

  private afterPush(count: number): void {
    this.notify({ kind: "append", count });
    const excess = this.length - this.cap;
    if (excess > 0) this.evict(excess);
  }

  private evict(n: number): void {
    const end = this.start + n;
    // The cursor after the last dropped row is where row 0 starts: "load older" pages back from it.
    this.headCursor = this.cursors[end - 1] ?? null;
    for (let j = this.start; j < end; j++) {
      this.count(this.times[j] ?? Number.NaN, this.levels[j] ?? 0, -1);
      if (this.levels[j] === Lvl.gap) this.gapInfo.delete(this.seqs[j] ?? 0);
      this.texts[j] = ""; // release the strings now; the slots go at the next compaction
      this.cursors[j] = "";
    }
    this.atFileStart = false;
    this.start = end;
    this.base += n;
    if (this.cuts.size > 0) for (const abs of this.cuts.keys()) if (abs < this.base) this.cuts.delete(abs);
    if (this.start > 4096 && this.start * 2 > this.texts.length) this.compact();
    this.notify({ kind: "evict", count: n });
  }

  private compact(): void {
    this.texts.splice(0, this.start);
    this.cursors.splice(0, this.start);
    this.seqs.splice(0, this.start);
    this.times.splice(0, this.start);
    this.levels.splice(0, this.start);
    this.start = 0;
  }

  private insertRows(row: number, lines: readonly InLine[]): void {
    if (lines.length === 0) return;
    const n = lines.length;
    const texts = new Array<string>(n);
    const cursors = new Array<string>(n);
    const seqs = new Array<number>(n);
    const times = new Array<number>(n);
    const levels = new Array<number>(n);
    const cut: [number, number][] = [];
    for (let k = 0; k < n; k++) {
      const l = lines[k] as InLine;
      const { tsMs, level } = parseEntry(l.text);
      const t = timeOf(l, tsMs);
      const lvl = LEVEL_CODE[level] ?? Lvl.info;
      texts[k] = l.text;
      cursors[k] = l.c;
      seqs[k] = l.seq;
      times[k] = t;
      levels[k] = l.ch === "stderr" ? lvl | STDERR : lvl;
      if (l.trunc !== undefined) cut.push([k, l.trunc]);
      this.count(t, lvl, 1);
    }
    this.insertColumns(row, texts, cursors, seqs, times, levels);
    // After insertColumns: base is final (moved down for a prepend), rows at and after `row` renumbered.
    for (const [k, bytes] of cut) this.cuts.set(this.base + row + k, bytes);
    this.notify({ kind: "insert", at: row, count: n });
  }

  private insertColumns(
    row: number,
    texts: string[],
    cursors: string[],
    seqs: number[],
    times: number[],
    levels: number[],
  ): void {
    if (row === 0) this.base -= texts.length;
    // Rows after an insert in the middle move up by its size (a prepend renumbers nothing: base moved instead).
    else this.shiftCuts(this.base + row, texts.length);
    const at = this.start + row;
    spliceIn(this.texts, at, texts);
    spliceIn(this.cursors, at, cursors);
    spliceIn(this.seqs, at, seqs);
    spliceIn(this.times, at, times);
    spliceIn(this.levels, at, levels);
  }

  private removeRows(row: number, n: number): void {
    const at = this.start + row;
    for (let j = at; j < at + n; j++) this.count(this.times[j] ?? Number.NaN, this.levels[j] ?? 0, -1);
    this.texts.splice(at, n);
    this.cursors.splice(at, n);
    this.seqs.splice(at, n);
    this.times.splice(at, n);
    this.levels.splice(at, n);
    if (this.cuts.size > 0) {
      for (let k = 0; k < n; k++) this.cuts.delete(this.base + row + k);
      this.shiftCuts(this.base + row + n, -n);
    }
    this.notify({ kind: "remove", at: row, count: n });
  }

  /** Moves the cut marks of absolute rows >= `from` by `delta` (rows were inserted or removed before them). */
  private shiftCuts(from: number, delta: number): void {
    if (this.cuts.size === 0) return;
    const moved: [number, number][] = [];
    for (const [abs, bytes] of this.cuts) if (abs >= from) moved.push([abs, bytes]);
    for (const [abs] of moved) this.cuts.delete(abs);
    for (const [abs, bytes] of moved) this.cuts.set(abs + delta, bytes);
  }

  /** Over the cap after an insert: drop the newest rows into one gap row (the live end stays resumable). */
  private trimTail(): void {
    const excess = this.length - this.cap;
    if (excess <= 0) return;
    const keep = this.cap - 1; // one slot for the gap row
    const from = keep > 0 ? this.cursor(keep - 1) : this.headCursor;
    const to = this.cursor(this.length - 1);
    let skipped = 0;
    for (let i = keep; i < this.length; i++) {
      const g = this.gap(i);
      skipped += g ? (g.skipped ?? 0) : 1;
    }
    const n = this.length - keep;
    for (let i = keep; i < this.length; i++) {
      const g = this.isGap(i);
      if (g) this.gapInfo.delete(this.seq(i));
    }
    this.removeRows(keep, n);
    const id = this.nextGapId++;
    this.gapInfo.set(id, { from, to, skipped, reason: "memory-cap" });
    this.texts.push("");
    this.cursors.push(to);
    this.seqs.push(id);
    this.times.push(Number.NaN);
    this.levels.push(Lvl.gap);
    this.notify({ kind: "append", count: 1 });
  }

  private count(t: number, code: number, delta: 1 | -1): void {
    const lvl = code & LEVEL_BITS;
    if (Number.isNaN(t) || lvl === Lvl.gap) return;
    const m = Math.floor(t / MINUTE);
    let b = this.minutes.get(m);
    if (!b) {
      if (delta < 0) return;
      b = { entries: 0, errors: 0 };
      this.minutes.set(m, b);
    }
    b.entries += delta;
    if (lvl === Lvl.error) b.errors += delta;
    if (b.entries <= 0) this.minutes.delete(m);
  }

  private notify(change: StoreChange): void {
    for (const l of this.listeners) l(change);
  }
}

/** The source's own time of a line (`ts`) when it has a valid one, else the text's; NaN when neither. */
function timeOf(line: InLine, textMs: number | undefined): number {
  if (line.ts !== undefined) {
    const ms = Date.parse(line.ts);
    if (!Number.isNaN(ms)) return ms;
  }
  return textMs ?? Number.NaN;
}
