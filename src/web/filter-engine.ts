import { compileRegexMatcher, type Matcher, type RegexSpec } from "./matcher.js";
import { spliceIn } from "./splice-in.js";

/**
 * What the filter worker (filter-worker.ts) does, without the worker: it holds a mirror of one stream's texts
 * and runs regular expressions (re2js, linear time) over them, so a slow pattern stalls the worker (which the page
 * terminates, see filter-channel.ts) and never the page. The page sends the store's changes in order, so the
 * mirror's rows are the store's rows; each job that runs a pattern is answered once, in order.
 *
 * Rows are numbered like the store's: absolute index = base + row. A gap row is null: always shown, never a match.
 */

export type MirrorText = string | null;

/** Names a job: its answer carries id and gen back; spec is the pattern to run. */
export interface JobHead {
  id: number;
  gen: number;
  spec: RegexSpec;
}

export type ToWorker =
  /** Empty the mirror; row 0 will have absolute index base. */
  | { t: "reset"; base: number }
  /**
   * Rows appended while (re)building the mirror; nothing is run. Answered ("loaded"), so that the budget of the
   * job after it does not include the time the mirror took to arrive.
   */
  | { t: "load"; texts: MirrorText[]; id: number }
  /** Rows appended live; with a job, the new rows are tested (len: the mirror's length after them, a check). */
  | { t: "append"; texts: MirrorText[]; len: number; job: JobHead | null }
  | { t: "evict"; count: number; base: number }
  | { t: "insert"; at: number; texts: MirrorText[]; base: number }
  | { t: "remove"; at: number; count: number }
  /** Test rows [from, to); len and base are what the page holds (a check that the mirror is in step). */
  | { t: "scan"; from: number; to: number; len: number; base: number; job: JobHead }
  /** Match ranges in each text, for highlighting. */
  | { t: "ranges"; texts: string[]; job: JobHead };

export type FromWorker =
  | { t: "ready" }
  | { t: "loaded"; id: number }
  /** Absolute indices of the rows shown (matches and gaps, ascending), and of the gaps among them. */
  | { t: "rows"; id: number; gen: number; shown: Float64Array; gaps: Float64Array }
  | { t: "ranges"; id: number; gen: number; ranges: number[][] }
  /** The job could not run (the mirror is out of step, or the pattern does not compile). */
  | { t: "failed"; id: number; gen: number; message: string };

export class FilterEngine {
  private texts: MirrorText[] = [];
  private head = 0; // rows before this index were evicted (released, dropped at the next compaction)
  private base = 0;
  private compiled: { key: string; matcher: Matcher } | null = null;

  get length(): number {
    return this.texts.length - this.head;
  }

  handle(msg: ToWorker): FromWorker | null {
    switch (msg.t) {
      case "reset":
        this.texts = [];
        this.head = 0;
        this.base = msg.base;
        return null;
      case "load":
        for (const t of msg.texts) this.texts.push(t);
        return { t: "loaded", id: msg.id };
      case "append": {
        const from = this.length;
        for (const t of msg.texts) this.texts.push(t);
        if (!msg.job) return null;
        if (this.length !== msg.len) return this.outOfStep(msg.job);
        return this.scan(msg.job, from, this.length);
      }
      case "evict": {
        const end = Math.min(this.texts.length, this.head + msg.count);
        for (let j = this.head; j < end; j++) this.texts[j] = null;
        this.head = end;
        this.base = msg.base;
        if (this.head > 4096 && this.head * 2 > this.texts.length) {
          this.texts.splice(0, this.head);
          this.head = 0;
        }
        return null;
      }
      case "insert":
        spliceIn(this.texts, this.head + msg.at, msg.texts);
        this.base = msg.base;
        return null;
      case "remove":
        this.texts.splice(this.head + msg.at, msg.count);
        return null;
      case "scan":
        if (this.length !== msg.len || this.base !== msg.base) return this.outOfStep(msg.job);
        return this.scan(msg.job, msg.from, msg.to);
      case "ranges": {
        const re = this.compile(msg.job);
        if (typeof re === "string") return { t: "failed", id: msg.job.id, gen: msg.job.gen, message: re };
        return {
          t: "ranges",
          id: msg.job.id,
          gen: msg.job.gen,
          ranges: msg.texts.map((text) => re.ranges(text)),
        };
      }
    }
  }

  private scan(job: JobHead, from: number, to: number): FromWorker {
    const re = this.compile(job);
    if (typeof re === "string") return { t: "failed", id: job.id, gen: job.gen, message: re };
    const shown: number[] = [];
    const gaps: number[] = [];
    const probe = re;
    for (let i = from; i < to; i++) {
      const text = this.texts[this.head + i];
      if (text === null || text === undefined) {
        shown.push(this.base + i);
        gaps.push(this.base + i);
      } else if (probe.test(text)) shown.push(this.base + i);
    }
    return {
      t: "rows",
      id: job.id,
      gen: job.gen,
      shown: Float64Array.from(shown),
      gaps: Float64Array.from(gaps),
    };
  }

  private outOfStep(job: JobHead): FromWorker {
    return {
      t: "failed",
      id: job.id,
      gen: job.gen,
      message: `filter mirror out of step: ${this.length} rows at ${this.base}`,
    };
  }

  /** The job's pattern, compiled once while it stays the same; a string when it does not compile. */
  private compile(job: JobHead): Matcher | string {
    const key = `${job.spec.flags}/${job.spec.source}`;
    if (this.compiled?.key !== key) {
      const matcher = compileRegexMatcher(job.spec);
      if (typeof matcher === "string") return matcher;
      this.compiled = { key, matcher };
    }
    return this.compiled.matcher;
  }
}
