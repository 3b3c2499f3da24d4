import { mkdir, open } from "node:fs/promises";
import { dirname } from "node:path";
import { type EntryLevel, type EntryOptions, formatEntry } from "./entry-format.js";

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

/** A write that put fewer bytes on disk than asked (disk full, file size limit): the file may end mid-line. */
export class ShortWriteError extends Error {
  override readonly name = "ShortWriteError";
  constructor(
    readonly file: string,
    readonly written: number,
    readonly expected: number,
  ) {
    super(`short write to ${file}: ${written} of ${expected} bytes written (disk full or file size limit?)`);
  }
}

/**
 * Appends entries to an audit file, one line each (see entry-format.ts), creating parent directories.
 * Every entry is validated before anything is written: a rejected entry (EntryError) writes nothing.
 * The file is opened per call with O_APPEND, so a rotated or recreated file is picked up by the next call.
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

  await mkdir(dirname(file), { recursive: true });
  const handle = await open(file, "a");
  let bytes = 0;
  try {
    for (const chunk of batches(lines)) {
      const buffer = Buffer.from(chunk);
      const { bytesWritten } = await handle.write(buffer, 0, buffer.length, null);
      bytes += bytesWritten;
      if (bytesWritten !== buffer.length) throw new ShortWriteError(file, bytesWritten, buffer.length);
    }
  } finally {
    await handle.close();
  }
  return { entries: lines.length, bytes };
}

/** Whole lines joined into writes of at most MAX_WRITE_BYTES (a single line is at most MAX_ENTRY_BYTES). */
function* batches(lines: readonly string[]): Generator<string> {
  let chunk = "";
  let size = 0;
  for (const line of lines) {
    const n = Buffer.byteLength(line);
    if (size > 0 && size + n > MAX_WRITE_BYTES) {
      yield chunk;
      chunk = "";
      size = 0;
    }
    chunk += line;
    size += n;
  }
  if (size > 0) yield chunk;
}
