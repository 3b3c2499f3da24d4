import { CursorError, cursorTail, parseBase36 } from "../../core/cursor.js";

/**
 * Redis stream cursors, in the shared envelope (core/cursor.ts):
 *
 *   x.<position>.<seq>      (base 36)
 *
 * position is the stream's byte position after the line, which is also the first part of the line's entry ID
 * `<position>-0` (entry.ts); seq is the line's `q`. Both come from the entry itself, so every replica gives the
 * same line the same cursor and a cursor is valid on any replica, across server restarts (durable). `x.0.0` is
 * the start of a stream.
 */
export interface RedisCursor {
  position: number;
  seq: number;
}

export const REDIS_PREFIX = "x.";
const SHAPE = /^x\.([0-9a-z]{1,11})\.([0-9a-z]{1,11})$/;
const MAX_CURSOR_CHARS = 32;

export function encodeRedisCursor(c: RedisCursor): string {
  return REDIS_PREFIX + cursorTail(c.position, c.seq);
}

export function decodeRedisCursor(text: string): RedisCursor {
  if (typeof text !== "string") throw new CursorError("cursor must be a string");
  if (text.length > MAX_CURSOR_CHARS) throw new CursorError(`cursor too long (${text.length} characters)`);
  const match = SHAPE.exec(text);
  if (!match) throw new CursorError(`malformed cursor "${text}" (not a cursor of a Redis stream)`);
  const [, positionText, seqText] = match as unknown as [string, string, string];
  return {
    position: parseBase36(positionText, "position", text),
    seq: parseBase36(seqText, "sequence", text),
  };
}
