import type { Line } from "./line.js";

/**
 * How much of a line a page or a `/ws` frame shows: its first 64 KiB. Lines are kept whole up to the server's
 * maxLineBytes (1 MiB by default); a browser needs only the head to show a row, and fetches the whole line by its
 * cursor when asked (GET /api/streams/:name/line). SSE and the old `/ws/audit` feed carry whole lines.
 */
export const DISPLAY_LINE_BYTES = 64 * 1024;

/** The line's text cut to `maxBytes` of UTF-8 at a character boundary, and its real length when it was cut. */
export function lineHead(line: Line, maxBytes = DISPLAY_LINE_BYTES): { text: string; trunc?: number } {
  const whole = line.truncatedFrom;
  // A UTF-16 unit is at most 3 bytes of UTF-8: short texts need no measuring.
  if (line.text.length * 3 <= maxBytes)
    return whole === undefined ? { text: line.text } : { text: line.text, trunc: whole };
  const bytes = Buffer.from(line.text, "utf8");
  if (bytes.length <= maxBytes)
    return whole === undefined ? { text: line.text } : { text: line.text, trunc: whole };
  let end = maxBytes;
  // Back off continuation bytes (10xxxxxx) so the cut falls between characters.
  while (end > 0 && ((bytes[end] as number) & 0xc0) === 0x80) end--;
  return { text: bytes.toString("utf8", 0, end), trunc: whole ?? bytes.length };
}
