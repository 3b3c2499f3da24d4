import { createReadStream } from "node:fs";
import { stat } from "node:fs/promises";
import { pipeline } from "node:stream";
import { createGunzip } from "node:zlib";
import { DEFAULT_MAX_LINE_BYTES, type LineSink, LineSplitter } from "../../core/line-splitter.js";
import { MAX_FP_LEN } from "./file-cursor.js";
import { computeFileId, type FileIdentity } from "./file-identity.js";

/**
 * A gzip-compressed rotated file, read as the lines of its uncompressed bytes. gzip has no random access, so
 * every read decompresses forward from the start in a stream (64 KiB compressed, 16 KiB inflated at a time): memory
 * stays bounded by the caller's lines whatever the file's size, and a position costs the bytes before it.
 *
 * Its identity is the .gz file's own device and inode with a fingerprint of its first ≤ 256 *uncompressed* bytes,
 * so cursors into it keep the file cursor layout (offsets are uncompressed offsets) and stay valid while the .gz
 * exists under any name. The plain file it was compressed from had another inode: cursors into that one do not
 * name the .gz.
 */

/** The file's bytes could not be decompressed past `at` (uncompressed offset): damaged or cut short. */
export class GzCorruptError extends Error {
  override name = "GzCorruptError";
  constructor(
    readonly path: string,
    readonly at: number,
    cause: Error,
  ) {
    super(`${path}: gzip data is damaged after ${at} uncompressed bytes (${cause.message})`);
  }
}

/** What a visitor says after each line: go on, or stop reading (the rest is not decompressed). */
export type Visit = (text: string, start: number, end: number, truncatedFrom: number | undefined) => boolean;

export interface GzScan {
  /** Uncompressed bytes decompressed (the whole file's size when `complete`). */
  end: number;
  /** Read to the end of the file (not stopped by the visitor). */
  complete: boolean;
  /** Whether `from` is a line start (0, or just after a newline); null when the file is shorter than `from`. */
  boundary: boolean | null;
}

const LF = 10;

/**
 * Visits the complete lines that start at or after `from`, in order, decompressing from the start (the bytes
 * before `from` are inflated and dropped, never held) or from where an earlier scan of the same file stopped at
 * `from` (see Parked). Throws GzCorruptError when the data is damaged (the lines before the damage have been
 * visited). A last line without a newline is not visited (history gives complete lines only, as for plain files).
 */
export async function scanGz(
  path: string,
  from: number,
  visit: Visit,
  maxLineBytes?: number,
): Promise<GzScan> {
  const splitter = new LineSplitter({
    maxLineBytes: maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
    startOffset: from,
  });
  let stopAt = -1;
  const sink: LineSink = (text, start, end, truncatedFrom) => {
    if (stopAt < 0 && !visit(text, start, end, truncatedFrom)) stopAt = start;
  };
  const read = await Reading.open(path, from);
  let last = -1;
  let boundary: boolean | null = from === 0 || read.at === from ? true : null;
  try {
    for (;;) {
      const pos = read.at;
      const bytes = await read.next();
      if (bytes === null) break;
      const next = pos + bytes.length;
      if (next >= from && boundary === null)
        boundary = (from - 1 >= pos ? bytes[from - 1 - pos] : last) === LF;
      if (next > from && boundary) splitter.push(pos >= from ? bytes : bytes.subarray(from - pos), sink);
      last = bytes[bytes.length - 1] as number;
      if (stopAt >= 0) {
        read.parkAt(stopAt, bytes, pos);
        return { end: next, complete: false, boundary };
      }
      if (boundary === false) return { end: next, complete: false, boundary };
    }
  } finally {
    read.close();
  }
  return { end: read.at, complete: true, boundary };
}

/**
 * Visits the uncompressed bytes in chunks as they inflate (`at`: the offset of the chunk's first byte) until the
 * visitor returns where it stopped (a line start, or -1 when unknown): for scans that look at a few bytes of each
 * line and need not decode the rest.
 */
export async function scanGzChunks(
  path: string,
  visit: (chunk: Buffer, at: number) => number | true,
): Promise<void> {
  const read = await Reading.open(path, 0);
  try {
    for (;;) {
      const pos = read.at;
      const bytes = await read.next();
      if (bytes === null) return;
      const stop = visit(bytes, pos);
      if (stop !== true) {
        read.parkAt(stop, bytes, pos);
        return;
      }
    }
  } finally {
    read.close();
  }
}

/**
 * An inflating read of one .gz stopped at a line start, kept for a moment: paging forward (and catch-up, and the
 * page after a time seek) asks for the lines right after where the last read stopped, and without this each page
 * would inflate the file again from its start (quadratic in the file's size). A few are kept, each for a short
 * while (an open descriptor and zlib's ~300 KB of state); they are keyed by the file's identity and size.
 */
interface Parked {
  key: string;
  at: number;
  read: Reading;
  timer: NodeJS.Timeout;
}

