import type { GapInfo } from "./store.js";

/**
 * Blocks of rows as the page's store holds them: a few thousand lines packed into one string each (texts joined,
 * each followed by "\n") with offsets, instead of a string and parsed fields per line. Cursors share their block's
 * common prefix and keep only their tails, joined the same way; times, levels and sequence numbers are typed
 * columns (a row costs about its text plus a dozen bytes). Gap rows and cut marks are sparse, by row in the block.
 *
 * The newest rows sit in an OpenBlock (plain arrays: appended to and spliced cheaply) until it is full and gets
 * packed. A PackedBlock is never changed: splitting, inserting or dropping rows makes views (lo, hi) on the same
 * storage, and small neighbours are packed again together (see StreamStore).
 */

/** Level and stderr bits of a row, as the store encodes them. */
export type Code = number;

/** What the store reads of a row, in any kind of block (j: the row within the block). */
export interface RowSource {
  readonly n: number;
  text(j: number): string;
  cursor(j: number): string;
  seq(j: number): number;
  /** Epoch ms, NaN when none. */
  time(j: number): number;
  code(j: number): Code;
  trunc(j: number): number | undefined;
  gapInfo(j: number): GapInfo | undefined;
}

/** Rows an OpenBlock is packed at, and the text it is packed at (a block of long lines stays small). */
export const BLOCK_ROWS = 4096;
export const BLOCK_CHARS = 1 << 20;

const NO_TIME = -0x80000000;

/** A block's storage: every column, shared by the views made from it. */
interface Packed {
  /** Rows' texts, each followed by "\n"; row j is text[toff[j], toff[j+1] - 1). */
  readonly text: string;
  readonly toff: Uint32Array;
  /** Instead, the rows' own strings (a block of another store's rows: they stay shared, not copied). */
  readonly texts: string[] | null;
  readonly cpre: string;
  readonly ctail: string;
  readonly coff: Uint32Array | Uint16Array;
  /** seqs null: row j's seq is seq0 + j (a frame's lines are numbered in a run). */
  readonly seq0: number;
  readonly seqs: Float64Array | null;
  /** times: ms after t0 (NO_TIME: none) when they fit 32 bits, else the epoch ms (NaN: none). */
  readonly t0: number;
  readonly times: Int32Array | Float64Array;
  readonly codes: Uint8Array;
  readonly cuts: Map<number, number> | null;
  readonly gaps: Map<number, GapInfo> | null;
}

export class PackedBlock implements RowSource {
  readonly n: number;

  private constructor(
    private readonly p: Packed,
    readonly lo: number,
    readonly hi: number,
  ) {
    this.n = hi - lo;
  }

