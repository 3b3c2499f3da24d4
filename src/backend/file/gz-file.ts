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
 * before `from` are inflated and dropped, never held). Throws GzCorruptError when the data is damaged (the
 * lines before the damage have been visited). A last line without a newline is not visited (history gives
 * complete lines only, as for plain files).
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
  let stopped = false;
  const sink: LineSink = (text, start, end, truncatedFrom) => {
    if (!stopped && !visit(text, start, end, truncatedFrom)) stopped = true;
  };
  let pos = 0;
  let last = -1;
  let boundary: boolean | null = from === 0 ? true : null;
  const stream = inflated(path);
  try {
    for await (const chunk of stream) {
      const bytes = chunk as Buffer;
      if (bytes.length === 0) continue;
      const next = pos + bytes.length;
      if (next >= from && boundary === null)
        boundary = (from - 1 >= pos ? bytes[from - 1 - pos] : last) === LF;
      if (next > from && boundary) splitter.push(pos >= from ? bytes : bytes.subarray(from - pos), sink);
      last = bytes[bytes.length - 1] as number;
      pos = next;
      if (stopped || boundary === false) return { end: pos, complete: false, boundary };
    }
  } catch (error) {
    throw new GzCorruptError(path, pos, error as Error);
  } finally {
    stream.destroy();
  }
  return { end: pos, complete: true, boundary };
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
