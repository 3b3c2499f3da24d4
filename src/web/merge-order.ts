import { spliceIn } from "./splice-in.js";

/**
 * The order of a merged view of several streams: by the line's own time, equal times by stream order (the
 * stream's index among the merged ones), then by the stream's own order. The order is a function of the rows
 * alone, not of when they arrived: a late line goes to its place, and a page reloaded shows the same order.
 *
 * A row's time is its entry's timestamp; a line without one (and a gap row) takes the time of the previous row
 * of its stream, or -Infinity before the first timed one (effectiveKeys). Held as parallel columns (key, source,
 * the row's order within its source), no object per row. DOM-free.
 */

/** Where a batch of one source's rows goes: `count` rows (their indices in the batch, in merged order) at `at`. */
export interface Run {
  /** Index in the order before the batch, where the run goes (before the row there). */
  at: number;
  /** Indices into the batch, in merged order. */
  items: number[];
}

/** Times (epoch ms, NaN: none) to keys: a row without a time takes the previous one's (`carry` before the first). */
export function effectiveKeys(times: ArrayLike<number>, carry = Number.NEGATIVE_INFINITY): number[] {
  const keys: number[] = []; // pushed: a large preallocated array is a slow dictionary in V8
  let k = carry;
  for (let i = 0; i < times.length; i++) {
    const t = times[i] as number;
    if (!Number.isNaN(t)) k = t;
    keys.push(k);
  }
  return keys;
}

/** < 0 when (ka, sa, oa) goes before (kb, sb, ob). */
export function compareRows(ka: number, sa: number, oa: number, kb: number, sb: number, ob: number): number {
  return ka !== kb ? (ka < kb ? -1 : 1) : sa !== sb ? sa - sb : oa - ob;
}

export class MergeOrder {
  private keys: number[] = [];
  private srcs: number[] = [];
  private ords: number[] = [];
  /** Rows before this index were dropped (released at the next compaction). */
  private start = 0;

  get length(): number {
    return this.keys.length - this.start;
  }
  key(i: number): number {
    return this.keys[this.start + i] ?? Number.NaN;
  }
  src(i: number): number {
    return this.srcs[this.start + i] ?? -1;
  }
  ord(i: number): number {
    return this.ords[this.start + i] ?? -1;
  }

  /**
   * Where the rows of a batch of source `src` go (nothing changes yet): runs in ascending `at`. Keys need not be
   * ascending within the batch; `ords` (the rows' order in their source) must be distinct from the held ones'.
   */
  plan(src: number, keys: readonly number[], ords: readonly number[]): Run[] {
    const m = keys.length;
    const idx = Array.from({ length: m }, (_, i) => i);
    // Usually already in order (a stream's times rarely go back): then no sort.
    if (keys.some((k, i) => i > 0 && k < (keys[i - 1] as number)))
      idx.sort((a, b) =>
        compareRows(keys[a] as number, src, ords[a] as number, keys[b] as number, src, ords[b] as number),
      );
    const runs: Run[] = [];
    let lo = 0;
    for (const i of idx) {
      const at = this.upperBound(keys[i] as number, src, ords[i] as number, lo);
      lo = at;
      const last = runs[runs.length - 1];
      if (last && last.at === at) last.items.push(i);
      else runs.push({ at, items: [i] });
    }
    return runs;
  }

  /** Puts rows at `at` (a run from plan, or a rebuild's rows in order). */
  insertAt(at: number, keys: number[], srcs: number[], ords: number[]): void {
    if (at >= this.length) {
      for (let k = 0; k < keys.length; k++) {
        this.keys.push(keys[k] as number);
        this.srcs.push(srcs[k] as number);
        this.ords.push(ords[k] as number);
      }
      return;
    }
    spliceIn(this.keys, this.start + at, keys);
    spliceIn(this.srcs, this.start + at, srcs);
    spliceIn(this.ords, this.start + at, ords);
  }

  /** Drops the oldest `n` rows (the merged view went past its budget). */
  dropFront(n: number): void {
    this.start = Math.min(this.keys.length, this.start + n);
    if (this.start > 4096 && this.start * 2 > this.keys.length) {
      this.keys.splice(0, this.start);
      this.srcs.splice(0, this.start);
      this.ords.splice(0, this.start);
      this.start = 0;
    }
  }

  clear(): void {
    this.keys = [];
    this.srcs = [];
    this.ords = [];
    this.start = 0;
  }

  /** First index in [lo, length) whose row goes after (key, src, ord); length when none. */
  private upperBound(key: number, src: number, ord: number, lo: number): number {
    let hi = this.length;
    // Most rows arrive newest: try the end first.
    if (hi > lo && compareRows(this.key(hi - 1), this.src(hi - 1), this.ord(hi - 1), key, src, ord) < 0)
      return hi;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (compareRows(this.key(mid), this.src(mid), this.ord(mid), key, src, ord) < 0) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}
