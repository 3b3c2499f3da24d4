/**
 * The cursor envelope every backend shares: `<source>.<position>.<seq>`.
 *
 * `<source>` is the backend's own (it names the file, ring or stream the position belongs to, ending in a dot);
 * `<position>` is where the next line starts in that source's bytes and `<seq>` the sequence number of the line
 * before it, both base 36 (seq may be negative: "-" then base 36). Lines frames name only their last line's cursor
 * and clients derive the others from it (protocol/lines-frame.ts), which needs exactly this tail. Everything else
 * about a cursor (what the source part means, whether it is valid, how two compare) belongs to its backend.
 */

/** The cursor text is malformed (bad version, field, or number): a client error, never a guess. */
export class CursorError extends Error {
  override readonly name = "CursorError";
  readonly code = "bad_cursor";
}

/** Why lines after a cursor cannot be delivered from where it points. */
export type StaleReason = "file-changed" | "file-gone" | "truncated" | "restarted" | "trimmed";

/** A well-formed cursor whose source position no longer exists (another file, truncated, a ring that moved on). */
export class StaleCursorError extends Error {
  override readonly name = "StaleCursorError";
  readonly code = "stale_cursor";
  constructor(
    message: string,
    readonly reason: StaleReason,
  ) {
    super(message);
  }
}

/** The source part of a well-formed cursor (everything up to and including the dot before its position). */
export function prefixOf(cursor: string): string {
  return cursor.slice(0, cursor.lastIndexOf(".", cursor.lastIndexOf(".") - 1) + 1);
}

/** The variable part: append to a source prefix. Built for every line, so it avoids Number#toString(36). */
export function cursorTail(position: number, seq: number): string {
  return `${base36(position)}.${seq >= 0 ? base36(seq) : `-${base36(-seq)}`}`;
}

// Number#toString(36) goes through V8's generic radix conversion (~200 ns); two base-36 digits per table step
// make the per-line cursor several times cheaper. Output is identical for non-negative safe integers.
const SMALL: string[] = [];
const TWO_DIGITS: string[] = [];
for (let i = 0; i < 36 * 36; i++) {
  SMALL.push(i.toString(36));
  TWO_DIGITS.push(i.toString(36).padStart(2, "0"));
}

function base36(n: number): string {
  if (n < 1296) return SMALL[n] ?? n.toString(36);
  let digits = "";
  while (n >= 1296) {
    const q = Math.floor(n / 1296);
    digits = TWO_DIGITS[n - q * 1296] + digits;
    n = q;
  }
  return SMALL[n] + digits;
}

/** Parses a canonical base-36 number: no leading zeros, so every position has exactly one cursor text. */
export function parseBase36(digits: string, what: string, cursor: string, negative = false): number {
  if ((digits.length > 1 || negative) && digits.startsWith("0")) {
    throw new CursorError(`cursor "${cursor}": ${what} has leading zeros`);
  }
  const value = Number.parseInt(digits, 36);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new CursorError(`cursor "${cursor}": ${what} is not a safe integer`);
  }
  return value;
}
