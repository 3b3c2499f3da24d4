/**
 * The match counter's words for an invalid regular expression: "Invalid regex: " once, then only the reason. The
 * engine's own message already says it is invalid and repeats the pattern ("Invalid regular expression:
 * /needle(/i: Unterminated group"); both go, so the counter stays short (the box shows the pattern already).
 */
export function invalidRegexText(error: string): string {
  let reason = error.trim();
  for (;;) {
    const next = reason
      .replace(/^invalid\s+reg(?:ular\s+)?ex(?:pression|p)?\s*:?\s*/i, "")
      .replace(/^\/.*\/[a-z]*\s*:\s*/is, "");
    if (next === reason) break;
    reason = next;
  }
  return reason === "" ? "Invalid regex" : `Invalid regex: ${reason}`;
}
