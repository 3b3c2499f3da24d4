import { cursorTail, prefixOf } from "../core/cursor.js";
import type { LinesFrame, WireLine } from "./messages.js";

/** A line of a LinesFrame with its own cursor, for clients that keep one per line (the dashboard, tests). */
export type FrameLine = Omit<WireLine, "level">;

/**
 * The lines of a frame, each with its cursor: the frame's last cursor with the position moved back by the sizes
 * of the lines after it and the sequence number of the line. Cursors stay opaque to users of this module; it is
 * the one place outside the backends that knows their envelope (src/core/cursor.ts).
 */
export function frameLines(frame: LinesFrame): FrameLine[] {
  const { text, sizes, seq, cursor, trunc, err, ts } = frame;
  const n = text.length;
  const out = new Array<FrameLine>(n);
  const prefix = prefixOf(cursor);
  let end = Number.parseInt(cursor.slice(prefix.length, cursor.lastIndexOf(".")), 36);
  for (let i = n - 1; i >= 0; i--) {
    const line: FrameLine = { seq: seq + i, text: text[i] as string, c: prefix + cursorTail(end, seq + i) };
    const cut = trunc?.[i];
    if (cut !== undefined) line.trunc = cut;
    const time = ts?.[i];
    if (time !== undefined) line.ts = time;
    out[i] = line;
    end -= sizes[i] as number;
  }
  for (const i of err ?? []) {
    const line = out[i];
    if (line !== undefined) line.ch = "stderr";
  }
  return out;
}

/**
 * The part of a cursor that names its position (source and position, without the sequence number): the same
 * line read live and read from history carries a different, display-only sequence number.
 */
export function positionKey(cursor: string): string {
  const dot = cursor.lastIndexOf(".");
  return dot > 0 ? cursor.slice(0, dot + 1) : cursor;
}

/** Whether two cursors name the same position (see positionKey). */
export function samePosition(a: string | null, b: string | null): boolean {
  if (a === null || b === null) return false;
  return a === b || positionKey(a) === positionKey(b);
}
