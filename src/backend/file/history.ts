import { type FileHandle, open } from "node:fs/promises";
import { CursorError, cursorTail, StaleCursorError } from "../../core/cursor.js";
import type { Line } from "../../core/line.js";
import { DEFAULT_MAX_LINE_BYTES, LineSplitter } from "../../core/line-splitter.js";
import { type CursorData, cursorPrefix, decodeCursor, MAX_FP_LEN } from "./file-cursor.js";
import { identify, isMissing } from "./file-identity.js";
import { isLineBoundary, lineStartBefore } from "./reverse-scan.js";

/**
 * History from the file itself: stateless reads after, before, or at the end of a position. Every cursor is
 * checked against the file's identity first, so a page never mixes two files. Only complete lines are returned
 * (a partial last line is still being written); memory is bounded by `limit` lines of at most maxLineBytes each
 * and, with `maxBytes`, by that many source bytes per read (at least one line is always returned when one exists).
 * Lines carry seq numbers relative to the cursor they page from; their cursors name the current file.
 */
export interface HistoryOptions {
  /** Longer lines are cut and marked with truncatedFrom (default 65536, as the follower). */
  maxLineBytes?: number;
  /** Bytes per read (default 64 KiB). */
  readChunkBytes?: number;
  /** Source bytes of lines one call returns at most (default unbounded); a call returns at least one line. */
  maxBytes?: number;
}

export interface ReadAfterPage {
  lines: Line[];
  /** Position after the last line returned (the starting position when none). */
  cursor: string;
  /** More complete lines exist after `cursor` right now. */
  more: boolean;
}

export interface ReadBeforePage {
  lines: Line[];
  /** Position before the first line returned (the given cursor when none). */
  cursor: string;
  /** More lines exist before `cursor`. */
  more: boolean;
}

export interface TailPage {
  lines: Line[];
  /** Position after the last complete line of the file (seq = number of lines returned). */
  cursor: string;
}

const DEFAULT_CHUNK_BYTES = 64 * 1024;
const CHECK_CHUNK_BYTES = 4096;
const LF = 10;

/** Up to `limit` lines after the cursor (null: from the start of the file, numbered from 1). */
export async function readAfter(
  path: string,
  cursor: string | null,
  limit: number,
  options: HistoryOptions = {},
): Promise<ReadAfterPage> {
  checkLimit(limit);
  const at = cursor === null ? null : decodeCursor(cursor);
  return withFile(path, at, cursor, async (file) => {
    const from = at?.offset ?? 0;
    const seq = at?.seq ?? 0;
    const { lines, more } = await readForward(file, from, file.size, limit, seq + 1, options);
    const last = lines[lines.length - 1];
    return { lines, cursor: last ? last.cursor : file.prefix + cursorTail(from, seq), more };
  });
}

/** Up to `limit` lines just before the cursor, in file order; the last one has the cursor's seq. */
export async function readBefore(
  path: string,
  cursor: string,
  limit: number,
  options: HistoryOptions = {},
): Promise<ReadBeforePage> {
  checkLimit(limit);
  const at = decodeCursor(cursor);
  return withFile(path, at, cursor, async (opened) => {
    // A cursor made while the file was young (under 256 bytes) has a shorter fingerprint than the file has now.
    // Its fingerprint covers every byte before its offset, so the lines before it may carry its prefix: the line
    // it names then has exactly its cursor (a link copied then finds its line), and each still names this file.
    const young = at.fpLen < MAX_FP_LEN && at.offset <= at.fpLen;
    const file = young ? { ...opened, prefix: cursorPrefix(at.fileId, at.fpLen) } : opened;
    const start = await startWithin(file, at.offset, limit, options);
    const { lines } = await readForward(file, start, at.offset, limit, at.seq - limit + 1, options);
    // Fewer lines than limit (the start of the file, or the byte budget): renumber so the last has the cursor's seq.
    const shift = limit - lines.length;
    if (shift > 0) for (const line of lines) renumber(line, line.seq + shift, file.prefix);
    const first = lines[0];
    return {
      lines,
      cursor: first ? file.prefix + cursorTail(first.start, first.seq - 1) : cursor,
      more: start > 0,
    };
  });
}

