import { CursorError } from "../../core/cursor.js";
import { entryId, type StreamRecord } from "./entry.js";
import type { RedisCursor } from "./redis-cursor.js";
import { type StreamRecords, startOf } from "./redis-records.js";

/** What the stream holds at a cursor's position, found with one or two XRANGE calls. */
export type Located =
  /** The position exists (an entry ends there, or it is where the oldest entry starts): `next` follows it. */
  | { kind: "here"; next: StreamRecord | null; atStart: boolean }
  /** Retention removed the entries after the cursor: the oldest kept is `first`. */
  | { kind: "trimmed"; first: StreamRecord }
  /** Beyond the newest entry: the stream lost entries it once had (Redis restarted without them, key recreated). */
  | { kind: "beyond"; newest: StreamRecord | null };

/**
 * Where a cursor stands in the stream. Throws CursorError for a position inside the stream where no entry ends
 * (a made-up cursor, or one whose entry was deleted by hand).
 */
export async function locate(records: StreamRecords, at: RedisCursor, text: string): Promise<Located> {
  const [here, next] = await records.after(entryId(at.position), 2);
  if (here !== undefined && here.position === at.position)
    return { kind: "here", next: next ?? null, atStart: false };
  if (here === undefined) {
    const newest = await records.newest();
    if (newest === null && at.position === 0) return { kind: "here", next: null, atStart: true };
    return { kind: "beyond", newest };
  }
  // No entry ends at the position: fine where the oldest kept entry starts, trimmed before it.
  const first = (await records.first()) as StreamRecord;
  const start = startOf(here);
  if (first.id === here.id) {
    if (start === at.position || (start === undefined && at.position === 0))
      return { kind: "here", next: here, atStart: true };
    if (start === undefined || start > at.position) return { kind: "trimmed", first };
  }
  if (start === at.position) return { kind: "here", next: here, atStart: false };
  throw new CursorError(`cursor "${text}" is not at an entry boundary of this stream`);
}