  /**
   * Packs rows [from, to) of src (copied: src may change afterwards). With `share`, the texts stay the strings src
   * gives (a merged view's rows are another store's: their text is not held twice).
   */
  static pack(src: RowSource, from: number, to: number, share = false): PackedBlock {
    const n = to - from;
    const texts: string[] = [];
    const tails: string[] = [];
    const toff = new Uint32Array(n + 1);
    const first = n > 0 ? src.cursor(from) : "";
    let cpreLen = first.length;
    const cursors: string[] = [];
    let at = 0;
    for (let j = 0; j < n; j++) {
      const t = src.text(from + j);
      texts.push(t);
      at += t.length + 1;
      toff[j + 1] = at;
      const c = src.cursor(from + j);
      cursors.push(c);
      if (cpreLen > 0) cpreLen = commonPrefix(first, c, cpreLen);
    }
    const coffLen: number[] = [];
    let cat = 0;
    for (const c of cursors) {
      const tail = c.slice(cpreLen);
      tails.push(tail);
      cat += tail.length;
      coffLen.push(cat);
    }
    const coff = cat < 0x10000 ? new Uint16Array(n + 1) : new Uint32Array(n + 1);
    for (let j = 0; j < n; j++) coff[j + 1] = coffLen[j] as number;

    const seq0 = n > 0 ? src.seq(from) : 0;
    let run = true;
    const codes = new Uint8Array(n);
    let cuts: Map<number, number> | null = null;
    let gaps: Map<number, GapInfo> | null = null;
    let t0 = Number.NaN;
    let fits = true;
    for (let j = 0; j < n; j++) {
      codes[j] = src.code(from + j);
      if (src.seq(from + j) !== seq0 + j) run = false;
      const cut = src.trunc(from + j);
      if (cut !== undefined) {
        cuts ??= new Map();
        cuts.set(j, cut);
      }
      const g = src.gapInfo(from + j);
      if (g !== undefined) {
        gaps ??= new Map();
        gaps.set(j, g);
      }
      const t = src.time(from + j);
      if (Number.isNaN(t)) continue;
      if (Number.isNaN(t0)) t0 = t;
      const d = t - t0;
      if (!Number.isInteger(d) || d <= NO_TIME || d > 0x7fffffff) fits = false;
    }
    let seqs: Float64Array | null = null;
    if (!run) {
      seqs = new Float64Array(n);
      for (let j = 0; j < n; j++) seqs[j] = src.seq(from + j);
    }
    let times: Int32Array | Float64Array;
    if (fits) {
      times = new Int32Array(n);
      for (let j = 0; j < n; j++) {
        const t = src.time(from + j);
        times[j] = Number.isNaN(t) ? NO_TIME : t - t0;
      }
    } else {
      times = new Float64Array(n);
      for (let j = 0; j < n; j++) times[j] = src.time(from + j);
    }
    const packed: Packed = {
      // One flat string: join copies the rows' texts (often slices of a frame's text) into it.
      text: share || n === 0 ? "" : offHeap(`${texts.join("\n")}\n`),
      toff,
      texts: share ? texts : null,
      cpre: first.slice(0, cpreLen),
      ctail: tails.join(""),
      coff,
      seq0,
      seqs,
      t0: Number.isNaN(t0) ? 0 : t0,
      times,
      codes,
      cuts,
      gaps,
    };
    return new PackedBlock(packed, 0, n);
  }

  /** Rows [a, b) of this block (a view on the same storage). */
  view(a: number, b: number): PackedBlock {
    return new PackedBlock(this.p, this.lo + a, this.lo + b);
  }

  /** Rows of the storage this view keeps alive (more than it shows after a split or a partial drop). */
  get stored(): number {
    return this.p.codes.length;
  }

  text(j: number): string {
    const k = this.lo + j;
    const { toff, texts } = this.p;
    if (texts !== null) return texts[k] ?? "";
    return this.p.text.slice(toff[k] as number, (toff[k + 1] as number) - 1);
  }
  cursor(j: number): string {
    const k = this.lo + j;
    const { coff } = this.p;
    return this.p.cpre + this.p.ctail.slice(coff[k] as number, coff[k + 1] as number);
  }
  seq(j: number): number {
    const { seqs, seq0 } = this.p;
    return seqs === null ? seq0 + this.lo + j : (seqs[this.lo + j] as number);
  }
  time(j: number): number {
    const { times, t0 } = this.p;
    const v = times[this.lo + j] as number;
    if (times instanceof Float64Array) return v;
    return v === NO_TIME ? Number.NaN : t0 + v;
  }
  code(j: number): Code {
    return this.p.codes[this.lo + j] as number;
  }
  trunc(j: number): number | undefined {
    return this.p.cuts?.get(this.lo + j);
  }
  gapInfo(j: number): GapInfo | undefined {
    return this.p.gaps?.get(this.lo + j);
  }

  /** Rows (in this view) that hold a cut mark or a gap, ascending. */
  marked(kind: "cuts" | "gaps"): number[] {
    const m = this.p[kind];
    if (m === null) return [];
    const out: number[] = [];
    for (const k of m.keys()) if (k >= this.lo && k < this.hi) out.push(k - this.lo);
    return out.sort((a, b) => a - b);
  }