/** The last `n` complete lines, numbered 1..n, and the cursor after them. Reads backwards from the end only. */
export async function readTail(path: string, n: number, options: HistoryOptions = {}): Promise<TailPage> {
  checkLimit(n);
  return withFile(path, null, null, async (file) => {
    const start = await startWithin(file, file.size, n, options);
    const { lines } = await readForward(file, start, file.size, n, 1, options);
    const last = lines[lines.length - 1];
    return { lines, cursor: last ? last.cursor : file.prefix + cursorTail(start, 0) };
  });
}

/**
 * The cursor before the last `n` complete lines (numbered from there 1..n), or fewer when they are more than
 * `maxBytes` (as readTail), reading backwards from the end only.
 */
export async function tailStart(path: string, n: number, options: HistoryOptions = {}): Promise<string> {
  checkLimit(n);
  return withFile(path, null, null, async (file) => {
    const start = await startWithin(file, file.size, n, options);
    return file.prefix + cursorTail(start, 0);
  });
}

interface OpenFile {
  handle: FileHandle;
  size: number;
  /** Cursor prefix of the file's current identity. */
  prefix: string;
}

/**
 * Opens the file and checks the cursor names it (same identity, offset within it, at a line boundary).
 * A missing file with no cursor rethrows the ENOENT error.
 */
async function withFile<T>(
  path: string,
  at: CursorData | null,
  text: string | null,
  body: (file: OpenFile) => Promise<T>,
): Promise<T> {
  let handle: FileHandle;
  try {
    handle = await open(path, "r");
  } catch (error) {
    if (at && isMissing(error)) throw new StaleCursorError(`cursor "${text}": its file is gone`, "file-gone");
    throw error;
  }
  try {
    const size = Number((await handle.stat()).size);
    if (at) {
      const then = await identify(handle, at.fpLen);
      if (then.fileId !== at.fileId) {
        throw new StaleCursorError(
          `cursor "${text}" names another file than the one now at the stream's path`,
          "file-changed",
        );
      }
      if (size < at.offset) {
        throw new StaleCursorError(
          `cursor "${text}" is beyond the end of its file: it was truncated`,
          "truncated",
        );
      }
      if (!(await isLineBoundary(handle, at.offset))) {
        // Truncated or rewritten between the looks: stale, not a bad cursor.
        if (Number((await handle.stat()).size) < at.offset) {
          throw new StaleCursorError(
            `cursor "${text}" is beyond the end of its file: it was truncated`,
            "truncated",
          );
        }
        if ((await identify(handle, at.fpLen)).fileId !== at.fileId) {
          throw new StaleCursorError(
            `cursor "${text}" names another file than the one now at the stream's path`,
            "file-changed",
          );
        }
        throw new CursorError(`cursor "${text}" does not point at a line boundary of its file`);
      }
    }
    const now = await identify(handle);
    return await body({ handle, size, prefix: cursorPrefix(now.fileId, now.fpLen) });
  } finally {
    await handle.close();
  }
}

/**
 * Where the last `n` complete lines before `end` start, moved forward to the first line that starts within
 * `maxBytes` of `end` when they are larger than that (but never past the last line, so a page is not empty).
 */
async function startWithin(file: OpenFile, end: number, n: number, options: HistoryOptions): Promise<number> {
  const start = await lineStartBefore(file.handle, end, n, options.readChunkBytes);
  const budget = options.maxBytes;
  if (budget === undefined || end - start <= budget || n <= 1) return start;
  const within = await lineStartAtOrAfter(file.handle, end - budget, end);
  return within < end ? within : lineStartBefore(file.handle, end, 1, options.readChunkBytes);
}

