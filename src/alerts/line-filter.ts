import { RE2JS } from "re2js";
import type { EntryLevel } from "../core/entry.js";
import type { LineFilterSpec } from "./rule-config.js";

/**
 * One rule's test of a line. Regexes run on re2js (RE2's linear-time automata: a hostile pattern such as
 * `(a+)+$` cannot backtrack, see docs/alerts.md for the measurements); literals on V8's string search. Both are
 * behind the literal a regex requires, when it has one, so most lines never reach the automaton (match-plan.ts).
 */
export interface LineFilter {
  /** A literal every matching line contains (case-folded when `literalCaseless`), null when none is known. */
  readonly literal: string | null;
  readonly literalCaseless: boolean;
  readonly needsLevel: boolean;
  /** The whole test; `level` is only called when the filter has levels. */
  test(text: string, level: () => EntryLevel): boolean;
}

/** Why `source` is not a regex RE2 accepts, or null. */
export function checkRegex(source: string, caseless: boolean): string | null {
  try {
    RE2JS.compile(source, caseless ? RE2JS.CASE_INSENSITIVE : 0);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}

export function compileFilter(spec: LineFilterSpec): LineFilter {
  const levels = spec.levels;
  const levelOk = levels === null ? null : (level: () => EntryLevel): boolean => levels.includes(level());
  const caseless = !spec.caseSensitive;
  let literal: string | null = null;
  let textOk: ((text: string) => boolean) | null = null;
  if (spec.pattern !== null && !spec.regex) {
    literal = spec.pattern;
    textOk = literalTest(spec.pattern, caseless);
  } else if (spec.pattern !== null) {
    const re = RE2JS.compile(spec.pattern, caseless ? RE2JS.CASE_INSENSITIVE : 0);
    literal = requiredLiteral(spec.pattern);
    const caselessLiteral = caseless || /\(\?[a-zA-Z]*i/.test(spec.pattern);
    const has = literal === null ? null : literalTest(literal, caselessLiteral);
    textOk = has === null ? (text) => re.test(text) : (text) => has(text) && re.test(text);
    return filter(literal, caselessLiteral, textOk, levelOk);
  }
  return filter(literal, caseless, textOk, levelOk);
}

function filter(
  literal: string | null,
  literalCaseless: boolean,
  textOk: ((text: string) => boolean) | null,
  levelOk: ((level: () => EntryLevel) => boolean) | null,
): LineFilter {
  const onlyLevel = levelOk as (level: () => EntryLevel) => boolean;
  const test =
    textOk === null
      ? (_text: string, level: () => EntryLevel) => onlyLevel(level)
      : levelOk === null
        ? (text: string) => textOk(text)
        : (text: string, level: () => EntryLevel) => textOk(text) && levelOk(level);
  return { literal, literalCaseless, needsLevel: levelOk !== null, test };
}

/** Exact: String#includes. Caseless: a V8 regex of the escaped literal (no quantifier, so it cannot backtrack). */
function literalTest(literal: string, caseless: boolean): (text: string) => boolean {
  if (!caseless) return (text) => text.includes(literal);
  const re = new RegExp(escapeRegExp(literal), "iu");
  return (text) => re.test(text);
}

export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

const MIN_LITERAL = 3;

/**
 * The longest run of plain characters outside groups, classes and quantifiers of a pattern with no top-level
 * alternation: any match contains it. Conservative: anything not understood ends the run, and a pattern with a
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
      // Skip the class: a `]` right after `[` or `[^` is a member, escapes hide the rest.
      let j = i + 1;
      if (source[j] === "^") j++;
      if (source[j] === "]") j++;
      while (j < source.length && source[j] !== "]") j += source[j] === "\\" ? 2 : 1;
      i = j;
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
