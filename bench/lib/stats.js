/**
 * Latency histograms (log-linear buckets, ~0.2 % precision, cheap to merge across client processes) and
 * run summaries (median of several runs with their min-max spread).
 */

const LINEAR = 1024; // values below this many microseconds are exact
const SUB = 512; // sub-buckets per power of two above that
const SIZE = LINEAR + 40 * SUB;

/** @param {number} us non-negative integer microseconds */
function bucketOf(us) {
  if (us < LINEAR) return us;
  const e = 31 - Math.clz32(us) - 9; // us >> e lands in [512, 1024)
  return LINEAR + (e - 1) * SUB + ((us >>> e) - SUB);
}

/** Lowest value in microseconds that falls in bucket `i`. */
function bucketFloor(i) {
  if (i < LINEAR) return i;
  const e = Math.floor((i - LINEAR) / SUB) + 1;
  return (((i - LINEAR) % SUB) + SUB) * 2 ** e;
}

export class Histogram {
  constructor() {
    this.counts = new Float64Array(SIZE);
    this.n = 0;
    this.max = 0;
  }

  /** @param {number} ms latency in milliseconds (negative values, from clock granularity, count as 0) */
  add(ms) {
    const us = Math.max(0, Math.round(ms * 1000));
    const i = Math.min(SIZE - 1, bucketOf(Math.min(us, 2 ** 31 - 1)));
    this.counts[i]++;
    this.n++;
    if (ms > this.max) this.max = ms;
  }

  /** @param {{ pairs: number[], n: number, max: number }} dump */
  merge(dump) {
    const p = dump.pairs;
    for (let k = 0; k < p.length; k += 2)
      this.counts[/** @type {number} */ (p[k])] += /** @type {number} */ (p[k + 1]);
    this.n += dump.n;
    if (dump.max > this.max) this.max = dump.max;
  }

  /** A compact, structured-clone-friendly form for IPC. */
  dump() {
    /** @type {number[]} */
    const pairs = [];
    for (let i = 0; i < SIZE; i++) {
      const c = this.counts[i];
      if (c) pairs.push(i, c);
    }
    return { pairs, n: this.n, max: this.max };
  }

  /** @param {number} q quantile in [0, 1]; milliseconds */
  quantile(q) {
    if (this.n === 0) return Number.NaN;
    const rank = Math.max(1, Math.ceil(q * this.n));
    let seen = 0;
    for (let i = 0; i < SIZE; i++) {
      seen += /** @type {number} */ (this.counts[i]);
      if (seen >= rank) return Math.min(this.max, bucketFloor(i) / 1000);
    }
    return this.max;
  }

  summary() {
    return { n: this.n, p50: this.quantile(0.5), p99: this.quantile(0.99), max: this.max };
  }
}

/** @param {number[]} xs */
export function median(xs) {
  const s = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (s.length === 0) return Number.NaN;
  const m = s.length >> 1;
  return s.length % 2
    ? /** @type {number} */ (s[m])
    : /** @type {number} */ (s[m - 1] + /** @type {number} */ (s[m])) / 2;
}

/**
 * Median of runs with spread.
 * @param {number[]} runs
 * @returns {{ median: number, min: number, max: number, runs: number[] }}
 */
export function summarize(runs) {
  runs = runs.map(round);
  const finite = runs.filter((x) => Number.isFinite(x));
  return {
    median: median(finite),
    min: finite.length ? Math.min(...finite) : Number.NaN,
    max: finite.length ? Math.max(...finite) : Number.NaN,
    runs,
  };
}

/**
 * Summarize every numeric field over a list of run records: { field: { median, min, max, runs } }.
 * @param {Record<string, number>[]} records
 */
export function summarizeRecords(records) {
  /** @type {Record<string, ReturnType<typeof summarize>>} */
  const out = {};
  const keys = new Set(records.flatMap((r) => Object.keys(r)));
  for (const k of keys) {
    const vals = records.map((r) => r[k]).filter((v) => typeof v === "number");
    if (vals.length) out[k] = summarize(/** @type {number[]} */ (vals));
  }
  return out;
}

/** Four significant digits: more is noise on a shared machine, and keeps latest.json readable. */
export function round(/** @type {number} */ x) {
  return Number.isFinite(x) && x !== 0 ? Number(x.toPrecision(4)) : x;
}
