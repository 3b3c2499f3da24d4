import { describe, expect, it } from "vitest";
import { compileFilter } from "../../src/web/matcher.js";
import { invalidRegexText } from "../../src/web/regex-error-text.js";
import { authRequired } from "../../src/web/sign-out.js";
import { readTheme } from "../../src/web/theme-toggle.js";

/** The DOM-free parts of the rough-edge fixes: the regex error's words, the stored theme, auth from /healthz. */
describe("invalidRegexText", () => {
  const engineMessage = (pattern: string, flags = "") => {
    try {
      new RegExp(pattern, flags);
    } catch (e) {
      return (e as Error).message;
    }
    throw new Error(`${pattern} compiled`);
  };

  it("says Invalid regex once and keeps only the reason from the engine's message", () => {
    const raw = engineMessage("needle(", "i");
    expect(raw).toMatch(/^Invalid regular expression: \/needle\(\/i: /);
    expect(invalidRegexText(raw)).toBe("Invalid regex: Unterminated group");
    expect(invalidRegexText(engineMessage("a{2,1}"))).toBe(
      "Invalid regex: numbers out of order in {} quantifier",
    );
  });

  it("leaves other engines' reasons whole and never says it twice", () => {
    expect(invalidRegexText("missing closing ): needle(")).toBe("Invalid regex: missing closing ): needle(");
    // RE2 (re2js): its prefix goes, and the whole pattern repeated at the end; a part of it naming the spot stays.
    expect(invalidRegexText("error parsing regexp: missing closing ): `needle(`", "needle(")).toBe(
      "Invalid regex: missing closing )",
    );
    expect(invalidRegexText("error parsing regexp: invalid repeat count: `{2,1}`", "a{2,1}")).toBe(
      "Invalid regex: invalid repeat count: `{2,1}`",
    );
    expect(invalidRegexText("Invalid regex: Invalid regexp: bad escape")).toBe("Invalid regex: bad escape");
    expect(invalidRegexText("Invalid regular expression")).toBe("Invalid regex");
  });

  it("shortens the filter's own error (the dialect's hint and the (?i) of a caseless pattern go)", () => {
    const spec = { text: "needle(((", caseSensitive: false, regex: true, onlyMatching: true };
    const compiled = compileFilter(spec);
    if (compiled.ok) throw new Error("needle((( compiled");
    expect(compiled.error).toContain("(?i)needle(((");
    expect(invalidRegexText(compiled.error, spec.text)).toBe("Invalid regex: missing closing )");
    const lookahead = compileFilter({ ...spec, text: "a(?=b)" });
    if (lookahead.ok) throw new Error("a lookahead compiled");
    expect(invalidRegexText(lookahead.error, "a(?=b)")).toMatch(/^Invalid regex: .*\(\?=/);
  });
});

describe("readTheme", () => {
  const storage = (v: string | null) => ({ getItem: () => v });
  it("reads light and dark; anything else, nothing or refused storage is system", () => {
    expect(readTheme(storage("light"))).toBe("light");
    expect(readTheme(storage("dark"))).toBe("dark");
    expect(readTheme(storage("sepia"))).toBe("system");
    expect(readTheme(storage(null))).toBe("system");
    expect(readTheme(null)).toBe("system");
    const refusing = {
      getItem: (): string | null => {
        throw new DOMException("denied", "SecurityError");
      },
    };
    expect(readTheme(refusing)).toBe("system");
  });
});

describe("authRequired", () => {
  it("is true for a cookie-less /healthz answer without streams (the server signs browsers in)", () => {
    expect(authRequired({ status: "ok" })).toBe(true);
    expect(authRequired({ status: "ok", clients: 1, streams: [] })).toBe(false);
    expect(authRequired(null)).toBe(false);
    expect(authRequired("ok")).toBe(false);
  });
});
