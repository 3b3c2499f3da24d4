import { type FileHandle, open } from "node:fs/promises";
import { parseEntry } from "../../core/entry.js";

/** Bytes read per probe: enough for many lines, so a probe usually finds a timestamp in one read. */
const PROBE_BYTES = 64 * 1024;
/** A probe gives up looking for a timestamped line after this many bytes (a huge untimestamped stretch). */
const MAX_PROBE_SCAN = 4 * 1024 * 1024;

interface Stamped {
  /** Offset of the first byte of the timestamped line. */
  start: number;
  /** Offset after its newline. */
  end: number;
  tsMs: number;
}

/** A line's time (ms since epoch) from its bytes without the LF, undefined when it has none. */
export type LineTime = (line: Buffer) => number | undefined;

/** The entry format's `[time] message`: only the head of a line matters for its timestamp. */
const entryTime: LineTime = (line) => {
  if (line[0] !== 0x5b) return undefined;
  return parseEntry(line.subarray(0, 64).toString("latin1")).tsMs;
};

/**
 * Offset of the first line whose time is at or after `atMs`, by binary search over byte offsets: an audit log is
 * appended in time order, so this reads a few dozen small blocks even for a 1 GB file. A line without a timestamp
 * belongs to the timestamped line before it (a continuation), so the answer is always a timestamped line, or the
 * end of the file when every line is older. `size` bounds the search to complete lines known to exist.
 */
export async function seekTime(
  path: string,
  atMs: number,
  size: number,
  timeOf: LineTime = entryTime,
): Promise<number> {
  const handle = await open(path, "r");
  try {
    // Untimestamped lines at the very start belong to no earlier entry: include them when seeking before all.
    const first = await firstStampedAtOrAfter(handle, 0, size, timeOf);
    if (first === null || first.tsMs >= atMs) return first === null ? size : 0;
    let lo = 0;
    let hi = size;
    let best = size;
    while (lo < hi) {
      const mid = lo + Math.floor((hi - lo) / 2);
      // Reads may run past `hi`: a line that starts before `hi` must be seen whole.
      const probe = await firstStampedAtOrAfter(handle, mid, size, timeOf);
      if (probe !== null && probe.tsMs >= atMs) best = Math.min(best, probe.start);
      if (probe === null || probe.start >= hi || probe.tsMs >= atMs) hi = mid;
      else lo = probe.end;
    }
    return best;
  } finally {
    await handle.close();
  }
}

/** The first complete timestamped line that starts at or after `from` and ends by `limit`, or null. */
async function firstStampedAtOrAfter(
  handle: FileHandle,
  from: number,
  limit: number,
  timeOf: LineTime,
): Promise<Stamped | null> {
  // A line starts at 0 or right after a newline: read from from-1 to see whether `from` is a line start.
  let pos = from === 0 ? 0 : from - 1;
  let carry = Buffer.alloc(0);
  let carryAt = pos;
  let skipFirst = from !== 0;
  const buf = Buffer.allocUnsafe(PROBE_BYTES);
  while (pos < limit && pos - from < MAX_PROBE_SCAN) {
    const { bytesRead } = await handle.read(buf, 0, Math.min(PROBE_BYTES, limit - pos), pos);
    if (bytesRead === 0) return null;
    pos += bytesRead;
    const data =
      carry.length > 0 ? Buffer.concat([carry, buf.subarray(0, bytesRead)]) : buf.subarray(0, bytesRead);
    let lineStart = 0;
    if (skipFirst) {
      const nl = data.indexOf(10);
      if (nl < 0) {
        carry = Buffer.alloc(0);
        carryAt = pos;
        continue;
      }
      skipFirst = false;
      lineStart = nl + 1;
    }
    for (;;) {
      const nl = data.indexOf(10, lineStart);
      if (nl < 0) break;
      const tsMs = timeOf(data.subarray(lineStart, nl));
      if (tsMs !== undefined) return { start: carryAt + lineStart, end: carryAt + nl + 1, tsMs };
      lineStart = nl + 1;
    }
    carry = Buffer.from(data.subarray(lineStart));
    carryAt += lineStart;
  }
  return null;
}
