import { compileRegex } from "../core/regex-dialect.js";

/**
 * The filter's matching, with no DOM and no state: used by the page for literal filters and by the filter worker
 * (filter-worker.ts) for regular expressions. A regex is the server's dialect (core/regex-dialect.ts: RE2 syntax)
 * and runs on re2js, linear in the line: no pattern can stall the worker (its time budget stays as a backstop).
 * Literals run on V8 as an escaped regex, which cannot backtrack and is ~10x faster than re2js.
 */

/** What the user typed and toggled. */
export interface FilterSpec {
  text: string;
  caseSensitive: boolean;
  regex: boolean;
  /** Show only matching lines (else all lines, matches highlighted). */
  onlyMatching: boolean;
}

export const EMPTY_FILTER: FilterSpec = { text: "", caseSensitive: false, regex: false, onlyMatching: true };

/** A pattern as the worker takes it: a source (RE2 syntax for a regex) and its flags ("" or "i"; never "g"). */
export interface RegexSpec {
  source: string;
  flags: string;
}

export interface Matcher {
  /** Does the text contain a match? */
  test(text: string): boolean;
  /** Match ranges as flat [start, end, start, end, ...] (non-empty matches only). */
  ranges(text: string): number[];
}

export type CompiledFilter = { ok: true; matcher: Matcher | null } | { ok: false; error: string };

const REGEX_SPECIALS = /[.*+?^${}()|[\]\\]/g;

/** The RegExp source and flags of a spec (literal text escaped). */
export function regexOf(spec: FilterSpec): RegexSpec {
  return {
    source: spec.regex ? spec.text : spec.text.replace(REGEX_SPECIALS, "\\$&"),
    flags: spec.caseSensitive ? "" : "i",
  };
}

/**
 * Turns a spec into a matcher; never throws (an invalid regex comes back as its error). Empty text: null.
 * Compiling runs nothing: a pattern only costs time when it is run (for a regex, in the filter worker).
 */
export function compileFilter(spec: FilterSpec): CompiledFilter {
  if (spec.text === "") return { ok: true, matcher: null };
  if (spec.regex) {
    const matcher = compileRegexMatcher(regexOf(spec));
    return typeof matcher === "string" ? { ok: false, error: matcher } : { ok: true, matcher };
  }
  const { source, flags } = regexOf(spec);
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
      ranges: (text) => matchRanges(global, text),
    },
  };
}

/** A regex spec (RE2 syntax) on re2js, as the filter worker runs it; its error message when it does not compile. */
export function compileRegexMatcher(spec: RegexSpec): Matcher | string {
  let re: ReturnType<typeof compileRegex>;
  try {
    re = compileRegex(spec.source, spec.flags.includes("i"));
  } catch (e) {
    return e instanceof Error ? e.message : String(e);
  }
  return {
    test: (text) => re.test(text),
    ranges: (text) => {
      const out: number[] = [];
      const m = re.matcher(text);
      while (m.find()) {
        const from = m.start();
        const to = m.end();
        if (to !== from) out.push(from, to);
      }
      return out;
    },
  };
}

/** Every non-empty match of a global regex in text, as flat [start, end, ...]. */
export function matchRanges(global: RegExp, text: string): number[] {
  const out: number[] = [];
  global.lastIndex = 0;
  for (let m = global.exec(text); m !== null; m = global.exec(text)) {
    const from = m.index;
    const to = from + m[0].length;
    if (to === from) {
      global.lastIndex = from + 1; // an empty match would loop forever
      if (from >= text.length) break;
      continue;
    }
    out.push(from, to);
  }
  return out;
}
