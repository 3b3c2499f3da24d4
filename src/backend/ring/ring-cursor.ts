import { CursorError, cursorTail, parseBase36 } from "../../core/cursor.js";

/**
 * Ring cursors, in the shared envelope (core/cursor.ts):
 *
 *   r.<run>.<position>.<seq>      (position and seq in base 36)
 *
 * run names one life of the ring (random per server start, so a cursor from an earlier run is told apart),
 * position is the byte position after the line in everything the ring was fed, seq the line's number in the run.
 */
export interface RingCursor {
  run: string;
  position: number;
  seq: number;
}

const SHAPE = /^r\.([0-9a-f]{12})\.([0-9a-z]{1,11})\.([0-9a-z]{1,11})$/;
const MAX_CURSOR_CHARS = 40;

export function ringPrefix(run: string): string {
  return `r.${run}.`;
}

export function encodeRingCursor(c: RingCursor): string {
  return ringPrefix(c.run) + cursorTail(c.position, c.seq);
}

export function decodeRingCursor(text: string): RingCursor {
  if (typeof text !== "string") throw new CursorError("cursor must be a string");
  if (text.length > MAX_CURSOR_CHARS) throw new CursorError(`cursor too long (${text.length} characters)`);
  const match = SHAPE.exec(text);
  if (!match) throw new CursorError(`malformed cursor "${text}" (not a cursor of an in-memory stream)`);
  const [, run, positionText, seqText] = match as unknown as [string, string, string, string];
  return {
    run,
    position: parseBase36(positionText, "position", text),
    seq: parseBase36(seqText, "sequence", text),
  };
}
