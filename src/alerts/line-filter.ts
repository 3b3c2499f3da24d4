import type { EntryLevel } from "../core/entry.js";
import { compileRegex } from "../core/regex-dialect.js";
import type { LineFilterSpec } from "./rule-config.js";

/**
 * One rule's test of a line. Regexes are the dialect search and the filter use (core/regex-dialect.ts) and run
 * on re2js (RE2's linear-time automata: a hostile pattern such as `(a+)+$` cannot backtrack, see docs/alerts.md
 * for the measurements; native RE2 is not used for a line as a string: a call costs 1.1-1.4 µs per 100-byte
 * line against re2js' 56-830 ns, backend/pattern.ts); literals on V8's string search. A regex
 * is behind the literals it requires, when it has some, so most lines never reach the automaton; and the plan
 * (match-plan.ts) skips the rule altogether on lines that contain none of them.
 */
export interface LineFilter {
  /**
   * Every matching line contains one of these literals (its folded text, foldCase, when `literalsFolded`);
   * null when that is not known: the plan tests such a rule on every line.
   */
  readonly literals: readonly string[] | null;
  readonly literalsFolded: boolean;
  /** The whole test; the line computes its folded text and entry once, when a rule asks. */
  test(line: LineText): boolean;
}

/** The line being evaluated, as every rule sees it. */
export interface LineText {
  readonly text: string;
  /** foldCase(text), computed once per line. */
  folded(): string;
  level(): EntryLevel;
}

/**
 * Caseless comparison: both sides lower-cased (as core/entry.ts does for level words), and LONG S, the one
 * character whose case folding is ASCII but whose lower case is not, made an `s` (KELVIN SIGN lower-cases to k).
 */
export function foldCase(text: string): string {
  const lower = text.toLowerCase();
  return lower.includes("\u017f") ? lower.replaceAll("\u017f", "s") : lower;
}

/**
 * Words one of which a line must contain (any case) for core/entry.ts to give it that level: its label or its
 * level words (test/alerts/line-filter.test.ts checks this against parseEntry). Info has none: it is the default.
 */
const LEVEL_WORDS: Readonly<Record<EntryLevel, readonly string[] | null>> = {
  error: ["error", "fail", "exception", "critical", "fatal"],
  warn: ["warn"],
  ok: ["ok", "passed", "success", "succeeded", "restored", "healthy"],
  info: null,
};

