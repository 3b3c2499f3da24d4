/**
 * Cursors: opaque, versioned positions a consumer may resume from.
 *
 *   1.<fileId>.<fpLen>.<offset>.<seq>      (numbers in base 36)
 *
 * fileId names the file (see file-identity.ts), fpLen how many head bytes its fingerprint covers, offset the byte
 * position just after the last complete line delivered, seq that line's sequence number (0 = none yet). seq may
 * be negative ("-" then base 36): lines paged backwards from a cursor are numbered down from its seq.
 * Clients treat the text as opaque; only this module knows the layout.
 */
export interface CursorData {
  fileId: string;
  fpLen: number;
  offset: number;
  seq: number;
}

/** The cursor text is malformed (bad version, field, or number): a client error, never a guess. */
export class CursorError extends Error {
  override readonly name = "CursorError";
}

/** A well-formed cursor whose file is gone or has changed, so it cannot be paged from. */
export class StaleCursorError extends Error {
  override readonly name = "StaleCursorError";
  constructor(
    message: string,
    readonly reason: "file-changed" | "file-gone" | "truncated",
  ) {
    super(message);
  }
}

const VERSION = "1";
/** Longest fingerprint, in bytes, that a cursor may name (file-identity.ts computes at most this many). */
export const MAX_FP_LEN = 256;
/** Longest valid cursor text: bounds the work done on hostile input before any parsing. */
const MAX_CURSOR_CHARS = 64;
const SHAPE = /^1\.([0-9a-f]{12})\.([0-9a-z]{1,2})\.([0-9a-z]{1,11})\.(-?[0-9a-z]{1,11})$/;

export function encodeCursor(c: CursorData): string {
  if (!/^[0-9a-f]{12}$/.test(c.fileId)) throw new CursorError(`invalid file id "${c.fileId}"`);
  for (const [what, value, max] of [
    ["fingerprint length", c.fpLen, MAX_FP_LEN],
    ["offset", c.offset, Number.MAX_SAFE_INTEGER],
  ] as const) {
    if (!Number.isSafeInteger(value) || value < 0 || value > max)
      throw new CursorError(`invalid cursor ${what} ${value}`);
  }
  if (!Number.isSafeInteger(c.seq)) throw new CursorError(`invalid cursor sequence ${c.seq}`);
  return cursorPrefix(c.fileId, c.fpLen) + cursorTail(c.offset, c.seq);
}

/** The constant part of every cursor of one file identity: followers build it once per file. */
export function cursorPrefix(fileId: string, fpLen: number): string {
  return `${VERSION}.${fileId}.${fpLen.toString(36)}.`;
}

/** The cursorPrefix() part of a well-formed cursor (its file identity). */
export function prefixOf(cursor: string): string {
  return cursor.slice(0, cursor.lastIndexOf(".", cursor.lastIndexOf(".") - 1) + 1);
}

/** The variable part: append to cursorPrefix(). Built for every line, so it avoids Number#toString(36). */
export function cursorTail(offset: number, seq: number): string {
  return `${base36(offset)}.${seq >= 0 ? base36(seq) : `-${base36(-seq)}`}`;
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

export function decodeCursor(text: string): CursorData {
  if (typeof text !== "string") throw new CursorError("cursor must be a string");
  if (text.length > MAX_CURSOR_CHARS) throw new CursorError(`cursor too long (${text.length} characters)`);
  if (!text.startsWith(`${VERSION}.`)) {
    throw new CursorError(`unsupported cursor version in "${text}" (expected version ${VERSION})`);
  }
  const match = SHAPE.exec(text);
  if (!match) throw new CursorError(`malformed cursor "${text}"`);
  const [, fileId, fpText, offsetText, seqText] = match as unknown as [
    string,
    string,
    string,
    string,
    string,
  ];
  const fpLen = parseNumber(fpText, "fingerprint length", text);
  if (fpLen > MAX_FP_LEN)
    throw new CursorError(`cursor "${text}": fingerprint length ${fpLen} exceeds ${MAX_FP_LEN}`);
  return {
    fileId,
    fpLen,
    offset: parseNumber(offsetText, "offset", text),
    seq: seqText.startsWith("-")
      ? -parseNumber(seqText.slice(1), "sequence", text, true)
      : parseNumber(seqText, "sequence", text),
  };
}

/** Parses a canonical base-36 number: no leading zeros, so every position has exactly one cursor text. */
function parseNumber(digits: string, what: string, cursor: string, negative = false): number {
  if ((digits.length > 1 || negative) && digits.startsWith("0")) {
    throw new CursorError(`cursor "${cursor}": ${what} has leading zeros`);
  }
  const value = Number.parseInt(digits, 36);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new CursorError(`cursor "${cursor}": ${what} is not a safe integer`);
  }
  return value;
}