const parked: Parked[] = [];
const MAX_PARKED = 4;
const PARK_MS = 30_000;

class Reading {
  private pending: Buffer | null = null;
  private keep = false;

  private constructor(
    private readonly path: string,
    private readonly key: string,
    private readonly iterator: AsyncIterator<Buffer>,
    private readonly stream: { destroy(): void },
    /** Offset of the next byte `next` yields. */
    public at: number,
  ) {}

  /** A read positioned at `from` when one was parked there, else at the start of the file. */
  static async open(path: string, from: number): Promise<Reading> {
    const s = await stat(path, { bigint: true });
    const key = `${path}\0${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}`;
    const i = parked.findIndex((p) => p.key === key && p.at === from);
    if (i >= 0) {
      const [found] = parked.splice(i, 1) as [Parked];
      clearTimeout(found.timer);
      found.read.keep = false;
      return found.read;
    }
    const stream = inflated(path);
    return new Reading(path, key, stream[Symbol.asyncIterator]() as AsyncIterator<Buffer>, stream, 0);
  }

  /** The next inflated bytes, null at the end; GzCorruptError when the data is damaged. */
  async next(): Promise<Buffer | null> {
    const pending = this.pending;
    if (pending !== null) {
      this.pending = null;
      this.at += pending.length;
      return pending;
    }
    for (;;) {
      let step: IteratorResult<Buffer>;
      try {
        step = await this.iterator.next();
      } catch (error) {
        throw new GzCorruptError(this.path, this.at, error as Error);
      }
      if (step.done) return null;
      if (step.value.length === 0) continue;
      this.at += step.value.length;
      return step.value;
    }
  }

  /** Keeps this read for a later one from `stop`, when that lies in `bytes` (the chunk last returned, at `pos`). */
  parkAt(stop: number, bytes: Buffer, pos: number): void {
    if (stop < pos || stop >= pos + bytes.length) return;
    this.pending = bytes.subarray(stop - pos);
    this.at = stop;
    this.keep = true;
    if (parked.length >= MAX_PARKED) (parked.shift() as Parked).read.destroy();
    const entry: Parked = {
      key: this.key,
      at: stop,
      read: this,
      timer: setTimeout(() => this.expire(entry), PARK_MS),
    };
    entry.timer.unref();
    parked.push(entry);
  }

  /** Ends the read unless it was parked. */
  close(): void {
    if (!this.keep) this.destroy();
  }

  private expire(entry: Parked): void {
    const i = parked.indexOf(entry);
    if (i >= 0) parked.splice(i, 1);
    this.destroy();
  }

  private destroy(): void {
    this.stream.destroy();
  }
}

function inflated(path: string): NodeJS.ReadableStream & { destroy(): void } {
  // pipeline forwards a read error of the file into the inflater, so one iterator sees every failure.
  return pipeline(createReadStream(path, { highWaterMark: 64 * 1024 }), createGunzip(), () => undefined);
}

interface Head {
  key: string;
  head: Buffer;
  dev: bigint;
  ino: bigint;
}

/** Heads of recently seen .gz files by dev, inode, size and mtime: a rotated .gz does not change. */
const heads = new Map<string, Head | GzCorruptError>();
const MAX_HEADS = 64;

/** The identity of the .gz at `path` over `fpLen` uncompressed head bytes (default min(size, 256)). */
export async function gzIdentity(path: string, fpLen?: number): Promise<FileIdentity> {
  const { head, dev, ino } = await gzHead(path);
  const length = Math.min(fpLen ?? MAX_FP_LEN, head.length);
  return { dev, ino, fpLen: length, fileId: computeFileId(dev, ino, head.subarray(0, length)) };
}

async function gzHead(path: string): Promise<Head> {
  const s = await stat(path, { bigint: true });
  const key = `${s.dev}:${s.ino}:${s.size}:${s.mtimeNs}`;
  const known = heads.get(key);
  if (known instanceof GzCorruptError) throw known;
  if (known !== undefined) return known;
  const parts: Buffer[] = [];
  let got = 0;
  const stream = inflated(path);
  try {
    for await (const chunk of stream) {
      parts.push(chunk as Buffer);
      got += (chunk as Buffer).length;
      if (got >= MAX_FP_LEN) break;
    }
  } catch (error) {
    // Remembered like a head: the same bytes fail the same way, and the file is listed on every read.
    const damaged = new GzCorruptError(path, got, error as Error);
    remember(key, damaged);
    throw damaged;
  } finally {
    stream.destroy();
  }
  const head = Buffer.concat(parts).subarray(0, MAX_FP_LEN);
  const entry = { key, head: Buffer.from(head), dev: s.dev, ino: s.ino };
  remember(key, entry);
  return entry;
}

function remember(key: string, entry: Head | GzCorruptError): void {
  if (heads.size >= MAX_HEADS) heads.delete(heads.keys().next().value as string);
  heads.set(key, entry);
}
