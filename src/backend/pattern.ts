import { createRequire } from "node:module";
import { compileRegex, RegexSyntaxError, re2Source } from "../core/regex-dialect.js";
import { SearchQueryError } from "./backend.js";

/**
 * How a search pattern runs on the server: always a linear-time RE2 engine, so no pattern can take longer than a
 * scan. The native `re2` package (RE2 itself, an optional dependency built from source at install) when it loads:
 * it matches UTF-8 bytes in place (a whole chunk of lines per call, no decoding) at scan speed. Else re2js (the
 * pure-JS port, always installed; ~10x slower), with a warning once per process. The dialect is the one re2js
 * parses (core/regex-dialect.ts): a pattern it rejects is a 400 `bad_query`; one it accepts that the native
 * build does not runs on re2js. LIVETRAIL_NATIVE_RE2=0 in the environment forces re2js.
 */
export type PatternEngine = "re2" | "re2js";

/** A compiled pattern as a search worker gets it (plain data, see PATTERN_WORKER_SOURCE). */
export interface PatternSpec {
  engine: PatternEngine;
  /** RE2 syntax (a literal query escaped). */
  source: string;
  caseless: boolean;
  /** Module paths the worker requires: the native addon's (engine "re2") and re2js' CommonJS build. */
  re2Path: string | null;
  re2jsPath: string;
}

/** What the native module exports that we use. */
type NativeRe2 = new (source: string, flags: string) => { test(text: string | Buffer): boolean };

const require = createRequire(import.meta.url);
let native: { path: string; RE2: NativeRe2 } | null | undefined;
let re2jsPath: string | undefined;

/** The native RE2 class and its path, loaded once; null (with a warning, once) when it cannot be loaded. */
function nativeRe2(): { path: string; RE2: NativeRe2 } | null {
  if (process.env.LIVETRAIL_NATIVE_RE2 === "0") return null;
  if (native === undefined) {
    try {
      const path = require.resolve("re2");
      native = { path, RE2: require(path) as NativeRe2 };
    } catch (error) {
      native = null;
      process.emitWarning(
        `native re2 not loadable (${(error as Error).message.split("\n")[0]}): search regexes run on re2js, ` +
          "linear-time but about 10x slower; reinstall with g++, make and python3 present to build it",
        "LivetrailWarning",
      );
    }
  }
  return native;
}

/** The engine a regex search runs on in this process (the native one unless it cannot be loaded). */
export function patternEngine(): PatternEngine {
  return nativeRe2() === null ? "re2js" : "re2";
}

/** The query as a regex source (RE2 and JavaScript alike) matching it literally. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** Throws SearchQueryError (400 `bad_query`) when `source` is not a pattern of the dialect. */
export function checkPattern(source: string, caseless: boolean): void {
  try {
    compileRegex(source, caseless);
  } catch (error) {
    if (error instanceof RegexSyntaxError)
      throw new SearchQueryError(`invalid regular expression: ${error.message}`);
    throw error;
  }
}

/** The query's pattern for a worker: a regex (checked; throws SearchQueryError) or a literal escaped. */
export function patternSpec(q: string, regex: boolean, caseless: boolean): PatternSpec {
  if (regex) checkPattern(q, caseless);
  const source = regex ? re2Source(q) : escapeRegExp(q);
  re2jsPath ??= require.resolve("re2js");
  const found = nativeRe2();
  let engine: PatternEngine = found === null ? "re2js" : "re2";
  if (found !== null) {
    try {
      new found.RE2(source, caseless ? "iu" : "u");
    } catch {
      engine = "re2js"; // re2js' syntax is the contract; the native build's few differences run there
    }
  }
  return { engine, source, caseless, re2Path: engine === "re2" ? (found?.path ?? null) : null, re2jsPath };
}

/**
 * Worker-side JavaScript (prepended to a search worker's source): `compilePattern(spec)` turns a PatternSpec into
 * `{ test(text), testBytes(buf), chunk }`. A line as a string always runs on re2js: a call into native RE2 with a
 * string costs 1.1-1.4 µs per 100-byte line (the UTF-8 copy), re2js 56-830 ns (measured on the bench's lines).
 * Native RE2 takes bytes: `chunk` (native only) is a global multi-line RE2 for finding candidate lines in a whole
 * buffer of lines, offsets in bytes, and `testBytes` one line's bytes; on re2js `chunk` is null and `testBytes`
 * decodes.
 */
export const PATTERN_WORKER_SOURCE = `
function compilePattern(spec) {
  const { RE2JS } = require(spec.re2jsPath);
  const re = RE2JS.compile(spec.source, spec.caseless ? RE2JS.CASE_INSENSITIVE : 0);
  const test = (text) => re.test(text);
  if (spec.engine === "re2") {
    const RE2 = require(spec.re2Path);
    const flags = spec.caseless ? "iu" : "u";
    const one = new RE2(spec.source, flags);
    return { test, testBytes: (buf) => one.test(buf), chunk: new RE2(spec.source, flags + "gm") };
  }
  const utf8 = new TextDecoder("utf-8");
  return { test, testBytes: (buf) => re.test(utf8.decode(buf)), chunk: null };
}
`;