  /** The packed text and offsets: this view's row j is text[offsets[first + j], offsets[first + j + 1] - 1). */
  packedText(): { text: string; offsets: Uint32Array; first: number } {
    const { texts, toff } = this.p;
    if (texts === null) return { text: this.p.text, offsets: toff, first: this.lo };
    // Shared texts: joined for the scan only (toff holds their offsets as if joined; rebased to this view).
    const from = toff[this.lo] as number;
    const offsets = toff.subarray(this.lo, this.hi + 1).map((v) => v - from);
    return { text: `${texts.slice(this.lo, this.hi).join("\n")}\n`, offsets, first: 0 };
  }

  /** False when no cursor of the block can start with `key` (their shared prefix says so): a cheap reject. */
  mayHoldKey(key: string): boolean {
    const pre = this.p.cpre;
    return key.length >= pre.length ? key.startsWith(pre) : pre.startsWith(key);
  }
}

/** The newest rows, before they are packed: plain columns, appended to and spliced in place. */
export class OpenBlock implements RowSource {
  texts: string[] = [];
  cursors: string[] = [];
  seqs: number[] = [];
  times: number[] = [];
  codes: number[] = [];
  /** Cut marks and gaps are rare: undefined for most rows (the arrays stay small, the block is). */
  cuts: (number | undefined)[] = [];
  gaps: (GapInfo | undefined)[] = [];
  chars = 0;

  get n(): number {
    return this.texts.length;
  }
  get full(): boolean {
    return this.texts.length >= BLOCK_ROWS || this.chars >= BLOCK_CHARS;
  }

  push(
    text: string,
    cursor: string,
    seq: number,
    time: number,
    code: Code,
    trunc: number | undefined,
    gap: GapInfo | undefined,
  ): void {
    this.texts.push(text);
    this.cursors.push(cursor);
    this.seqs.push(seq);
    this.times.push(time);
    this.codes.push(code);
    this.cuts.push(trunc);
    this.gaps.push(gap);
    this.chars += text.length + 1;
  }

  /** Rows of another block put at row `at`. */
  insert(at: number, src: OpenBlock): void {
    const put = <T>(arr: T[], items: T[]) => {
      const tail = arr.splice(at);
      for (const x of items) arr.push(x);
      for (const x of tail) arr.push(x);
    };
    put(this.texts, src.texts);
    put(this.cursors, src.cursors);
    put(this.seqs, src.seqs);
    put(this.times, src.times);
    put(this.codes, src.codes);
    put(this.cuts, src.cuts);
    put(this.gaps, src.gaps);
    this.chars += src.chars;
  }

  remove(at: number, count: number): void {
    for (let j = at; j < at + count; j++) this.chars -= (this.texts[j]?.length ?? 0) + 1;
    this.texts.splice(at, count);
    this.cursors.splice(at, count);
    this.seqs.splice(at, count);
    this.times.splice(at, count);
    this.codes.splice(at, count);
    this.cuts.splice(at, count);
    this.gaps.splice(at, count);
  }

  text(j: number): string {
    return this.texts[j] ?? "";
  }
  cursor(j: number): string {
    return this.cursors[j] ?? "";
  }
  seq(j: number): number {
    return this.seqs[j] ?? -1;
  }
  time(j: number): number {
    return this.times[j] ?? Number.NaN;
  }
  code(j: number): Code {
    return this.codes[j] ?? 0;
  }
  trunc(j: number): number | undefined {
    return this.cuts[j];
  }
  gapInfo(j: number): GapInfo | undefined {
    return this.gaps[j];
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder();

/**
 * A block's text as a TextDecoder gives it back: in Chromium that string is held in Blink's memory, outside the
 * V8 heap, so the collector neither scans nor moves a block's text (and the heap limit does not count it), as for
 * a binary frame's decoded text. Text that is not well-formed UTF-16 (a lone surrogate, possible in a JSON frame)
 * would change in the round trip: it stays as it is.
 */
function offHeap(text: string): string {
  const wellFormed = (text as unknown as { isWellFormed?: () => boolean }).isWellFormed;
  if (wellFormed === undefined || !wellFormed.call(text)) return text;
  return decoder.decode(encoder.encode(text));
}

function commonPrefix(a: string, b: string, max: number): number {
  let k = 0;
  while (k < max && a.charCodeAt(k) === b.charCodeAt(k)) k++;
  return k;
}
