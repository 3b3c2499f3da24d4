import { FilterChannel, type JobInfo, type WorkerLike } from "./filter-channel.js";
import type { FromWorker, MirrorText } from "./filter-engine.js";
import { compileFilter, type FilterSpec, type Matcher, type RegexSpec, regexOf } from "./matcher.js";
import { spliceIn } from "./splice-in.js";
import type { StoreChange, StreamStore } from "./store.js";

export type { WorkerLike } from "./filter-channel.js";
export {
  type CompiledFilter,
  compileFilter,
  EMPTY_FILTER,
  type FilterSpec,
  type Matcher,
} from "./matcher.js";

/**
 * Match ranges for highlighting, as flat [start, end, ...] over the original text; null while not known yet
 * (a regular expression's ranges come from the worker; the filter says "highlights" when they arrive).
 */
export interface Highlighter {
  ranges(text: string): number[] | null;
}

/**
 * - off: no filter (empty text); pending: a regex is being run over what is held (no rows yet); ready: rows are
 *   the matches; invalid: the regex does not compile; slow: the regex ran past its time budget and was stopped;
 *   failed: the filter worker could not run.
 */
export type FilterState = "off" | "pending" | "ready" | "invalid" | "slow" | "failed";

/**
 * What changed without a call from the page: settled (a pending filter has its rows, or it went slow or failed),
 * matches (rows were added or renumbered), highlights (ranges arrived for texts asked about).
 */
export type FilterEvent = "settled" | "matches" | "highlights";

export interface FilterOptions {
  /** Starts a filter worker (default: filter-worker.ts as a module worker of this origin). */
  createWorker?: () => WorkerLike;
  /** How long a regex job over `lines` lines may run before the worker is terminated. */
  budgetMs?: (lines: number) => number;
}

/** A regex job's budget: 1 s, plus 1 ms per 1,000 lines it covers (2 s over a million). */
export function defaultBudgetMs(lines: number): number {
  return 1000 + lines / 1000;
}

function startFilterWorker(): WorkerLike {
  // Vite bundles the worker from this exact expression (a separate same-origin file in dist/web/assets).
  return new Worker(new URL("./filter-worker.ts", import.meta.url), {
    type: "module",
  }) as unknown as WorkerLike;
}

/**
 * The rows of one store that match a filter (gap rows always count as shown, never as matches), kept up to date as
 * the store changes. Matches are absolute row indices (store.base + row), ascending; new lines cost work
 * proportional to their number, dropping the oldest costs nothing per line.
 *
 * A literal filter is a linear scan and runs here, synchronously. A regular expression can backtrack for longer
 * than anyone waits (`(a+)+$` over a line of a's), and a shared link chooses it: it never runs on the page's main
 * thread. While the regex toggle is on, a worker holds a mirror of the store's texts (sent in the background, then
 * kept in step with every change) and runs the pattern there, for the rows and for the highlights, each job within
 * a time budget (defaultBudgetMs). A job that overruns has the worker terminated and the filter goes "slow": not
 * applied, all lines shown, the page told so. A fresh worker is started at once, ready for the next pattern.
 */
export class FilterIndex {
  state: FilterState = "off";
  /** Why the filter is not applied (invalid, slow, failed), else null. */
  error: string | null = null;
  /** Duration of the last full pass, ms (for a regex: from setSpec to its rows). */
  lastPassMs = 0;
  private matcher: Matcher | null = null; // literal filter
  /** The literal as a global regex over a block's packed text (null: test row by row, see collect). */
  private blockRe: RegExp | null = null;
  private regex: RegexSpec | null = null; // regex filter (the worker runs it)
  private hl: WorkerHighlighter | null = null;
  private abs: number[] = [];
  private head = 0; // matches before this index were evicted (dropped lazily)
  private gapAbs: number[] = []; // gap rows among abs (few)
  private readonly unsubscribe: () => void;
  private readonly listeners = new Set<(e: FilterEvent) => void>();
  private readonly createWorker: () => WorkerLike;
  private readonly budgetMs: (lines: number) => number;
  private channel: FilterChannel | null = null;
  /** Bumped whenever earlier answers stop applying (a new spec, rows renumbered, a new worker). */
  private gen = 0;
  /** gen of the last full scan posted: live rows get a job of their own only once it is. */
  private scanPosted = -1;
  private scanInFlight = false;
  private scanWanted = false;
  private startedAt = 0;
  /** Restarts for a failed job since the last answer that worked. */
  private restarts = 0;
  /** The last pattern that ran out of time, so re-applying the same spec does not run it again. */
  private slow: { key: string; message: string } | null = null;

