import { describe, expect, it } from "vitest";
import { compileRegex, RegexSyntaxError, re2Source, regexProblem } from "../../src/core/regex-dialect.js";

describe("the regex dialect (RE2 syntax, JS \\u escapes accepted)", () => {
  it("writes \\uXXXX and \\u{X} as RE2's \\x{X}, leaving an escaped backslash alone", () => {
    expect(re2Source("caf\\u00e9")).toBe("caf\\x{00e9}");
    expect(re2Source("[\\u{1F600}-\\u{1F64F}]")).toBe("[\\x{1F600}-\\x{1F64F}]");
    expect(re2Source("a\\\\u0041")).toBe("a\\\\u0041");
    expect(compileRegex("caf\\u00e9", false).test("café")).toBe(true);
    expect(compileRegex("a\\\\u0041", false).test("a\\u0041")).toBe(true);
  });

  it("rejects lookaround and backreferences, saying it is RE2 syntax", () => {
    for (const p of ["a(?=b)", "(?<!x)y", "(a)\\1", "(", "a**"]) {
      expect(() => compileRegex(p, false), p).toThrow(RegexSyntaxError);
      expect(regexProblem(p, true), p).toMatch(/RE2 syntax: no lookaround or backreferences/);
    }
    expect(regexProblem("user=(bob|eve) \\d+", true)).toBeNull();
  });

  it("runs a catastrophic backtracking pattern in one pass and gets the answer right", () => {
    const line = `${"a".repeat(100_000)}!`;
    expect(compileRegex("(a+)+$", false).test(line)).toBe(false);
    expect(compileRegex("(a+)+!$", false).test(line)).toBe(true);
    expect(compileRegex("(A|a)*b", true).test(line)).toBe(false);
  });
});
