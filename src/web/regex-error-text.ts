/**
 * The match counter's words for an invalid regular expression: "Invalid regex: " once, then only the reason. The
 * engine's own message already says it is invalid and often repeats the pattern (V8: "Invalid regular
 * expression: /needle(/i: Unterminated group"; RE2: "error parsing regexp: missing closing ): `needle(`"); those
 * parts go, so the counter stays short (the box shows the pattern already). A part naming less than the whole
 * pattern (RE2's "invalid repeat count: `{2,1}`") stays: it says where. The dialect's "(RE2 syntax: …)" hint goes
 * too (the filter's title says which syntax it takes), as does the `(?i)` re2js puts before a caseless pattern.
 */
export function invalidRegexText(error: string, pattern?: string): string {
  let reason = error.trim();
  for (;;) {
    const next = reason
      .replace(/^(?:invalid\s+reg(?:ular\s+)?ex(?:pression|p)?|error\s+parsing\s+regexp?)\s*:?\s*/i, "")
      .replace(/^\/.*\/[a-z]*\s*:\s*/is, "");
    if (next === reason) break;
    reason = next;
  }
  reason = reason.replace(/\s*\(RE2 syntax:[^)]*\)$/, "");
  if (pattern !== undefined && pattern !== "")
    for (const shown of [pattern, `(?i)${pattern}`])
      if (reason.endsWith(`: \`${shown}\``)) reason = reason.slice(0, -(shown.length + 4));
  return reason === "" ? "Invalid regex" : `Invalid regex: ${reason}`;
}