/** The first line start at or after `pos` (`end` when no line starts in [pos, end)). */
async function lineStartAtOrAfter(handle: FileHandle, pos: number, end: number): Promise<number> {
  if (pos <= 0) return 0;
  const block = Buffer.allocUnsafe(DEFAULT_CHUNK_BYTES);
  // The byte before `pos` tells whether a line starts at `pos` itself.
  let at = pos - 1;
  while (at < end) {
    const { bytesRead } = await handle.read(block, 0, Math.min(block.length, end - at), at);
    if (bytesRead === 0) break;
    const lf = block.subarray(0, bytesRead).indexOf(LF);
    if (lf >= 0) return at + lf + 1;
    at += bytesRead;
  }
  return end;
}

/**
 * Complete lines in [from, to), at most `limit`, numbered from firstSeq; `more` tells whether another complete
 * line follows within [from, to).
 */
async function readForward(
  file: OpenFile,
  from: number,
  to: number,
  limit: number,
  firstSeq: number,
  options: HistoryOptions,
): Promise<{ lines: Line[]; more: boolean }> {
  const lines: Line[] = [];
  let more = false;
  let seq = firstSeq;
  let bytes = 0;
  const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
  const splitter = new LineSplitter({
    maxLineBytes: options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
    startOffset: from,
  });
  // limit 0 only checks a cursor (and whether a line follows): small reads until the first line end.
  const chunk = limit === 0 ? CHECK_CHUNK_BYTES : (options.readChunkBytes ?? DEFAULT_CHUNK_BYTES);
  const size = Math.max(1, Math.min(chunk, to - from));
  const buffer = takeReadBuffer(size);
  const sink = (text: string, start: number, end: number, truncatedFrom: number | undefined): void => {
    if (more) return;
    if (lines.length >= limit || (lines.length > 0 && bytes + (end - start) > maxBytes)) {
      more = true;
      return;
    }
    bytes += end - start;
    const line: Line = { seq, text, start, end, cursor: file.prefix + cursorTail(end, seq) };
    if (truncatedFrom !== undefined) line.truncatedFrom = truncatedFrom;
    lines.push(line);
    seq++;
  };
  let pos = from;
  try {
    while (pos < to && !more) {
      const { bytesRead } = await file.handle.read(buffer, 0, Math.min(size, to - pos), pos);
      if (bytesRead === 0) break;
      splitter.push(buffer.subarray(0, bytesRead), sink);
      pos += bytesRead;
    }
  } finally {
    giveBackReadBuffer(buffer);
  }
  return { lines, more };
}

/**
 * Read buffers of DEFAULT_CHUNK_BYTES, reused (the splitter copies what it keeps, so none outlives its read).
 * Catch-ups read one frame at a time; a fresh 64 KiB buffer per read lives outside V8's heap until a GC frees it,
 * and with 60 clients catching up at once that garbage alone kept RSS ~100 MB above what they really held.
 */
const spareReadBuffers: Buffer[] = [];
const MAX_SPARE_READ_BUFFERS = 8;

function takeReadBuffer(size: number): Buffer {
  if (size > DEFAULT_CHUNK_BYTES) return Buffer.allocUnsafe(size);
  return spareReadBuffers.pop() ?? Buffer.allocUnsafe(DEFAULT_CHUNK_BYTES);
}

function giveBackReadBuffer(buffer: Buffer): void {
  if (buffer.length === DEFAULT_CHUNK_BYTES && spareReadBuffers.length < MAX_SPARE_READ_BUFFERS) {
    spareReadBuffers.push(buffer);
  }
}

function renumber(line: Line, seq: number, prefix: string): void {
  line.seq = seq;
  line.cursor = prefix + cursorTail(line.end, seq);
}

function checkLimit(limit: number): void {
  if (!Number.isSafeInteger(limit) || limit < 0)
    throw new RangeError(`limit must be a non-negative integer, got ${limit}`);
}
