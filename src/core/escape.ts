/**
 * The visible notation for a character a line must not show raw: `\n`, `\r`, `\t`; `\xHH` for other C0 controls
 * and DEL; `\uHHHH` beyond (C1 controls, separators, bidirectional controls). `livetrail log` writes it,
 * `livetrail tail` prints it on a terminal and the dashboard shows it.
 */
export function escapeChar(ch: string): string {
  if (ch === "\n") return "\\n";
  if (ch === "\r") return "\\r";
  if (ch === "\t") return "\\t";
  const code = ch.charCodeAt(0);
  if (code <= 0x7f) return `\\x${code.toString(16).padStart(2, "0")}`;
  return `\\u${code.toString(16).padStart(4, "0")}`;
}
