import { type FileHandle, mkdir, open, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { type EntryLevel, type EntryOptions, formatEntry, MAX_ENTRY_BYTES } from "./entry-format.js";

/** One entry with its own level, category or time (for imports and the demo's back-dated history). */
export interface EntryInput {
  message: string;
  level?: EntryLevel | undefined;
  category?: string | undefined;
  time?: Date | undefined;
}

export interface AppendOptions {
  /** Level for entries that do not name their own. */
  level?: EntryLevel | undefined;
  /** Category for entries that do not name their own. */
  category?: string | undefined;
  /** Time for entries that do not name their own; default: now, read once per call. */
  now?: Date | undefined;
}

export interface AppendResult {
  entries: number;
  bytes: number;
}

/**
 * Several whole entries may share one write up to this size. On a local file system one write(2) to an
 * O_APPEND descriptor lands as one unit, so concurrent writers never interleave inside a line.
 */
const MAX_WRITE_BYTES = 1024 * 1024;

const NEWLINE = 0x0a;

/**
 * What a failed write left in the file:
 * - `unchanged`: the write failed before writing anything;
 * - `removed`: it stopped short, and the bytes it did write were cut off again (ftruncate): the file is as it was;
 * - `terminated`: it stopped short, cutting was not safe (other writers had appended meanwhile) or refused (an
 *   append-only file), and the cut entry was ended with a newline: whole lines, one of them a cut entry;
 * - `cut`: it stopped short and neither could be done: the file may hold a cut entry, at its end without a
 *   newline or joined to the line another writer appended after it.
 */
export type AppendOutcome = "unchanged" | "removed" | "terminated" | "cut";

/**
 * A batch of entries that could not be written. Entries of earlier batches of the same call (each batch is up to
 * 1 MiB of whole lines) were written whole: `entriesWritten` of them. `reason` says what happened without naming
 * the file (for HTTP answers); `message` starts with the file.
 */
export class AppendError extends Error {
  override name = "AppendError";
  readonly reason: string;
  constructor(
    readonly file: string,
    /** errno of the failed write(2) (ENOSPC, EDQUOT, EIO, EROFS, ...); null when it stopped short without one. */
    readonly errno: string | null,
    /** Bytes of the failed batch the write put in the file (before any clean-up), and the batch's size. */
    readonly written: number,
    readonly expected: number,
    readonly entriesWritten: number,
    readonly outcome: AppendOutcome,
  ) {
    const cause =
      errno === null
        ? `disk full or file size limit: only ${written} of ${expected} bytes could be written`
        : `${ERRNO_TEXT[errno] ?? "write failed"} (${errno})`;
    const reason = `${cause}; ${OUTCOME_TEXT[outcome]}${entriesWritten > 0 ? ` (${entriesWritten} entries of this call were written before)` : ""}`;
    super(`${file}: ${reason}`);
    this.reason = reason;
  }

  /** The disk or the user's quota is full (a write that stops short on a regular file is that, or a size limit). */
  get diskFull(): boolean {
    return this.errno === null || this.errno === "ENOSPC" || this.errno === "EDQUOT";
  }
}

/** A write that put fewer bytes in the file than asked (disk full, file size limit); see `outcome`. */
export class ShortWriteError extends AppendError {
  override name = "ShortWriteError";
}

const ERRNO_TEXT: Record<string, string> = {
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  EFBIG: "file too large",
  EIO: "input/output error",
  EROFS: "read-only file system",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EBADF: "not open for writing",
  EINVAL: "the file does not accept writes",
};

const OUTCOME_TEXT: Record<AppendOutcome, string> = {
  unchanged: "nothing was written",
  removed: "the cut entry was removed again, the file is as it was",
  terminated:
    "the cut entry could not be removed (another writer appended meanwhile, or the file refuses truncation), " +
    "so it was ended with a newline",
  cut: "the cut entry could not be removed: the file may hold it, unterminated or joined to the next line",
};

/**
 * Appends entries to an audit file, one line each (see entry-format.ts), creating parent directories.
 * Every entry is validated before anything is written: a rejected entry (EntryError) writes nothing.
 * The file is opened per call with O_APPEND, so a rotated or recreated file is picked up by the next call.
 * An entry always starts on its own line: if the file ends with an unterminated line (a foreign writer's), the
 * batch starts with a newline. A write that fails or stops short throws AppendError (see AppendOutcome).
 */
export async function appendEntries(
  file: string,
  entries: ReadonlyArray<string | EntryInput>,
  options: AppendOptions = {},
): Promise<AppendResult> {
  const now = options.now ?? new Date();
  const lines = entries.map((entry) => {
    const input: EntryInput = typeof entry === "string" ? { message: entry } : entry;
    const entryOptions: EntryOptions = {
      level: input.level ?? options.level,
      category: input.category ?? options.category,
      time: input.time ?? now,
    };
    return formatEntry(input.message, entryOptions);
  });
  if (lines.length === 0) return { entries: 0, bytes: 0 };

  try {
    await mkdir(dirname(file), { recursive: true });
  } catch (error) {
    // A parent that is a file: mkdir says EEXIST (about the parent); open says ENOTDIR about the file.
    if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
  }
  const target = await openForAppend(file);
  let bytes = 0;
  let entriesWritten = 0;
  try {
    for (const batch of batches(lines)) {
      bytes += await appendBatch(target, file, batch.text, entriesWritten);
      entriesWritten += batch.entries;
    }
  } finally {
    await target.handle.close();
  }
  return { entries: lines.length, bytes };
}

interface Target {
  handle: FileHandle;
  /** Opened for reading too: the last byte can be looked at. */
  readable: boolean;
}

/**
 * O_APPEND, and read access as well for a regular file (O_RDWR: "a+"), for the one-byte look at its end.
 * Other files (a FIFO, /dev/stdout) are opened write-only as before: O_RDWR would change how a FIFO opens. A
 * file that may be appended to but not read (mode 0200) is still written, without the look.
 */
async function openForAppend(file: string): Promise<Target> {
  let regular = true; // a missing file is created as a regular file
  try {
    regular = (await stat(file)).isFile();
  } catch {
    // Missing, or not reachable: open says which.
  }
  if (regular) {
    try {
      return { handle: await open(file, "a+"), readable: true };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EACCES") throw error;
    }
  }
  return { handle: await open(file, "a"), readable: false };
}

/**
 * One write(2) of whole lines, preceded by "\n" when the file ends mid-line. Returns the bytes written. A write
 * that fails or stops short throws AppendError, after undoing what it can (undoCutWrite).
 */
async function appendBatch(
  target: Target,
  file: string,
  text: string,
  entriesBefore: number,
): Promise<number> {
  const { handle } = target;
  const info = await handle.stat();
  const regular = info.isFile();
  let start = info.size;
  let midLine = false;
  if (regular && target.readable) ({ size: start, midLine } = await endOfFile(handle, info.size));
  const buffer = Buffer.from(midLine ? `\n${text}` : text);
  let written: number;
  try {
    ({ bytesWritten: written } = await handle.write(buffer, 0, buffer.length, null));
  } catch (error) {
    const errno = (error as NodeJS.ErrnoException).code;
    if (typeof errno !== "string") throw error;
    // write(2) reports an error only when it wrote nothing.
    throw new AppendError(file, errno, 0, buffer.length, entriesBefore, "unchanged");
  }
  if (written === buffer.length) return written;
  const outcome = regular ? await undoCutWrite(target, start, written) : "cut";
  throw new ShortWriteError(file, null, written, buffer.length, entriesBefore, outcome);
}

/** How long an unterminated end must stay put before it is taken for a partial line (see endOfFile). */
const SETTLE_MS = 25;
/** The same for an end that looks like an entry being written (its line starts like `[2025-12-17T17:40:37Z] `). */
const ENTRY_SETTLE_MS = 1000;
/** How long to wait at most for the end of a file that keeps changing. */
const MAX_SETTLE_WAIT_MS = 2000;
/** The start of every entry line; `d` stands for a digit. */
const ENTRY_START = Buffer.from("[dddd-dd-ddTdd:dd:ddZ] ");

/**
 * Where the file ends, and whether it ends mid-line: its last byte, read with pread on the descriptor the batch
 * is written to, is not a newline.
 *
 * Such a last byte is either a line somebody left unterminated, or another writer's write caught while the
 * kernel copies it in: one write(2) grows the file page by page, and neither fstat nor pread waits for it to
 * finish. Every livetrail write is whole lines, so to tell the two apart, "mid-line" is believed only once the
 * same unterminated end has stayed put for a while: a write in progress usually finishes within microseconds and
 * moves the end, but one can also be paused in the middle (descheduled, or throttled by the kernel's dirty-page
 * accounting for up to 200 ms). So an unterminated line that starts like an entry must stay put for
 * ENTRY_SETTLE_MS, anything else (a foreign line) for SETTLE_MS. A file whose end keeps moving for
 * MAX_SETTLE_WAIT_MS is being written to as we look: no newline is added then (whatever we decide could be wrong
 * by the time our write lands).
 *
 * The race that remains: the look and the write are two system calls, and O_APPEND puts our bytes wherever the
 * end is when the write runs. A foreign writer that writes a partial line between the two gets our batch glued
 * after it (as without the look); one that ends its line between them leaves a blank line before our batch. Among
 * livetrail writers alone the worst is a blank line, never a split or glued entry: two that find the same foreign
 * partial line at the same moment both add a newline, and so does one that takes a livetrail write paused inside
 * its write(2) for more than ENTRY_SETTLE_MS for a cut line. Closing
 * them would need every writer of the file to take one lock (flock) around look and write, which foreign writers
 * do not and Node cannot; and a program that writes one line in several write(2) calls can have any writer's
 * line land inside it whatever we do. What the look repairs is the case that happens: a file left without its
 * final newline (a crash, `printf` without "\n", an editor, a cut entry that could not be removed).
 */
async function endOfFile(handle: FileHandle, size: number): Promise<{ size: number; midLine: boolean }> {
  const byte = Buffer.alloc(1);
  const began = Date.now();
  let end = size;
  let stableSince = began;
  let settleMs: number | null = null;
  for (;;) {
    if (end === 0) return { size: 0, midLine: false };
    const { bytesRead } = await handle.read(byte, 0, 1, end - 1);
    if (bytesRead === 1 && byte[0] === NEWLINE) return { size: end, midLine: false };
    if (bytesRead === 1) {
      settleMs ??= (await endsWithEntryStart(handle, end)) ? ENTRY_SETTLE_MS : SETTLE_MS;
      if (Date.now() - stableSince >= settleMs) return { size: end, midLine: true };
    }
    if (Date.now() - began >= MAX_SETTLE_WAIT_MS) return { size: end, midLine: false };
    await delay(5);
    const current = (await handle.stat()).size;
    if (current !== end) {
      end = current;
      stableSince = Date.now();
      settleMs = null;
    }
  }
}

/** Whether the unterminated last line of the file (ending at `end`) starts as an entry line does, or could. */
async function endsWithEntryStart(handle: FileHandle, end: number): Promise<boolean> {
  const from = Math.max(0, end - MAX_ENTRY_BYTES);
  const buffer = Buffer.alloc(end - from);
  const { bytesRead } = await handle.read(buffer, 0, buffer.length, from);
  const text = buffer.subarray(0, bytesRead);
  const newline = text.lastIndexOf(NEWLINE);
  // No line start within an entry's length: a line longer than any entry, not one being written.
  if (newline === -1 && from > 0) return false;
  const line = text.subarray(newline + 1);
  for (let i = 0; i < Math.min(line.length, ENTRY_START.length); i++) {
    const c = line[i] as number;
    const want = ENTRY_START[i] as number;
    if (want === 0x64 ? c < 0x30 || c > 0x39 : c !== want) return false;
  }
  return true;
}

/**
 * After a write that put only `written` of its bytes in the file (ENOSPC or a size limit after some bytes; it
 * started at `start`, where the file ended when we looked): take them out again with ftruncate, so the file is as
 * it was, when that is safe: the size is exactly start + written, so nobody appended after us (their bytes would
 * follow ours) or before us. Another writer could still append between that fstat and the ftruncate and lose its
 * line; on a full disk its write fails too, so the window only matters for a per-process size limit.
 * Otherwise (others' lines follow or precede ours, or ftruncate is refused, e.g. on an append-only file) the
 * cut entry stays, and the file gets a final newline if it lacks one, so the next entry starts on its own line.
 */
async function undoCutWrite(target: Target, start: number, written: number): Promise<AppendOutcome> {
  const { handle } = target;
  try {
    if ((await handle.stat()).size === start + written) {
      await handle.truncate(start);
      return "removed";
    }
  } catch {
    // Fall through: end the cut line instead.
  }
  try {
    if (target.readable) {
      const { size } = await handle.stat();
      const byte = Buffer.alloc(1);
      // The file ends with a newline although our bytes do not: another writer's line follows them.
      if (size > 0 && (await handle.read(byte, 0, 1, size - 1)).bytesRead === 1 && byte[0] === NEWLINE) {
        return "cut";
      }
    }
    const { bytesWritten } = await handle.write(Buffer.from("\n"), 0, 1, null);
    return bytesWritten === 1 ? "terminated" : "cut";
  } catch {
    return "cut";
  }
}

/** Whole lines joined into writes of at most MAX_WRITE_BYTES (a single line is at most MAX_ENTRY_BYTES). */
function* batches(lines: readonly string[]): Generator<{ text: string; entries: number }> {
  let chunk = "";
  let size = 0;
  let entries = 0;
  for (const line of lines) {
    const n = Buffer.byteLength(line);
    if (size > 0 && size + n > MAX_WRITE_BYTES) {
      yield { text: chunk, entries };
      chunk = "";
      size = 0;
      entries = 0;
    }
    chunk += line;
    size += n;
    entries++;
  }
  if (size > 0) yield { text: chunk, entries };
}
