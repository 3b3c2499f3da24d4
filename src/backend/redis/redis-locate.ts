import { CursorError } from "../../core/cursor.js";
import { entryId, type StreamRecord } from "./entry.js";
import type { RedisCursor } from "./redis-cursor.js";
import { type StreamRecords, startOf } from "./redis-records.js";

/** What the stream holds at a cursor's position, found with one or two XRANGE calls. */
export type Located =
  /**
   * The position exists (an entry ends there, or it is where the oldest entry starts): `next` is the first line
   * or gap marker after it (entries livetrail did not write are passed over).
   */
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
    return { kind: "here", next: await ownAfter(records, next ?? null), atStart: false };
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
      return { kind: "here", next: await ownAfter(records, here), atStart: true };
    if (start === undefined || start > at.position) return { kind: "trimmed", first };
  }
  if (start === at.position) return { kind: "here", next: here, atStart: false };
  throw new CursorError(`cursor "${text}" is not at an entry boundary of this stream`);
}

/** Foreign entries to pass over before deciding a reader has nothing of ours next (bounds a hostile stretch). */
const MAX_FOREIGN_SCAN = 10_000;

/** `record`, or when it is foreign the first line or gap marker after it (null: none within reach). */
async function ownAfter(records: StreamRecords, record: StreamRecord | null): Promise<StreamRecord | null> {
  let current = record;
  let scanned = 0;
  while (current?.kind === "foreign" && scanned < MAX_FOREIGN_SCAN) {
    const more = await records.after(`(${current.id}`, 100);
    scanned += more.length;
    current = more.find((r) => r.kind !== "foreign") ?? more[more.length - 1] ?? null;
  }
  return current?.kind === "foreign" ? null : current;
}
