import type { Line } from "../../core/line.js";
import { lineBytes } from "../../core/line.js";
import type { SearchOutcome, SearchQuery } from "../backend.js";
import { searchTexts } from "../ring/ring-search.js";
import { checkQuery, SearchAbortedError } from "../search-query.js";
import { type StreamRecords, toLine } from "./redis-records.js";

/** Entries read per XRANGE of a scan, and so the most lines one worker searches at a time. */
const CHUNK_ENTRIES = 5000;

/**
 * Whole-stream search, oldest first: the stream is read in chunks (XRANGE … COUNT) and each chunk's lines are
 * searched in a worker thread (ring-search.ts, the same checks as every backend: search-query.ts), so a
 * pathological regex is stopped at the deadline. Memory is bounded by one chunk plus the matches (`limit`).
 */
export async function searchStream(
  records: StreamRecords,
  query: SearchQuery,
  maxLineBytes: number,
  now: () => number = Date.now,
): Promise<SearchOutcome> {
  checkQuery(query);
  const deadline = now() + query.timeoutMs;
  const matches: Line[] = [];
  let scannedBytes = 0;
  let start = "-";
  for (;;) {
    if (query.signal?.aborted) throw new SearchAbortedError("the search was cancelled");
    const left = deadline - now();
    if (left <= 0) return { matches, limited: false, timedOut: true, scannedBytes };
    const chunk = await records.after(start, CHUNK_ENTRIES);
    const last = chunk[chunk.length - 1];
    if (last === undefined) return { matches, limited: false, timedOut: false, scannedBytes };
    const lines: Line[] = [];
    for (const record of chunk) if (record.kind === "line") lines.push(toLine(record, maxLineBytes));
    const wanted = query.limit - matches.length;
    const outcome = await searchTexts(
      lines.map((l) => l.text),
      { ...query, limit: wanted, timeoutMs: Math.max(1, left) },
    );
    for (const i of outcome.indexes) matches.push(lines[i] as Line);
    if (outcome.timedOut) return { matches, limited: false, timedOut: true, scannedBytes };
    if (outcome.limited) {
      for (const line of lines.slice(0, (outcome.indexes.at(-1) ?? 0) + 1)) scannedBytes += lineBytes(line);
      return { matches, limited: true, timedOut: false, scannedBytes };
    }
    for (const line of lines) scannedBytes += lineBytes(line);
    if (chunk.length < CHUNK_ENTRIES) return { matches, limited: false, timedOut: false, scannedBytes };
    start = `(${last.id}`;
  }
}
