import { stat } from "node:fs/promises";
import { CursorError, cursorTail, StaleCursorError } from "../../core/cursor.js";
import { parseEntry } from "../../core/entry.js";
import type { Line } from "../../core/line.js";
import { type CursorData, cursorPrefix, decodeCursor, encodeCursor } from "./file-cursor.js";
import { identify, isMissing } from "./file-identity.js";
import { GzCorruptError, gzIdentity, scanGz, scanGzChunks } from "./gz-file.js";
import {
  type HistoryOptions,
  type ReadAfterPage,
  type ReadBeforePage,
  readAfter,
  readBefore,
  tailStart,
} from "./history.js";
import { listRotated, type RotatedFile } from "./rotated-set.js";
import { type LineTime, seekTime } from "./time-seek.js";

/**
 * The rotated files of a stream (rotated-set.ts) as history older than the followed path: which one a cursor
 * names, pages in one of them, and a time's place among them. Plain rotated files are read as the current one is
 * (history.ts, by their path; their identity survived the rename); .gz ones through gz-file.ts. A damaged .gz is
 * reported (onProblem) and read up to the damage; the others are unaffected.
 */
const LF = 10;
/** Bytes of a line's head a time is read from (as time-seek.ts). */
const HEAD_BYTES = 64;

export class RotatedHistory {
  /**
   * File ids of rotated files by age (0 = oldest) as last located: order between two files cannot be read off
   * their cursors, and compare() must answer synchronously. Rebuilt on every lookup, so at most one entry per
   * rotated file plus the cursors' own ids.
   */
  private ranks = new Map<string, number>();

  constructor(
    private readonly path: string,
    private readonly options: HistoryOptions,
    private readonly onProblem: (error: Error) => void,
  ) {}

  /** The rotated files, oldest first; a .gz whose start does not inflate is left out (and reported). */
  async files(): Promise<RotatedFile[]> {
    const files = await listRotated(this.path);
    const readable: RotatedFile[] = [];
    for (const file of files) if (!file.gz || (await this.identityOf(file)) !== null) readable.push(file);
    return readable;
  }

  /** Age rank of the rotated file a cursor's file id was last found in; undefined: not a rotated file's. */
  rank(fileId: string): number | undefined {
    return this.ranks.get(fileId);
  }

  /** The rotated file the cursor names (newest first: a cursor is usually recent), null when none does. */
  async locate(at: CursorData): Promise<{ files: RotatedFile[]; index: number } | null> {
    const files = await this.files();
    const ranks = new Map<string, number>();
    let found: number | null = null;
    for (let i = files.length - 1; i >= 0; i--) {
      const file = files[i] as RotatedFile;
      const full = await this.identityOf(file);
      if (full === null) continue;
      ranks.set(full, i);
      if (found === null && (full === at.fileId || (await this.identityOf(file, at.fpLen)) === at.fileId)) {
        ranks.set(at.fileId, i);
        found = i;
      }
    }
    this.ranks = ranks;
    return found === null ? null : { files, index: found };
  }

  /** Lines after `at` (null: from the start, numbered after `seq`) in one rotated file. */
  async readAfterIn(
    file: RotatedFile,
    at: CursorData | null,
    seq: number,
    limit: number,
    options: HistoryOptions,
  ): Promise<ReadAfterPage> {
    if (!file.gz) {
      return readAfter(
        file.path,
        at === null ? await this.startCursor(file, seq) : encodeCursor(at),
        limit,
        options,
      );
    }
    const prefix = await this.prefixOf(file, at);
    const from = at?.offset ?? 0;
    const lines: Line[] = [];
    let bytes = 0;
    let more = false;
    const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    const scan = await this.scan(file, from, (text, start, end, truncatedFrom) => {
      if (lines.length >= limit || (lines.length > 0 && bytes + end - start > maxBytes)) {
        more = true;
        return false;
      }
      bytes += end - start;
      lines.push(lineOf(text, start, end, truncatedFrom, seq + lines.length + 1, prefix));
      return true;
    });
    if (at !== null) checkBoundary(scan.boundary, at);
    const last = lines[lines.length - 1];
    return { lines, cursor: last ? last.cursor : prefix + cursorTail(from, seq), more };
  }

  /** Lines before `at` (null: before the end of the file, the last numbered `seq`) in one rotated file. */
  async readBeforeIn(
    file: RotatedFile,
    at: CursorData | null,
    seq: number,
    limit: number,
    options: HistoryOptions,
  ): Promise<ReadBeforePage> {
    if (!file.gz) {
      const cursor = at === null ? withSeq(await tailStart(file.path, 0), seq) : encodeCursor(at);
      return readBefore(file.path, cursor, limit, options);
    }
    const prefix = await this.prefixOf(file, at);
    const to = at?.offset ?? Number.POSITIVE_INFINITY;
    const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    // The last `limit` lines before `to`, as a window sliding forward: gzip offers no way to read backwards.
    let kept: { text: string; start: number; end: number; truncatedFrom: number | undefined }[] = [];
    let head = 0;
    let bytes = 0;
    let boundary = to === 0;
    if (limit > 0 && to > 0) {
      await this.scan(file, 0, (text, start, end, truncatedFrom) => {
        if (start >= to) {
          boundary = start === to;
          return false;
        }
        if (end > to) return false;
        kept.push({ text, start, end, truncatedFrom });
        bytes += end - start;
        while (kept.length - head > limit || (kept.length - head > 1 && bytes > maxBytes)) {
          const dropped = kept[head++] as { start: number; end: number };
          bytes -= dropped.end - dropped.start;
        }
        if (head > 1024 && head * 2 > kept.length) {
          kept = kept.slice(head);
          head = 0;
        }
        if (end === to) boundary = true;
        return true;
      });
      if (at !== null && !boundary) {
        throw new CursorError(
          `cursor "${encodeCursor(at)}" does not point at a line boundary of ${file.path}`,
        );
      }
    }
    const window = kept.slice(head);
    const firstSeq = seq - window.length + 1;
    const lines = window.map((l, i) => lineOf(l.text, l.start, l.end, l.truncatedFrom, firstSeq + i, prefix));
    const first = lines[0];
    return {
      lines,
      cursor: first
        ? prefix + cursorTail(first.start, first.seq - 1)
        : at === null
          ? prefix + cursorTail(0, seq)
          : encodeCursor(at),
      more: first !== undefined && first.start > 0,
    };
  }