  constructor(
    private readonly store: StreamStore,
    options: FilterOptions = {},
  ) {
    this.createWorker = options.createWorker ?? startFilterWorker;
    this.budgetMs = options.budgetMs ?? defaultBudgetMs;
    this.unsubscribe = store.onChange((c) => this.onChange(c));
  }

  /** Listens for changes that happen without a call (see FilterEvent). */
  onUpdate(listener: (e: FilterEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * Applies a spec over everything in memory; returns the error for an invalid one. A literal filter is applied
   * on return; a regex is pending until the worker answers ("settled").
   */
  setSpec(spec: FilterSpec): string | null {
    const t0 = performance.now();
    this.gen++;
    this.clearRows();
    this.matcher = null;
    this.blockRe = null;
    this.regex = null;
    this.hl = null;
    this.error = null;
    this.scanWanted = false;
    if (!spec.regex) this.closeChannel();
    const compiled = compileFilter(spec);
    if (!compiled.ok) {
      this.state = "invalid";
      this.error = compiled.error;
      this.lastPassMs = performance.now() - t0;
      return compiled.error;
    }
    if (!compiled.matcher) {
      this.state = "off";
      if (spec.regex) this.openChannel(); // the mirror gets ready for the pattern to come
      this.lastPassMs = performance.now() - t0;
      return null;
    }
    if (!spec.regex) {
      this.matcher = compiled.matcher;
      this.blockRe = blockRegex(spec);
      this.state = "ready";
      this.scanHere(0, this.store.length);
      this.lastPassMs = performance.now() - t0;
      return null;
    }
    const re = regexOf(spec);
    const key = `${re.flags}/${re.source}`;
    if (this.slow?.key === key) {
      this.state = "slow";
      this.error = this.slow.message;
      this.openChannel();
      this.lastPassMs = performance.now() - t0;
      return null;
    }
    this.slow = null;
    this.regex = re;
    this.state = "pending";
    this.startedAt = t0;
    this.openChannel();
    this.hl = this.newHighlighter(re);
    this.requestScan();
    return null;
  }

  /** Filtering (or about to): rows are the matches. */
  get active(): boolean {
    return this.state === "ready" || this.state === "pending";
  }

  get pending(): boolean {
    return this.state === "pending";
  }

  /** Highlighting for the current filter, or null without one. */
  get highlighter(): Highlighter | null {
    if (!this.active) return null;
    return this.matcher ?? this.hl;
  }

  /** Rows shown when filtering: matching lines plus gap rows. */
  get count(): number {
    return this.abs.length - this.head;
  }

  /** Matching lines in memory (gap rows excluded). */
  get matchCount(): number {
    return this.count - this.gapAbs.length;
  }

  /** Absolute row index of the k-th match. */
  matchAbs(k: number): number {
    return this.abs[this.head + k] ?? -1;
  }

  /** Number of matches with absolute index below `abs` (binary search). */
  countBelow(abs: number): number {
    let lo = this.head;
    let hi = this.abs.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.abs[mid] as number) < abs) lo = mid + 1;
      else hi = mid;
    }
    return lo - this.head;
  }

  close(): void {
    this.unsubscribe();
    this.closeChannel();
    this.listeners.clear();
  }

  // ---- rows ----

  private clearRows(): void {
    this.abs = [];
    this.head = 0;
    this.gapAbs = [];
  }

  /** Literal filter: tests rows [from, to) here and appends the shown ones. */
  private scanHere(from: number, to: number): void {
    this.collect(from, to, this.abs, this.gapAbs);
  }

  /**
   * Literal filter: rows [at, at+count) were inserted. The held matches after them move up (in place: a merged
   * view's late lines land near the end, so this is a few entries, not all), and the new ones go in.
   */
  private insertHere(at: number, count: number): void {
    const m = this.matcher;
    if (!m) return;
    const s = this.store;
    const atAbs = s.base + at;
    const k = this.head + this.countBelow(atAbs);
    let g = this.gapAbs.length;
    while (g > 0 && (this.gapAbs[g - 1] as number) >= atAbs) g--;
    // In front (at 0) the base moved down instead: nothing held is renumbered.
    if (at > 0) {
      for (let j = k; j < this.abs.length; j++) this.abs[j] = (this.abs[j] as number) + count;
      for (let j = g; j < this.gapAbs.length; j++) this.gapAbs[j] = (this.gapAbs[j] as number) + count;
    }
    const shown: number[] = [];
    const gaps: number[] = [];
    this.collect(at, at + count, shown, gaps);
    if (shown.length > 0) spliceIn(this.abs, k, shown);
    if (gaps.length > 0) spliceIn(this.gapAbs, g, gaps);
  }

  /**
   * Literal filter: pushes the absolute rows among [from, to) that are shown (matches and gaps, ascending) to
   * `shown`, the gaps also to `gaps`. The literal runs over each block's packed text at once (a call per match,
   * not per line); rows are joined by "\n", which the literal does not hold, so no match spans two rows.
   */
  private collect(from: number, to: number, shown: number[], gaps: number[]): void {
    const m = this.matcher;
    if (!m) return;
    const s = this.store;
    const base = s.base;
    const gapRows = s.gapRows(from, to);
    let g = 0;
    const upTo = (row: number) => {
      while (g < gapRows.length && (gapRows[g] as number) < row) {
        shown.push(base + (gapRows[g] as number));
        gaps.push(base + (gapRows[g] as number));
        g++;
      }
    };
    const re = this.blockRe;
    if (re === null) {
      for (let i = from; i < to; i++) {
        if (s.isGap(i)) continue;
        if (m.test(s.text(i))) {
          upTo(i);
          shown.push(base + i);
        }
      }
    } else {
      s.textRuns(from, to, (text, offsets, first, row, count) => {
        const end = offsets[first + count] as number;
        let k = first;
        re.lastIndex = offsets[first] as number;
        for (let hit = re.exec(text); hit !== null && hit.index < end; hit = re.exec(text)) {
          while ((offsets[k + 1] as number) <= hit.index) k++;
          const r = row + k - first;
          upTo(r);
          shown.push(base + r);
          re.lastIndex = offsets[k + 1] as number; // one hit per row is enough
        }
      });
    }
    upTo(Number.POSITIVE_INFINITY);
  }

  private emit(e: FilterEvent): void {
    for (const l of this.listeners) l(e);
  }

  private onChange(c: StoreChange): void {
    this.mirror(c);
    switch (c.kind) {
      case "append":
        if (this.matcher) this.scanHere(this.store.length - c.count, this.store.length);
        else if (this.regex && this.scanPosted === this.gen) this.scanAppended(c.count);
        break;
      case "evict": {
        const base = this.store.base;
        while (this.head < this.abs.length && (this.abs[this.head] as number) < base) this.head++;
        while (this.gapAbs.length > 0 && (this.gapAbs[0] as number) < base) this.gapAbs.shift();
        if (this.head > 4096 && this.head * 2 > this.abs.length) {
          this.abs.splice(0, this.head);
          this.head = 0;
        }
        break;
      }
      default:
        // Inserts and removals renumber rows. An insert (also a merged view's late line) tests only its rows;
        // removals are user actions (filling a gap), so a full pass is fine.
        if (this.matcher) {
          if (c.kind === "insert") this.insertHere(c.at, c.count);
          else {
            this.clearRows();
            this.scanHere(0, this.store.length);
          }
        } else if (this.regex) {
          if (c.kind === "insert" && c.at === 0 && this.scanPosted === this.gen) {
            this.scanPrepended(c.count); // the rows held keep their indices: only the new ones need a test
          } else {
            // Keep what is shown in place meanwhile (renumbered), and have the worker start over.
            this.renumber(c);
            this.gen++;
            this.requestScan();
          }
        }
    }
  }

  /** Moves the held matches as an insert or removal moves their rows (until the worker's full pass). */
  private renumber(c: StoreChange): void {
    if (c.kind === "clear") {
      this.clearRows();
      return;
    }
    if (c.kind !== "insert" && c.kind !== "remove") return;
    const at = this.store.base + c.at;
    const moved = (list: number[], from: number): number[] => {
      const out = list.slice(0, from);
      for (let k = from; k < list.length; k++) {
        const v = list[k] as number;
        if (v < at) out.push(v);
        else if (c.kind === "insert") out.push(v + c.count);
        else if (v >= at + c.count) out.push(v - c.count);
      }
      return out;
    };
    this.abs = moved(this.abs, this.head);
    this.gapAbs = moved(this.gapAbs, 0);
  }

  // ---- the worker ----

  private openChannel(): void {
    if (this.channel?.running) return;
    const channel = new FilterChannel(this.createWorker, this.budgetMs, {
      overrun: (job) => this.onOverrun(job),
      failed: (message) => this.onFailed(message),
    });
    this.channel = channel;
    channel.start();
    this.scanInFlight = false;
    this.scanPosted = -1;
    // The mirror: everything held now, posted a slice per task; later changes queue up behind it. Each slice is
    // answered, so a pattern's budget starts once the mirror is in (copying a million lines takes about a second).
    const s = this.store;
    channel.send({ t: "reset", base: s.base }, 0);
    for (let from = 0; from < s.length; from += MIRROR_CHUNK) {
      const to = Math.min(s.length, from + MIRROR_CHUNK);
      const texts = this.mirrorTexts(from, to);
      channel.job(
        (id) => ({ t: "load", texts, id }),
        to - from,
        LOAD,
        () => {},
        LOAD_BUDGET_MS,
      );
    }
  }

  private closeChannel(): void {
    this.channel?.stop();
    this.channel = null;
    this.scanInFlight = false;
    this.scanPosted = -1;
  }

  private mirrorTexts(from: number, to: number): MirrorText[] {
    const s = this.store;
    const out = new Array<MirrorText>(to - from);
    for (let i = from; i < to; i++) out[i - from] = s.isGap(i) ? null : s.text(i);
    return out;
  }

  /** Keeps the worker's mirror in step with the store. */
  private mirror(c: StoreChange): void {
    const ch = this.channel;
    if (!ch?.running) return;
    const s = this.store;
    switch (c.kind) {
      case "append":
        // A job when the pattern's full scan went out before these rows (else that scan covers them).
        if (this.regex && this.scanPosted === this.gen) return; // sent by scanAppended with its job
        ch.send(
          { t: "append", texts: this.mirrorTexts(s.length - c.count, s.length), len: s.length, job: null },
          c.count,
        );
        return;
      case "evict":
        ch.send({ t: "evict", count: c.count, base: s.base }, 0);
        return;
      case "insert":
        ch.send(
          { t: "insert", at: c.at, texts: this.mirrorTexts(c.at, c.at + c.count), base: s.base },
          c.count,
        );
        return;
      case "remove":
        ch.send({ t: "remove", at: c.at, count: c.count }, 0);
        return;
      case "clear":
        ch.send({ t: "reset", base: s.base }, 0);
        return;
    }
  }

  /** A full pass of the current pattern, once no other full pass is running (the newest spec wins). */
  private requestScan(): void {
    this.scanWanted = true;
    if (!this.scanInFlight) this.postScan();
  }

  private postScan(): void {
    this.scanWanted = false;
    const ch = this.channel;
    const spec = this.regex;
    if (!ch?.running || !spec) return;
    const gen = this.gen;
    const s = this.store;
    const len = s.length;
    const base = s.base;
    this.scanInFlight = true;
    this.scanPosted = gen;
    ch.job(
      (id) => ({ t: "scan", from: 0, to: len, len, base, job: { id, gen, spec } }),
      len,
      spec,
      (reply) => {
        this.scanInFlight = false;
        if (reply.t === "failed") this.restart(reply.message);
        else if (reply.t === "rows" && gen === this.gen) {
          this.restarts = 0;
          this.setRows(reply.shown, reply.gaps);
          const settled = this.state === "pending";
          if (settled) {
            this.state = "ready";
            this.lastPassMs = performance.now() - this.startedAt;
          }
          this.emit(settled ? "settled" : "matches");
        }
        if (this.scanWanted) this.postScan();
      },
    );
  }

  private scanAppended(count: number): void {
    const ch = this.channel;
    const spec = this.regex;
    if (!ch?.running || !spec) return;
    const s = this.store;
    const texts = this.mirrorTexts(s.length - count, s.length);
    const len = s.length;
    const gen = this.gen;
    ch.job(
      (id) => ({ t: "append", texts, len, job: { id, gen, spec } }),
      count,
      spec,
      (reply) => this.onRows(reply, gen, false),
    );
  }

  private scanPrepended(count: number): void {
    const ch = this.channel;
    const spec = this.regex;
    if (!ch?.running || !spec) return;
    const s = this.store;
    const len = s.length;
    const base = s.base;
    const gen = this.gen;
    ch.job(
      (id) => ({ t: "scan", from: 0, to: count, len, base, job: { id, gen, spec } }),
      count,
      spec,
      (reply) => this.onRows(reply, gen, true),
    );
  }

  /** New rows' matches from the worker: after what is held (appended) or before it (prepended). */
  private onRows(reply: FromWorker, gen: number, front: boolean): void {
    if (reply.t === "failed") {
      this.restart(reply.message);
      return;
    }
    if (reply.t !== "rows" || gen !== this.gen) return;
    const base = this.store.base;
    const shown = [...reply.shown].filter((v) => v >= base);
    const gaps = [...reply.gaps].filter((v) => v >= base);
    if (front) {
      this.abs = shown.concat(this.abs.slice(this.head));
      this.head = 0;
      this.gapAbs = gaps.concat(this.gapAbs);
    } else {
      const last = this.abs.length > this.head ? (this.abs[this.abs.length - 1] as number) : -Infinity;
      for (const v of shown) if (v > last) this.abs.push(v);
      for (const v of gaps) if (v > last) this.gapAbs.push(v);
    }
    if (shown.length > 0) this.emit("matches");
  }

  private setRows(shown: Float64Array, gaps: Float64Array): void {
    const base = this.store.base;
    this.clearRows();
    for (const v of shown) if (v >= base) this.abs.push(v);
    for (const v of gaps) if (v >= base) this.gapAbs.push(v);
  }

  private newHighlighter(spec: RegexSpec): WorkerHighlighter {
    const hl: WorkerHighlighter = new WorkerHighlighter((texts, done) => {
      const ch = this.channel;
      if (!ch?.running || this.hl !== hl) return;
      ch.job(
        (id) => ({ t: "ranges", texts, job: { id, gen: this.gen, spec } }),
        texts.length,
        spec,
        (reply) => {
          if (this.hl !== hl) return;
          if (reply.t === "ranges") {
            done(reply.ranges);
            this.emit("highlights");
          } else if (reply.t === "failed") this.restart(reply.message);
        },
      );
    });
    return hl;
  }

  /**
   * A job ran out of time. If it was running the current pattern, the pattern is too slow for these lines: it is
   * not applied. (If the pattern had changed meanwhile, the job was just in the way.) Either way a fresh worker
   * starts with a fresh mirror, so the next pattern does not wait for one.
   */
  private onOverrun(job: JobInfo): void {
    this.channel = null;
    const spec = this.regex;
    if (spec !== null && job.tag === spec) {
      const lines = `${job.units.toLocaleString("en")} ${job.units === 1 ? "line" : "lines"}`;
      const message = `Pattern too slow: stopped after ${(job.budgetMs / 1000).toFixed(1)} s on ${lines}, not applied`;
      this.slow = { key: `${spec.flags}/${spec.source}`, message };
      this.state = "slow";
      this.error = message;
      this.regex = null;
      this.hl = null;
      this.clearRows();
      this.gen++;
      this.openChannel();
      this.emit("settled");
      return;
    }
    this.restart("");
  }

  private onFailed(message: string): void {
    this.channel = null;
    this.state = "failed";
    this.error = `Regex filter unavailable: ${message}`;
    this.regex = null;
    this.hl = null;
    this.clearRows();
    this.gen++;
    this.emit("settled");
  }

  /**
   * A new worker and mirror; the current pattern (if any) runs again from scratch. After the worker said it
   * cannot run the job (`failure`) three times in a row, the filter gives up instead of going round.
   */
  private restart(failure: string): void {
    if (failure !== "" && ++this.restarts > 3) {
      this.closeChannel();
      this.onFailed(failure);
      return;
    }
    this.closeChannel();
    this.gen++;
    this.openChannel();
    if (this.regex) {
      this.hl = this.newHighlighter(this.regex);
      this.requestScan();
      this.emit("highlights");
    }
  }
}

