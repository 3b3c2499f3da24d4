import { CursorError, cursorTail, parseBase36 } from "../../core/cursor.js";

/**
 * File cursors, in the shared envelope (core/cursor.ts):
 *
 *   1.<fileId>.<fpLen>.<offset>.<seq>      (numbers in base 36)
 *
 * fileId names the file (see file-identity.ts), fpLen how many head bytes its fingerprint covers, offset the byte
 * position just after the last complete line delivered, seq that line's sequence number (0 = none yet).
 * Only the file backend reads this layout.
 */
export interface CursorData {
  fileId: string;
  fpLen: number;
  offset: number;
  seq: number;
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
  const fpLen = parseBase36(fpText, "fingerprint length", text);
  if (fpLen > MAX_FP_LEN)
    throw new CursorError(`cursor "${text}": fingerprint length ${fpLen} exceeds ${MAX_FP_LEN}`);
  return {
    fileId,
    fpLen,
    offset: parseBase36(offsetText, "offset", text),
    seq: seqText.startsWith("-")
      ? -parseBase36(seqText.slice(1), "sequence", text, true)
      : parseBase36(seqText, "sequence", text),
  };
}
