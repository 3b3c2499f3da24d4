import { entryId, type LineRecord } from "./entry.js";
import { type StreamRecords, startOf } from "./redis-records.js";

/** Entries a probe looks through for a line with a timestamp (`t`) before giving up on that spot. */
const PROBE_ENTRIES = 256;

/**
 * The first line whose `t` is at or after `atMs`, by binary search over the stream's positions (entry IDs are
 * positions, entry.ts): an audit log is appended in time order, so a seek reads a few dozen small ranges even
 * for millions of entries. As in the file backend (file/time-seek.ts), lines without a timestamp belong to the
 * stamped line before them, and those at the very start are included when seeking before everything. Returns
 * "start" for that case, null when every line is older.
 */
export async function seekRecord(records: StreamRecords, atMs: number): Promise<LineRecord | "start" | null> {
  const head = await probe(records, "-");
  if (head === null) return null;
  if ((head.timeMs as number) >= atMs) return "start";
  const newest = await records.newest();
  let lo = (startOf(head) as number) + 1;
  let hi = newest?.position ?? lo;
  let best: LineRecord | null = null;
  while (lo < hi) {
    const mid = lo + Math.floor((hi - lo) / 2);
    // The first stamped line ending after `mid` (it may start before it).
    const found = await probe(records, `(${entryId(mid)}`);
    if (
      found !== null &&
      (found.timeMs as number) >= atMs &&
      (best === null || found.position < best.position)
    )
      best = found;
    if (found === null || (found.timeMs as number) >= atMs) hi = mid;
    else lo = found.position;
  }
  return best;
}

async function probe(records: StreamRecords, start: string): Promise<LineRecord | null> {
  for (const record of await records.after(start, PROBE_ENTRIES))
    if (record.kind === "line" && record.timeMs !== undefined) return record;
  return null;
}