/** The literal of a spec as a global regex for block scans, or null when it holds the rows' separator. */
function blockRegex(spec: FilterSpec): RegExp | null {
  const { source, flags } = regexOf(spec);
  return source.includes("\n") ? null : new RegExp(source, `${flags}g`);
}

const MIRROR_CHUNK = 20_000;
/** The tag of the mirror's slices (no pattern), and their budget: they cannot hang, only be slow to copy. */
const LOAD = "load";
const LOAD_BUDGET_MS = 60_000;

/** Ranges of a regex from the worker, cached by text; asking for an unknown text sends it (batched per task). */
class WorkerHighlighter implements Highlighter {
  private readonly cache = new Map<string, number[]>();
  private wanted: string[] = [];
  private readonly asked = new Set<string>();
  private queued = false;

  constructor(private readonly ask: (texts: string[], done: (ranges: number[][]) => void) => void) {}

  ranges(text: string): number[] | null {
    const known = this.cache.get(text);
    if (known) return known;
    if (!this.asked.has(text)) {
      this.asked.add(text);
      this.wanted.push(text);
      if (!this.queued) {
        this.queued = true;
        queueMicrotask(() => this.flush());
      }
    }
    return null;
  }

  private flush(): void {
    this.queued = false;
    const texts = this.wanted;
    this.wanted = [];
    if (texts.length === 0) return;
    this.ask(texts, (ranges) => {
      texts.forEach((t, k) => {
        this.cache.set(t, ranges[k] ?? []);
        this.asked.delete(t);
      });
      // Bounded: the oldest go first (a Map iterates in insertion order).
      if (this.cache.size > 5000) {
        let drop = this.cache.size - 4000;
        for (const key of this.cache.keys()) {
          if (drop-- <= 0) break;
          this.cache.delete(key);
        }
      }
    });
  }
}
