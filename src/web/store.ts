import { parseEntry } from "../core/entry.js";
import { positionKey } from "../protocol/lines-frame.js";
import type { WireLine } from "../protocol/messages.js";
import { BLOCK_CHARS, BLOCK_ROWS, type Code, OpenBlock, PackedBlock, type RowSource } from "./line-block.js";

/**
 * One stream's lines in memory, packed in blocks (line-block.ts: a few thousand lines' texts in one string with
 * offsets, cursors as tails of a shared prefix, typed columns for time, level and sequence number), so a line
 * costs its text and about a dozen bytes. Rows are lines or "gap" rows (lines known to exist but not loaded).
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

export const DEFAULT_CAP = 5_000_000;
const MINUTE = 60_000;
/** Blocks smaller than this are packed again with a neighbour (see mergeSmall). */
const SMALL_BLOCK = BLOCK_ROWS / 8;

/** A line as handed to the store: the wire shape. */
/**
 * A line as the store takes it: its level comes from the text itself (parseEntry, as the server parses), its time
 * from the source's own (`ts`, a container's record time) when it has one, else from the text; `ch` marks stderr.
 */
export type InLine = Pick<WireLine, "seq" | "text" | "c" | "trunc" | "ch" | "ts">;

export class StreamStore {
  readonly cap: number;
  /** Packed rows, oldest first; starts[k] is the absolute index of blocks[k]'s first row. */
  private blocks: PackedBlock[] = [];
  private starts: number[] = [];
  /** Rows held in blocks; the rows after them are in `open`. */
  private packedRows = 0;
  private open = new OpenBlock();
  /** The block of the last lookup (rows are mostly read in runs), and the row within it. */
  private hint = 0;
  private j = 0;
  /**
   * Set once rows are copied in from other stores (a merged view): blocks keep those rows' strings rather than
   * packing a copy of their text, so a merged row costs its columns, not its text again.
   */
  private shareTexts = false;
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
    return this.packedRows + this.open.n;
  }

  onChange(listener: StoreListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  text(i: number): string {
    return this.find(i)?.text(this.j) ?? "";
  }
  cursor(i: number): string {
    return this.find(i)?.cursor(this.j) ?? "";
  }
  seq(i: number): number {
    return this.find(i)?.seq(this.j) ?? -1;
  }
  /** Epoch ms, NaN when the line has no timestamp. */
  time(i: number): number {
    return this.find(i)?.time(this.j) ?? Number.NaN;
  }
  level(i: number): LvlCode {
    return ((this.find(i)?.code(this.j) ?? Lvl.info) & LEVEL_BITS) as LvlCode;
  }
  /** The line came on stderr (a container's or a command's). */
  stderr(i: number): boolean {
    return ((this.find(i)?.code(this.j) ?? 0) & STDERR) !== 0;
  }
  /** The line's real length in bytes when the row holds only its head (pages and frames carry 64 KiB), else undefined. */
  trunc(i: number): number | undefined {
    return this.find(i)?.trunc(this.j);
  }
  /** Rows (relative) whose text is only a head, in order. */
  cutRows(): number[] {
    const rows: number[] = [];
    this.blocks.forEach((b, k) => {
      const at = (this.starts[k] as number) - this.base;
      for (const j of b.marked("cuts")) rows.push(at + j);
    });
    this.open.cuts.forEach((c, j) => {
      if (c !== undefined) rows.push(this.packedRows + j);
    });
    return rows;
  }
  isGap(i: number): boolean {
    return this.level(i) === Lvl.gap;
  }
  gap(i: number): GapInfo | undefined {
    return this.find(i)?.gapInfo(this.j);
  }

  /**
   * The texts of rows [from, to) as packed runs, in order: visit gets a string in which row `row + k` is
   * text[offsets[first + k], offsets[first + k + 1] - 1) for k < count, each row followed by "\n" (gap rows are
   * empty). Lets a scan search whole blocks instead of a string per row.
   */
  textRuns(
    from: number,
    to: number,
    visit: (text: string, offsets: ArrayLike<number>, first: number, row: number, count: number) => void,
  ): void {
    let i = Math.max(0, from);
    const end = Math.min(to, this.length);
    while (i < end && i < this.packedRows) {
      const b = this.find(i) as PackedBlock;
      const j = this.j;
      const count = Math.min(b.n - j, end - i);
      const { text, offsets, first } = b.packedText();
      visit(text, offsets, first + j, i, count);
      i += count;
    }
    if (i < end) {
      // The open block's rows are strings of their own: joined for the scan (at most one block's worth).
      const o = this.open;
      const parts: string[] = [];
      const offsets = [0];
      let at = 0;
      for (let r = i; r < end; r++) {
        const t = o.text(r - this.packedRows);
        parts.push(t);
        at += t.length + 1;
        offsets.push(at);
      }
      visit(`${parts.join("\n")}\n`, offsets, 0, i, end - i);
    }
  }

  /** Rows (relative) among [from, to) that are gap rows, ascending. */
  gapRows(from = 0, to = this.length): number[] {
    const rows: number[] = [];
    this.blocks.forEach((b, k) => {
      const at = (this.starts[k] as number) - this.base;
      if (at + b.n <= from || at >= to) return;
      for (const j of b.marked("gaps")) if (at + j >= from && at + j < to) rows.push(at + j);
    });
    this.open.gaps.forEach((g, j) => {
      const r = this.packedRows + j;
      if (g !== undefined && r >= from && r < to) rows.push(r);
    });
    return rows;
  }

  /** Live lines: appended at the end; they advance the resume cursor. */
  appendLive(lines: readonly InLine[]): void {
    const last = lines[lines.length - 1];
    if (!last) return;
    this.resumeCursor = last.c;
    for (const l of lines) this.pushLine(this.open, l);
    this.sealIfFull();
    this.afterPush(lines.length);
  }

  /** A server-reported gap in live delivery: shown as a row; live delivery continues at `to`. */
  appendGap(info: GapInfo): void {
    this.resumeCursor = info.to;
    this.open.push("", info.to, -1, Number.NaN, Lvl.gap, undefined, info);
    this.sealIfFull();
    this.afterPush(1);
  }

  /**
   * Older lines (from `before` paging) put in front of row 0. `headCursor` is the cursor before the first of
   * them (null at the start of the file). Beyond the cap, the newest rows make room and become a gap row.
   */
  prepend(lines: readonly InLine[], headCursor: string | null, reachedStart: boolean): void {
    this.headCursor = headCursor;
    this.atFileStart = reachedStart;
    this.insertLines(0, lines);
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
      const rows = new OpenBlock();
      rows.push("", gapTo, -1, Number.NaN, Lvl.gap, undefined, {
        from: last.c,
        to: gapTo,
        reason: "not-loaded",
      });
      this.insertBlock(0, rows);
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
      this.removeRows(row, 1);
    } else if (last) {
      info.from = last.c;
      if (info.skipped !== undefined) info.skipped = Math.max(0, info.skipped - lines.length);
    } else {
      info.unavailable = true;
    }
    if (lines.length > 0) this.insertLines(row, lines);
    else this.notify({ kind: "remove", at: row, count: 0 });
    this.trimTail();
  }

  /**
   * Rows of another store (a merged view's members) put at `row`, copied (no re-parse): lines keep their text,
   * cursor, time, level and cut mark; a gap row shares its GapInfo with the source, so filling it there can be
   * found from here. Beyond the cap the oldest rows are dropped, as for live lines.
   */
  insertCopied(
    row: number,
    stores: readonly StreamStore[],
    srcs: ArrayLike<number>,
    rows: ArrayLike<number>,
  ): void {
    const n = rows.length;
    if (n === 0) return;
    this.shareTexts = true;
    const batch = new OpenBlock();
    for (let k = 0; k < n; k++) {
      const r = rows[k] as number;
      const from = stores[srcs[k] as number] as StreamStore;
      const src = from.find(r);
      const j = from.j;
      if (!src) continue;
      const code = src.code(j);
      const time = src.time(j);
      if ((code & LEVEL_BITS) === Lvl.gap) {
        const info = src.gapInfo(j) ?? { from: null, to: src.cursor(j), reason: "not-loaded" };
        batch.push("", src.cursor(j), -1, Number.NaN, code, undefined, info);
      } else {
        batch.push(src.text(j), src.cursor(j), src.seq(j), time, code, src.trunc(j), undefined);
        this.count(time, code, 1);
      }
    }
    if (row >= this.length) {
      this.open.insert(this.open.n, batch);
      this.sealIfFull();
      this.afterPush(batch.n);
      return;
    }
    this.insertBlock(row, batch);
    this.notify({ kind: "insert", at: row, count: batch.n });
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
    const hit = (c: string, code: Code) =>
      c.startsWith(key) && c.lastIndexOf(".") === dot && (code & LEVEL_BITS) !== Lvl.gap;
    const o = this.open;
    for (let j = o.n - 1; j >= 0; j--) if (hit(o.cursor(j), o.code(j))) return this.packedRows + j;
    for (let k = this.blocks.length - 1; k >= 0; k--) {
      const b = this.blocks[k] as PackedBlock;
      if (!b.mayHoldKey(key)) continue;
      const at = (this.starts[k] as number) - this.base;
      for (let j = b.n - 1; j >= 0; j--) if (hit(b.cursor(j), b.code(j))) return at + j;
    }
    return -1;
  }

  clear(): void {
    this.blocks = [];
    this.starts = [];
    this.packedRows = 0;
    this.open = new OpenBlock();
    this.hint = 0;
    this.minutes.clear();
    this.headCursor = null;
    this.atFileStart = false;
    this.notify({ kind: "clear" });
  }

  // ---- internals ----

  /** The block holding row i (and this.j set to the row within it), or null outside the rows. */
  private find(i: number): RowSource | null {
    if (!(i >= 0 && i < this.length)) return null;
    if (i >= this.packedRows) {
      this.j = i - this.packedRows;
      return this.open;
    }
    const abs = this.base + i;
    const { blocks, starts } = this;
    let k = this.hint;
    if (!this.inBlock(k, abs)) {
      if (this.inBlock(k + 1, abs)) k++;
      else {
        let lo = 0;
        let hi = blocks.length - 1;
        while (lo < hi) {
          const mid = (lo + hi + 1) >>> 1;
          if ((starts[mid] as number) <= abs) lo = mid;
          else hi = mid - 1;
        }
        k = lo;
      }
      this.hint = k;
    }
    this.j = abs - (starts[k] as number);
    return blocks[k] as PackedBlock;
  }

  private inBlock(k: number, abs: number): boolean {
    const s = this.starts[k];
    return s !== undefined && s <= abs && abs < s + (this.blocks[k] as PackedBlock).n;
  }

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

  /** Parses a line (level from its text, time from the source or the text) into `rows`, counted by minute. */
  private pushLine(rows: OpenBlock, l: InLine): void {
    const { tsMs, level } = parseEntry(l.text);
    const t = timeOf(l, tsMs);
    const lvl = LEVEL_CODE[level] ?? Lvl.info;
    rows.push(l.text, l.c, l.seq, t, l.ch === "stderr" ? lvl | STDERR : lvl, l.trunc, undefined);
    this.count(t, lvl, 1);
  }

  private insertLines(row: number, lines: readonly InLine[]): void {
    if (lines.length === 0) return;
    const rows = new OpenBlock();
    for (const l of lines) this.pushLine(rows, l);
    this.insertBlock(row, rows);
    this.notify({ kind: "insert", at: row, count: rows.n });
  }

  private afterPush(count: number): void {
    this.notify({ kind: "append", count });
    const excess = this.length - this.cap;
    if (excess > 0) this.evict(excess);
  }

  private sealIfFull(): void {
    if (this.open.full) this.seal();
  }

  /** Packs the open block's rows (in blocks of BLOCK_ROWS / BLOCK_CHARS) after the packed ones. */
  private seal(): void {
    const o = this.open;
    if (o.n === 0) return;
    this.open = new OpenBlock();
    const at = this.blocks.length;
    for (const b of packRuns(o, this.shareTexts)) {
      this.starts.push(this.base + this.packedRows);
      this.blocks.push(b);
      this.packedRows += b.n;
    }
    this.mergeSmall(at);
  }

  /**
   * Rows put at `row` (not counted or notified here). Into the open block when they land among its rows, else
   * packed and put between blocks (the block they land in split in two views).
   */
  private insertBlock(row: number, rows: OpenBlock): void {
    const n = rows.n;
    if (n === 0) return;
    if (row >= this.packedRows) {
      this.open.insert(row - this.packedRows, rows);
      if (row === 0) this.base -= n;
      this.sealIfFull();
      return;
    }
    const k = this.splitAt(row);
    const fresh = packRuns(rows, this.shareTexts);
    if (row === 0) this.base -= n;
    else for (let m = k; m < this.blocks.length; m++) this.starts[m] = (this.starts[m] as number) + n;
    let at = this.base + row;
    const starts: number[] = [];
    for (const b of fresh) {
      starts.push(at);
      at += b.n;
    }
    this.blocks.splice(k, 0, ...fresh);
    this.starts.splice(k, 0, ...starts);
    this.packedRows += n;
    this.mergeSmall(k + fresh.length);
    this.mergeSmall(k);
  }

  /** Makes a block start at relative row `row` (< packedRows): returns its index. */
  private splitAt(row: number): number {
    if (row >= this.packedRows) return this.blocks.length;
    const b = this.find(row) as PackedBlock;
    const k = this.hint;
    const j = this.j;
    if (j === 0) return k;
    this.blocks.splice(k, 1, b.view(0, j), b.view(j, b.n));
    this.starts.splice(k + 1, 0, (this.starts[k] as number) + j);
    return k + 1;
  }

  /**
   * Packs the blocks around index k again together while they are small (splits and inserts leave them so) and
   * fit one block; a small view alone on a much bigger storage is packed on its own, so that storage can go.
   */
  private mergeSmall(at: number): void {
    const blocks = this.blocks;
    const k = Math.min(at, blocks.length - 1);
    if (k < 0) return;
    const small = (m: number) => (blocks[m] as PackedBlock).n < SMALL_BLOCK;
    let lo = k;
    let hi = k;
    let rows = (blocks[k] as PackedBlock).n;
    const take = (m: number, from: number) => {
      const n = (blocks[m] as PackedBlock).n;
      if (rows + n > BLOCK_ROWS || !(small(m) || small(from))) return false;
      rows += n;
      return true;
    };
    while (lo > 0 && take(lo - 1, lo)) lo--;
    while (hi + 1 < blocks.length && take(hi + 1, hi)) hi++;
    const one = blocks[k] as PackedBlock;
    if (lo === hi && !(small(k) && one.stored > 2 * one.n)) return;
    const merged = new OpenBlock();
    for (let m = lo; m <= hi; m++) {
      const b = blocks[m] as PackedBlock;
      copyRows(b, 0, b.n, merged);
    }
    blocks.splice(lo, hi - lo + 1, PackedBlock.pack(merged, 0, merged.n, this.shareTexts));
    this.starts.splice(lo + 1, hi - lo);
  }

  private evict(n: number): void {
    // The cursor after the last dropped row is where row 0 starts: "load older" pages back from it.
    this.headCursor = this.cursor(n - 1);
    for (let i = 0; i < n; i++) {
      const src = this.find(i);
      if (src) this.count(src.time(this.j), src.code(this.j), -1);
    }
    let left = n;
    let drop = 0;
    while (drop < this.blocks.length && (this.blocks[drop] as PackedBlock).n <= left) {
      left -= (this.blocks[drop] as PackedBlock).n;
      drop++;
    }
    this.blocks.splice(0, drop);
    this.starts.splice(0, drop);
    this.packedRows -= n - left;
    const first = this.blocks[0];
    if (first && left > 0) {
      this.blocks[0] = first.view(left, first.n);
      this.starts[0] = (this.starts[0] as number) + left;
      this.packedRows -= left;
      left = 0;
    }
    if (left > 0) this.open.remove(0, left);
    this.hint = 0;
    this.atFileStart = false;
    this.base += n;
    this.notify({ kind: "evict", count: n });
  }

  private removeRows(row: number, n: number): void {
    if (n <= 0) return;
    for (let i = row; i < row + n; i++) {
      const src = this.find(i);
      if (src) this.count(src.time(this.j), src.code(this.j), -1);
    }
    if (row >= this.packedRows) this.open.remove(row - this.packedRows, n);
    else {
      if (row + n > this.packedRows) this.seal();
      const k = this.splitAt(row);
      const end = this.splitAt(row + n);
      this.blocks.splice(k, end - k);
      this.starts.splice(k, end - k);
      for (let m = k; m < this.blocks.length; m++) this.starts[m] = (this.starts[m] as number) - n;
      this.packedRows -= n;
      this.hint = 0;
      this.mergeSmall(k);
    }
    this.notify({ kind: "remove", at: row, count: n });
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
    this.removeRows(keep, this.length - keep);
    this.open.push("", to, -1, Number.NaN, Lvl.gap, undefined, { from, to, skipped, reason: "memory-cap" });
    this.sealIfFull();
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

/** The rows of an open block packed into blocks of at most BLOCK_ROWS rows and about BLOCK_CHARS characters. */
function packRuns(rows: OpenBlock, share: boolean): PackedBlock[] {
  const out: PackedBlock[] = [];
  let from = 0;
  let chars = 0;
  for (let j = 0; j < rows.n; j++) {
    chars += rows.text(j).length + 1;
    if (j + 1 - from >= BLOCK_ROWS || chars >= BLOCK_CHARS || j + 1 === rows.n) {
      out.push(PackedBlock.pack(rows, from, j + 1, share));
      from = j + 1;
      chars = 0;
    }
  }
  return out;
}

function copyRows(src: RowSource, from: number, to: number, into: OpenBlock): void {
  for (let j = from; j < to; j++) {
    into.push(src.text(j), src.cursor(j), src.seq(j), src.time(j), src.code(j), src.trunc(j), src.gapInfo(j));
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
