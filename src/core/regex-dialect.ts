import { RE2JS } from "re2js";

/**
 * The one regular-expression dialect of livetrail, wherever a pattern runs (server search, alert rules, the
 * dashboard's filter, `tail --grep`): RE2 syntax as re2js parses it, so every engine behind it is linear in the
 * text (no lookaround, no backreferences: `(a+)+$` cannot backtrack). JavaScript's `\uXXXX` and `\u{X}` escapes
 * are accepted too (written as RE2's `\x{X}`), since users coming from JS type them. A pattern re2js rejects is
 * the user's error, with re2js' message.
 */
export class RegexSyntaxError extends Error {
  override readonly name = "RegexSyntaxError";
}

/** The pattern in RE2's own syntax: `\uXXXX` and `\u{X}` become `\x{X}`; an escaped backslash stays as it is. */
export function re2Source(source: string): string {
  if (!source.includes("\\u")) return source;
  return source.replace(/\\(?:u\{([0-9a-fA-F]+)\}|u([0-9a-fA-F]{4})|[\s\S])/g, (whole, braced, four) =>
    braced !== undefined || four !== undefined ? `\\x{${braced ?? four}}` : whole,
  );
}

/** Compiles a pattern of the dialect with re2js; throws RegexSyntaxError saying why it is not one. */
export function compileRegex(source: string, caseless: boolean): RE2JS {
  try {
    return RE2JS.compile(re2Source(source), caseless ? RE2JS.CASE_INSENSITIVE : 0);
  } catch (error) {
    const message = (error as Error).message.replace(/^error parsing regexp: /, "");
    throw new RegexSyntaxError(`${message} (RE2 syntax: no lookaround or backreferences)`);
  }
}

/** Why `source` is not a pattern of the dialect, or null. */
export function regexProblem(source: string, caseless: boolean): string | null {
  try {
    compileRegex(source, caseless);
    return null;
  } catch (error) {
    return (error as Error).message;
  }
}
