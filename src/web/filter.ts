import type { StoreChange, StreamStore } from "./store.js";

/** What the user typed and toggled. */
export interface FilterSpec {
  text: string;
  caseSensitive: boolean;
  regex: boolean;
  /** Show only matching lines (else all lines, matches highlighted). */
  onlyMatching: boolean;
}

export const EMPTY_FILTER: FilterSpec = { text: "", caseSensitive: false, regex: false, onlyMatching: true };

export interface Matcher {
  /** Does the text contain a match? */
  test(text: string): boolean;
  /** Match ranges as flat [start, end, start, end, ...] (non-empty matches only). */
  ranges(text: string): number[];
}

export type CompiledFilter = { ok: true; matcher: Matcher | null } | { ok: false; error: string };

const REGEX_SPECIALS = /[.*+?^${}()|[\]\\]/g;

/** Turns a spec into a matcher; never throws (an invalid regex comes back as its error). Empty text: null. */
export function compileFilter(spec: FilterSpec): CompiledFilter {
  if (spec.text === "") return { ok: true, matcher: null };
  const source = spec.regex ? spec.text : spec.text.replace(REGEX_SPECIALS, "\\$&");
  const flags = spec.caseSensitive ? "" : "i";
  let probe: RegExp;
  let global: RegExp;
  try {
    probe = new RegExp(source, flags);
    global = new RegExp(source, `${flags}g`);
  } catch (e) {
    return { ok: false, error: e instanceof Error ? e.message : String(e) };
  }
  return {
    ok: true,
    matcher: {
      test: (text) => probe.test(text),
      ranges(text) {
        const out: number[] = [];
        global.lastIndex = 0;
        for (let m = global.exec(text); m !== null; m = global.exec(text)) {
          const start = m.index;
          const end = start + m[0].length;
          if (end === start) {
            global.lastIndex = start + 1; // an empty match would loop forever
            if (start >= text.length) break;
            continue;
          }
          out.push(start, end);
        }
        return out;
      },
    },
  };
}

/**
 * The rows of one store that match a filter (gap rows always count as shown, never as matches), kept up to date as the store changes. New lines cost work
 * proportional to their number; dropping the oldest costs nothing per line. Matches are absolute row indices
 * (store.base + row), ascending.
 */
export class FilterIndex {
  private matcher: Matcher | null = null;
  private abs: number[] = [];
  private head = 0; // matches before this index were evicted (dropped lazily)
  private gapAbs: number[] = []; // gap rows among abs (few)
  private unsubscribe: () => void;
  error: string | null = null;

  constructor(private readonly store: StreamStore) {
    this.unsubscribe = store.onChange((c) => this.onChange(c));
  }

  /** Compiles and applies a spec over everything in memory; returns the error for an invalid one. */
  setSpec(spec: FilterSpec): string | null {
    const compiled = compileFilter(spec);
    if (!compiled.ok) {
      this.error = compiled.error;
      this.matcher = null;
      this.abs = [];
      this.head = 0;
      this.gapAbs = [];
      return compiled.error;
    }
    this.error = null;
    this.matcher = compiled.matcher;
    this.rebuild();
    return null;
  }

  get active(): boolean {
    return this.matcher !== null;
  }

  get matcherOrNull(): Matcher | null {
    return this.matcher;
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
  }

  private rebuild(): void {
    this.abs = [];
    this.head = 0;
    this.gapAbs = [];
    if (!this.matcher) return;
    this.scan(0, this.store.length);
  }

  private scan(from: number, to: number): void {
    const m = this.matcher;
    if (!m) return;
    const s = this.store;
    for (let i = from; i < to; i++) {
      if (s.isGap(i)) {
        this.abs.push(s.base + i);
        this.gapAbs.push(s.base + i);
      } else if (m.test(s.text(i))) this.abs.push(s.base + i);
    }
  }

  private onChange(c: StoreChange): void {
    if (!this.matcher) return;
    switch (c.kind) {
      case "append":
        this.scan(this.store.length - c.count, this.store.length);
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
      // Inserts and removals renumber rows; they are user actions (paging, filling), so a full pass is fine.
      default:
        this.rebuild();
    }
  }
}