  /**
   * Where the first line at or after `atMs` starts in one rotated file: 0 when all of it is (or its first
   * timestamped line is), "after" when every line is older.
   */
  async seekIn(file: RotatedFile, atMs: number, timeOf?: LineTime): Promise<number | "after"> {
    if (!file.gz) {
      const size = Number((await stat(file.path)).size);
      const offset = await seekTime(file.path, atMs, size, timeOf);
      return offset >= size ? "after" : offset;
    }
    let found: number | "after" = "after";
    let stamped = false;
    // Only a line's first bytes can hold its time: they are looked at raw, the rest is never decoded.
    let carry: Buffer | null = null;
    let carryAt = 0;
    const visit = (start: number, head: Buffer): boolean => {
      const tsMs = head[0] === 0x5b ? parseEntry(head.toString("latin1")).tsMs : undefined;
      if (tsMs === undefined) return true;
      if (tsMs >= atMs) {
        // Untimestamped lines before the first timestamped one belong to no earlier entry.
        found = stamped ? start : 0;
        return false;
      }
      stamped = true;
      return true;
    };
    try {
      await scanGzChunks(file.path, (chunk, at) => {
        let lineStart = 0;
        if (carry !== null) {
          // A line begun in an earlier chunk: its head is in `carry` (at most HEAD_BYTES are kept).
          const lf = chunk.indexOf(LF);
          const joined = Buffer.concat([
            carry,
            chunk.subarray(0, lf < 0 ? HEAD_BYTES : Math.min(lf, HEAD_BYTES)),
          ]).subarray(0, HEAD_BYTES);
          if (lf < 0) {
            carry = joined;
            return true;
          }
          if (!visit(carryAt, joined)) return -1;
          carry = null;
          lineStart = lf + 1;
        }
        for (;;) {
          const lf = chunk.indexOf(LF, lineStart);
          if (lf < 0) break;
          if (!visit(at + lineStart, chunk.subarray(lineStart, Math.min(lf, lineStart + HEAD_BYTES)))) {
            return at + lineStart;
          }
          lineStart = lf + 1;
        }
        if (lineStart < chunk.length) {
          carry = Buffer.from(chunk.subarray(lineStart, Math.min(chunk.length, lineStart + HEAD_BYTES)));
          carryAt = at + lineStart;
        }
        return true;
      });
    } catch (error) {
      if (!(error instanceof GzCorruptError)) throw error;
      this.onProblem(error);
    }
    return found;
  }

  /** A cursor at the very start of a rotated file, after line `seq`. */
  async startCursor(file: RotatedFile, seq: number): Promise<string> {
    const identity = file.gz ? await gzIdentity(file.path) : await identify(file.path);
    return encodeCursor({ fileId: identity.fileId, fpLen: identity.fpLen, offset: 0, seq });
  }

  /** The file id of a rotated file over `fpLen` head bytes (default all it has, up to 256); null when unreadable. */
  private async identityOf(file: RotatedFile, fpLen?: number): Promise<string | null> {
    try {
      return (file.gz ? await gzIdentity(file.path, fpLen) : await identify(file.path, fpLen)).fileId;
    } catch (error) {
      if (error instanceof GzCorruptError) this.onProblem(error);
      else if (!isMissing(error)) this.onProblem(error as Error);
      return null;
    }
  }

  /** The cursor prefix of a .gz, after checking `at` names it. */
  private async prefixOf(file: RotatedFile, at: CursorData | null): Promise<string> {
    const now = await gzIdentity(file.path);
    if (at !== null && (await gzIdentity(file.path, at.fpLen)).fileId !== at.fileId) {
      throw new StaleCursorError(
        `cursor "${encodeCursor(at)}" names another file than ${file.path}`,
        "file-changed",
      );
    }
    return cursorPrefix(now.fileId, now.fpLen);
  }

  /** scanGz, with damage reported and the lines before it kept: the rest of the history still reads. */
  private async scan(file: RotatedFile, from: number, visit: Parameters<typeof scanGz>[2]) {
    try {
      return await scanGz(file.path, from, visit, this.options.maxLineBytes);
    } catch (error) {
      if (!(error instanceof GzCorruptError)) throw error;
      this.onProblem(error);
      return { end: error.at, complete: true, boundary: from <= error.at ? true : null };
    }
  }
}

function lineOf(
  text: string,
  start: number,
  end: number,
  truncatedFrom: number | undefined,
  seq: number,
  prefix: string,
): Line {
  const line: Line = { seq, text, start, end, cursor: prefix + cursorTail(end, seq) };
  if (truncatedFrom !== undefined) line.truncatedFrom = truncatedFrom;
  return line;
}

function checkBoundary(boundary: boolean | null, at: CursorData): void {
  if (boundary === null) {
    throw new StaleCursorError(`cursor "${encodeCursor(at)}" is beyond the end of its file`, "file-changed");
  }
  if (!boundary)
    throw new CursorError(`cursor "${encodeCursor(at)}" does not point at a line boundary of its file`);
}

function withSeq(cursor: string, seq: number): string {
  return encodeCursor({ ...decodeCursor(cursor), seq });
}
