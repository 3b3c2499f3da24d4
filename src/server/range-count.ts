import type { StreamBackend } from "../backend/backend.js";
import { parseEntry } from "../core/entry.js";
import type { Line } from "../core/line.js";
import type { RangeCount } from "../protocol/messages.js";

/** Lines read per page while counting: large pages keep the per-page cost (a read, a cursor compare) small. */
const PAGE_LINES = 10_000;
const PAGE_BYTES = 8 * 1024 * 1024;

export interface RangeCountOptions {
  /** Counting stops here (ms since epoch): the answer then says `exact: false`. */
  deadline: number;
  signal?: AbortSignal;
  now?: () => number;
}

/**
 * How many lines, errors and warnings lie strictly after cursor `after` and up to cursor `before` (null: from the
 * start / to the end of the source), and the times of the first and last of them: a gap row's words. Read through
 * the backend's own paging, so it counts what a gap fill would load, in any backend. Bounded by a deadline: a
 * count cut short is a lower bound (`exact: false`, and no last time, since the range's end was not reached).
 */
export async function countRange(
  backend: StreamBackend,
  after: string | null,
  before: string | null,
  options: RangeCountOptions,
): Promise<RangeCount> {
  const now = options.now ?? Date.now;
  const out: RangeCount = { lines: 0, errors: 0, warnings: 0, firstTime: null, lastTime: null, exact: true };
  let cursor = after;
  for (;;) {
    if (options.signal?.aborted || now() >= options.deadline) {
      out.exact = false;
      out.lastTime = null;
      return out;
    }
    const page = await backend.readAfter(cursor, PAGE_LINES, PAGE_BYTES);
    const n = before === null ? page.lines.length : within(backend, page.lines, before);
    for (let i = 0; i < n; i++) tally(out, page.lines[i] as Line);
    if (n < page.lines.length || !page.more || page.lines.length === 0) return out;
    cursor = page.cursor;
  }
}

/** How many of `lines` (in order) end at or before `before`: the last one checked first, then a binary search. */
function within(backend: StreamBackend, lines: readonly Line[], before: string): number {
  const last = lines.at(-1);
  if (last === undefined || backend.compare(last.cursor, before) <= 0) return lines.length;
  let lo = 0;
  let hi = lines.length - 1; // lines[hi] is past `before`
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (backend.compare((lines[mid] as Line).cursor, before) <= 0) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function tally(out: RangeCount, line: Line): void {
  out.lines++;
  const entry = parseEntry(line.text);
  if (entry.level === "error") out.errors++;
  else if (entry.level === "warn") out.warnings++;
  const time = line.time ?? entry.ts;
  if (time === undefined) return;
  out.firstTime ??= time;
  out.lastTime = time;
}