export function compileFilter(spec: LineFilterSpec): LineFilter {
  const levels = spec.levels;
  const levelOk = levels === null ? null : (line: LineText): boolean => levels.includes(line.level());
  if (spec.pattern === null) {
    // A level alone: prefiltered by its words, when every level asked for has some.
    const words = (levels ?? []).map((l) => LEVEL_WORDS[l]);
    const literals = words.some((w) => w === null) ? null : [...new Set(words.flat() as string[])];
    const ok = levelOk as (line: LineText) => boolean;
    if (literals === null) return { literals, literalsFolded: true, test: ok };
    const has = foldedAny(literals);
    return { literals, literalsFolded: true, test: (line) => has(line) && ok(line) };
  }
  const caseless = !spec.caseSensitive;
  let literals: string[] | null;
  let textOk: (line: LineText) => boolean;
  let literalsFolded = true;
  if (!spec.regex) {
    const pattern = spec.pattern;
    literalsFolded = caseless;
    literals = [caseless ? foldCase(pattern) : pattern];
    textOk = caseless ? foldedAny(literals) : (line) => line.text.includes(pattern);
  } else {
    const re = compileRegex(spec.pattern, caseless);
    const required = requiredLiterals(spec.pattern);
    // RE2 folds case by Unicode orbits (µ, μ, Μ): lower-casing agrees with it on ASCII only, so a caseless
    // regex (or one with an inline (?i)) keeps a non-ASCII literal out of the prefilter.
    const inlineCaseless = caseless || /\(\?[a-zA-Z]*i/.test(spec.pattern);
    const usable = required !== null && (!inlineCaseless || required.every(isAscii));
    literalsFolded = inlineCaseless;
    literals = usable ? (inlineCaseless ? required.map(foldCase) : required) : null;
    const folded = literals === null || !inlineCaseless ? null : foldedAny(literals);
    const exact = literals === null || inlineCaseless ? null : rawAny(literals);
    const has = folded ?? exact;
    textOk = has === null ? (line) => re.test(line.text) : (line) => has(line) && re.test(line.text);
  }
  return {
    literals,
    literalsFolded,
    test: levelOk === null ? textOk : (line) => textOk(line) && levelOk(line),
  };
}

/** Whether the line contains one of the literals. */
function rawAny(literals: readonly string[]): (line: LineText) => boolean {
  return (line) => {
    for (const literal of literals) if (line.text.includes(literal)) return true;
    return false;
  };
}

/** Whether the folded line contains one of the folded literals. */
function foldedAny(literals: readonly string[]): (line: LineText) => boolean {
  if (literals.length === 1) {
    const literal = literals[0] as string;
    return (line) => line.folded().includes(literal);
  }
  return (line) => {
    const folded = line.folded();
    for (const literal of literals) if (folded.includes(literal)) return true;
    return false;
  };
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

const MIN_LITERAL = 3;

/**
 * Literals one of which every match contains: for a top-level alternation, each branch's required literal
 * (null when a branch has none); else the pattern's.
 */
export function requiredLiterals(source: string): string[] | null {
  const branches = topLevelBranches(source);
  if (branches === null) return null;
  const literals: string[] = [];
  for (const branch of branches) {
    const literal = requiredLiteral(branch);
    if (literal === null) return null;
    literals.push(literal);
  }
  return [...new Set(literals)];
}

/** The pattern cut at its `|` outside groups and classes; null when it uses `\Q` (quoting not followed here). */
function topLevelBranches(source: string): string[] | null {
  const out: string[] = [];
  let depth = 0;
  let from = 0;
  for (let i = 0; i < source.length; i++) {
    const c = source[i];
    if (c === "\\") {
      if (source[i + 1] === "Q") return null;
      i++;
    } else if (c === "[") {
      i = classEnd(source, i);
    } else if (c === "(") depth++;
    else if (c === ")") depth = Math.max(0, depth - 1);
    else if (c === "|" && depth === 0) {
      out.push(source.slice(from, i));
      from = i + 1;
    }
  }
  out.push(source.slice(from));
  return out;
}

/** Index of the `]` closing the class that opens at `i`: a `]` right after `[` or `[^` is a member. */
function classEnd(source: string, i: number): number {
  let j = i + 1;
  if (source[j] === "^") j++;
  if (source[j] === "]") j++;
  while (j < source.length && source[j] !== "]") j += source[j] === "\\" ? 2 : 1;
  return j;
}

/**
 * The longest run of plain characters outside groups, classes and quantifiers of a pattern with no top-level
 * alternation: any match contains it (the run ends before a quantified character). Conservative: anything not understood ends the run, and a pattern with a
 * `|` outside groups, `\Q`, or no run of at least MIN_LITERAL characters has none (null).
 */
export function requiredLiteral(source: string): string | null {
  let best = "";
  let run = "";
  let depth = 0;
  const end = (): void => {
    if (run.length > best.length) best = run;
    run = "";
  };
  for (let i = 0; i < source.length; i++) {
    const c = source[i] as string;
    const next = source[i + 1];
    const quantified = (at: number): boolean => at < source.length && "*+?{".includes(source[at] as string);
    if (c === "\\") {
      if (next === undefined || next === "Q") return null;
      if (depth === 0 && /[^A-Za-z0-9]/.test(next) && !quantified(i + 2)) run += next;
      else end();
      i++;
      continue;
    }
    if (c === "[") {
      end();
      i = classEnd(source, i);
      continue;
    }
    if (c === "(") {
      end();
      depth++;
      continue;
    }
    if (c === ")") {
      end();
      depth = Math.max(0, depth - 1);
      continue;
    }
    if (c === "|" && depth === 0) return null;
    if (depth > 0 || ".^$|*+?{}".includes(c) || quantified(i + 1)) {
      end();
      continue;
    }
    run += c;
  }
  end();
  return best.length >= MIN_LITERAL ? best : null;
}

function isAscii(text: string): boolean {
  for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) > 0x7f) return false;
  return true;
}
