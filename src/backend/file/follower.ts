import { type FileHandle, open } from "node:fs/promises";
import { CursorError, cursorTail } from "../../core/cursor.js";
import { FollowedLine, type Line } from "../../core/line.js";
import { DEFAULT_MAX_LINE_BYTES, type LineSink, LineSplitter } from "../../core/line-splitter.js";
import { ChangeSource } from "./change-source.js";
import { type CursorData, cursorPrefix, decodeCursor, MAX_FP_LEN } from "./file-cursor.js";
import {
  computeFileId,
  type FileIdentity,
  fingerprint,
  identify,
  isMissing,
  readHead,
} from "./file-identity.js";
import { isLocalFileSystem, look } from "./file-look.js";
import type { FollowerEvent, FollowerListener, GapReason } from "./follower-events.js";
import { isLineBoundary, lineStartBefore } from "./reverse-scan.js";

/**
 * Follows one path and emits batches of complete lines with exact positions, across appends, partial writes,
 * rename rotation, copytruncate, delete and recreate.
 *
 * Each look (a wake-up from the change source) compares the path's inode with the open file's, and the file's
 * size and head bytes with what was read:
 * - same file, grown: read to the end in bounded chunks; a partial last line is held back;
 * - shrunk below the read offset, or other head bytes (copytruncate): `truncated`, restart at 0;
 * - renamed away, nothing at the path: drain, `missing`, and keep reading the old file (a writer may still hold
 *   it) until a new file appears;
 * - renamed away and a new, still empty file at the path: keep reading the old file, since the writer has not
 *   moved to the new one yet;
 * - deleted (no links left): drain, `missing`, close it;
 * - a new file with bytes at the path: drain the old one, then `rotated` and follow the new one from offset 0.
 * A file that ends for good with a partial line (rotated away, deleted, truncated) has that line delivered
 * once, marked `unterminated`, so no byte is lost. A file that appears after `missing` is read from its start.
 */
export type StartAt = { from: "end" } | { from: "start" } | { tail: number } | { cursor: string };

export interface FollowerOptions {
  start: StartAt;
  /** Fallback stat poll in ms, default 1000; fs.watch is used too unless watch is false. */
  pollIntervalMs?: number;
  /** Default true; false = polling only. */
  watch?: boolean;
  /** Default 65536; longer lines are emitted truncated with truncatedFrom. */
  maxLineBytes?: number;
  /** Default 1 MiB: the most read (and held) at once. */
  readChunkBytes?: number;
  /** Default 5000: a burst is emitted as several batches of at most this many lines. */
  maxBatchLines?: number;
  /**
   * Asked before each further chunk of a burst is read: null to read on, or a promise to wait for first (the
   * server waits while every client is backed up). The first read after a change never waits. The promise must
   * settle: closing the follower waits for it.
   */
  pace?: () => Promise<void> | null;
}

export interface FollowerStats {
  /** Size of the followed file when last looked at. */
  size: number;
  /** Position after the last complete line emitted (the cursor's offset). */
  offset: number;
  /** Lines emitted since start. */
  lines: number;
  /** Wall-clock ms of the last read that returned bytes, or null. */
  lastChangeMs: number | null;
  /** Bytes of the current file consumed, including a partial line held back: offset <= readOffset <= size. */
  readOffset: number;
}

const DEFAULT_READ_CHUNK_BYTES = 1024 * 1024;
const DEFAULT_MAX_BATCH_LINES = 5000;

export class Follower {
  private readonly listeners = new Set<FollowerListener>();
  private readonly source: ChangeSource;
  private readonly splitter: LineSplitter;
  private readonly readChunkBytes: number;
  private readonly maxBatchLines: number;
  private buffer: Buffer | null = null;
  private handle: FileHandle | null = null;
  /** Identity of the current file (or of the last one, after it went away: cursors still name it). */
  private identity: FileIdentity | null = null;
  private prefix = "";
  /** The head bytes the identity's fingerprint covers. */
  private head: Buffer = Buffer.alloc(0);
  /** Sequence number of the last line emitted. */
  private seq = 0;
  private batch: Line[] = [];
  /** A resume cursor whose file was missing at start: resolved against the first file that appears. */
  private pendingResume: { data: CursorData; text: string } | null = null;
  /** The start position could not be resolved because opening failed (not ENOENT): retried by each pass. */
  private pendingStart = false;
  private missingReported = false;
  /** The current file is on a local file system: looks at it may be synchronous. */
  private localFileSystem = false;
  private lastError: string | null = null;
  private size = 0;
  private lines = 0;
  private lastChangeMs: number | null = null;
  private closed = false;
  private startPromise: Promise<void> | null = null;
  private closePromise: Promise<void> | null = null;

  constructor(
    readonly path: string,
    private readonly options: FollowerOptions,
  ) {
    this.readChunkBytes = positiveInteger(
      options.readChunkBytes ?? DEFAULT_READ_CHUNK_BYTES,
      "readChunkBytes",
    );
    this.maxBatchLines = positiveInteger(options.maxBatchLines ?? DEFAULT_MAX_BATCH_LINES, "maxBatchLines");
    this.splitter = new LineSplitter({ maxLineBytes: options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES });
    const sourceOptions = {
      watch: options.watch ?? true,
      pollIntervalMs: options.pollIntervalMs ?? 1000,
      onError: (error: unknown) => this.reportError(error),
    };
    this.source = new ChangeSource(path, () => this.pass(), sourceOptions);
  }

  /** Adds a listener; returns its remover. */
  on(listener: FollowerListener): () => void {
    this.listeners.add(listener);
    return () => {
      this.listeners.delete(listener);
    };
  }

  /**
   * Resolves the start position, starts watching, and reads what is already there from that position: when the
   * promise resolves, those lines (e.g. the initial tail) have been emitted. Rejects with CursorError for a
   * malformed cursor (or one that does not point at a line boundary of its file), RangeError for a bad tail count.
   */
  start(): Promise<void> {
    this.startPromise ??= this.doStart();
    return this.startPromise;
  }

  /** Stops watching and polling and closes the file. Idempotent; no event is emitted after it is called. */
  close(): Promise<void> {
    this.closePromise ??= this.doClose();
    return this.closePromise;
  }

  /** Position after the last emitted line (null before any file was seen). */
  /**
   * Whether a cursor names the file this follower reads, whatever the path holds now: its identity recomputed
   * over the cursor's fingerprint length from the head bytes the follower holds (a young file's cursors have
   * shorter fingerprints than the follower's own; one made ahead of the follower, a longer one, is checked
   * against the file it has open).
   */
  async follows(data: CursorData): Promise<boolean> {
    const identity = this.identity;
    if (identity === null) return false;
    let head = this.head;
    if (data.fpLen > head.length) {
      const handle = this.handle;
      if (handle === null) return false;
      head = await readHead(handle, data.fpLen);
      if (head.length < data.fpLen) return false;
    }
    return computeFileId(identity.dev, identity.ino, head.subarray(0, data.fpLen)) === data.fileId;
  }

  get cursor(): string | null {
    if (this.identity) return this.prefix + cursorTail(this.splitter.lineStart, this.seq);
    return this.pendingResume?.text ?? null;
  }

  get stats(): FollowerStats {
    return {
      size: this.size,
      offset: this.splitter.lineStart,
      lines: this.lines,
      lastChangeMs: this.lastChangeMs,
      readOffset: this.splitter.offset,
    };
  }

  private async doStart(): Promise<void> {
    if (this.closed) throw new Error("follower is closed");
    const start = this.options.start;
    if ("tail" in start && !(Number.isSafeInteger(start.tail) && start.tail >= 0)) {
      throw new RangeError(`tail must be a non-negative integer, got ${start.tail}`);
    }
    const resume = "cursor" in start ? decodeCursor(start.cursor) : null;
    let handle: FileHandle | null = null;
    try {
      handle = await this.openPath();
    } catch (error) {
      this.pendingStart = true;
      this.reportError(error);
    }
    if (handle) {
      try {
        await this.attachAt(handle, resume, true);
      } catch (error) {
        await handle.close();
        this.handle = null;
        if (error instanceof CursorError) throw error;
        // An I/O problem (EISDIR, EIO): report it and let the passes retry the same start position.
        this.pendingStart = true;
        this.reportError(error);
      }
    } else if (!this.pendingStart) {
      if (resume && "cursor" in start) {
        this.pendingResume = { data: resume, text: start.cursor };
        this.seq = resume.seq;
      }
      this.reportMissing();
    }
    if (this.closed) return;
    this.source.start();
    this.source.wake();
    await this.source.idle();
  }

  private async doClose(): Promise<void> {
    this.closed = true;
    await this.startPromise?.catch(() => undefined);
    await this.source.close();
    const handle = this.handle;
    this.handle = null;
    await handle?.close().catch(() => undefined);
    this.listeners.clear();
  }

  /** Attaches to a file for the configured start position (a resume cursor is resolved against this file). */
  private async attachAt(handle: FileHandle, resume: CursorData | null, strict: boolean): Promise<void> {
    const start = this.options.start;
    if (resume && "cursor" in start) {
      await this.resume(handle, resume, start.cursor, "file-changed", strict);
      return;
    }
    const size = Number((await handle.stat({ bigint: true })).size);
    let offset = 0;
    if ("tail" in start) offset = await lineStartBefore(handle, size, start.tail);
    else if ("from" in start && start.from === "end") offset = await lineStartBefore(handle, size, 0);
    await this.attach(handle, offset);
  }

  /**
   * Continues at the cursor when this is its file and still holds its offset; otherwise reports a gap and follows
   * this file from its start. Sequence numbers continue from the cursor's either way.
   */
  private async resume(
    handle: FileHandle,
    data: CursorData,
    text: string,
    otherFile: GapReason,
    strict: boolean,
  ): Promise<void> {
    this.seq = data.seq;
    const same = (await identify(handle, data.fpLen)).fileId === data.fileId;
    const size = Number((await handle.stat({ bigint: true })).size);
    if (same && size >= data.offset) {
      if (await isLineBoundary(handle, data.offset)) {
        await this.attach(handle, data.offset);
        return;
      }
      if (strict) throw new CursorError(`cursor "${text}" does not point at a line boundary of ${this.path}`);
    }
    await this.attach(handle, 0);
    const reason: GapReason = same && size < data.offset ? "truncated" : otherFile;
    this.emit({ type: "gap", reason, from: text, to: this.cursor as string });
  }

  private async attach(handle: FileHandle, offset: number): Promise<void> {
    await this.setIdentity(handle);
    this.localFileSystem = await isLocalFileSystem(this.path);
    this.splitter.reset(offset);
    this.handle = handle;
    this.missingReported = false;
    this.source.anyNameInDirectory = false;
  }

  /** One look at the path: read what is new, notice truncation, rotation, deletion. Never throws. */
  private async pass(): Promise<void> {
    if (this.closed) return;
    try {
      if (this.handle) await this.follow(this.handle);
      else await this.openAppeared();
      this.lastError = null;
    } catch (error) {
      this.reportError(error);
    }
  }

  private async follow(handle: FileHandle): Promise<void> {
    // Which file the path names, how big ours is, its head, and the first read of new bytes (kept only if the rest
    // says the file is still the one we read); synchronously when that cannot stall (see file-look.ts).
    this.buffer ??= Buffer.allocUnsafe(this.readChunkBytes);
    const { pathStat, fileStat, head, bytesRead } = await look({
      path: this.path,
      handle,
      headLength: this.head.length,
      buffer: this.buffer,
      offset: this.splitter.offset,
      sync: this.localFileSystem && this.source.watching,
    });
    if (this.closed || this.handle !== handle) return;
    const identity = this.identity as FileIdentity;
    const replaced = pathStat === null || pathStat.ino !== identity.ino || pathStat.dev !== identity.dev;
    this.size = Number(fileStat.size);
    // Shrunk below what we read, or grown again with other first bytes before we looked (truncated, rewritten):
    // the bytes just read belong to the new content at an offset that no longer means anything.
    if (this.size < this.splitter.offset || !head.equals(this.head)) {
      await this.restartTruncated(handle);
      await this.drain(handle);
    } else {
      await this.drain(handle, bytesRead);
    }
    if (this.closed || this.handle !== handle) return;
    if (!replaced) return;
    if (fileStat.nlink > 0n && (pathStat === null || pathStat.size === 0n)) {
      // Renamed away, and the path is empty or holds a still-empty new file: the writer has not reopened yet
      // and may still append to the old file (logrotate creates the new file before the writer is told). Keep
      // reading the old one, waking on any event in the directory since its new name is unknown, until the new
      // file gets its first bytes.
      this.source.anyNameInDirectory = true;
      if (pathStat === null) this.reportMissing();
      return;
    }
    // Deleted, or replaced by a new file: the old file is done for good and was just drained.
    await this.retire();
    if (pathStat === null) this.reportMissing();
    else this.source.wake();
  }

  /** The path was missing (or unreadable): attach to the file that is there now, if any. */
  private async openAppeared(): Promise<void> {
    const handle = await this.openPath();
    if (!handle) {
      this.reportMissing();
      return;
    }
    if (this.closed) {
      await handle.close();
      return;
    }
    try {
      if (this.pendingStart) {
        await this.attachAt(handle, this.pendingResumeData(), false);
        this.pendingStart = false;
      } else if (this.pendingResume) {
        const { data, text } = this.pendingResume;
        this.pendingResume = null;
        await this.resume(handle, data, text, "file-gone", false);
      } else {
        await this.attach(handle, 0);
        this.emit({ type: "rotated", cursor: this.cursor as string });
      }
    } catch (error) {
      if (this.handle !== handle) await handle.close();
      throw error;
    }
    await this.follow(handle);
  }

  private pendingResumeData(): CursorData | null {
    const start = this.options.start;
    return "cursor" in start ? decodeCursor(start.cursor) : null;
  }

  /** Reads the next chunk at the current offset into the read buffer; returns the byte count. */
  private async readChunk(handle: FileHandle): Promise<number> {
    this.buffer ??= Buffer.allocUnsafe(this.readChunkBytes);
    const buffer = this.buffer;
    return (await handle.read(buffer, 0, buffer.length, this.splitter.offset)).bytesRead;
  }

  /**
   * Reads from the current offset to end of file in bounded chunks, emitting lines chunk by chunk. `prefetched`:
   * the first chunk is already in the read buffer (read at the current offset), this many bytes.
   */
  private async drain(handle: FileHandle, prefetched?: number): Promise<void> {
    let bytesRead = prefetched ?? (await this.readChunk(handle));
    for (;;) {
      const buffer = this.buffer as Buffer;
      if (this.closed || this.handle !== handle || bytesRead === 0) return;
      this.lastChangeMs = Date.now();
      // A young file's fingerprint must cover these bytes before they get cursors: a cursor whose fingerprint
      // covers less than its own offset would match any later content of the same inode.
      const identity = this.identity as FileIdentity;
      if (identity.fpLen < MAX_FP_LEN && identity.fpLen < this.splitter.offset + bytesRead)
        await this.setIdentity(handle);
      this.splitter.push(bytesRead === buffer.length ? buffer : buffer.subarray(0, bytesRead), this.sink);
      this.flushBatch();
      // A short read was the end of the file a moment ago: later writes wake us again.
      if (bytesRead < buffer.length) return;
      const wait = this.options.pace?.();
      if (wait) {
        await wait;
        if (this.closed || this.handle !== handle) return;
      }
      bytesRead = await this.readChunk(handle);
    }
  }

  /** copytruncate: the file shrank below what we read. Deliver the partial line, then start over at 0. */
  private async restartTruncated(handle: FileHandle): Promise<void> {
    const previousSize = this.splitter.offset;
    this.flushPartial();
    this.splitter.reset(0);
    await this.setIdentity(handle);
    this.emit({ type: "truncated", previousSize, cursor: this.cursor as string });
  }

  /**
   * Fingerprints the file as it is now. A young file's fingerprint is refreshed as it grows (up to 256 bytes) so
   * its cursors tell recycled inodes apart and a rewritten head is noticed.
   */
  private async setIdentity(handle: FileHandle): Promise<void> {
    const { identity, head } = await fingerprint(handle);
    this.identity = identity;
    this.head = head;
    this.prefix = cursorPrefix(identity.fileId, identity.fpLen);
  }

  /** The current file is finished: deliver a partial last line (marked), close it, keep its identity for cursors. */
  private async retire(): Promise<void> {
    this.flushPartial();
    const handle = this.handle;
    this.handle = null;
    this.source.anyNameInDirectory = false;
    await handle?.close();
  }

  private flushPartial(): void {
    if (this.splitter.flushPartial(this.unterminatedSink)) this.flushBatch();
  }

  private readonly sink: LineSink = (text, start, end, truncatedFrom) => {
    const line = new FollowedLine(++this.seq, text, start, end, this.prefix);
    if (truncatedFrom !== undefined) line.truncatedFrom = truncatedFrom;
    this.batch.push(line);
    if (this.batch.length >= this.maxBatchLines) this.flushBatch();
  };

  private readonly unterminatedSink: LineSink = (text, start, end, truncatedFrom) => {
    const line = new FollowedLine(++this.seq, text, start, end, this.prefix);
    line.unterminated = true;
    if (truncatedFrom !== undefined) line.truncatedFrom = truncatedFrom;
    this.batch.push(line);
  };

  private flushBatch(): void {
    if (this.batch.length === 0) return;
    const lines = this.batch;
    this.batch = [];
    this.lines += lines.length;
    this.emit({ type: "lines", lines });
  }

  private reportMissing(): void {
    if (this.missingReported) return;
    this.missingReported = true;
    this.emit({ type: "missing" });
  }

  /** Reports an I/O problem once per distinct message (a pass retries every poll interval). */
  private reportError(error: unknown): void {
    const err = error instanceof Error ? error : new Error(String(error));
    if (err.message === this.lastError) return;
    this.lastError = err.message;
    this.emit({ type: "error", error: err });
  }

  /** Listeners must not throw; if one does, the others still get the event and the error is reported. */
  private emit(event: FollowerEvent): void {
    if (this.closed) return;
    let failure: unknown;
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (error) {
        failure ??= error;
      }
    }
    if (failure !== undefined && event.type !== "error") this.reportError(failure);
  }

  private async openPath(): Promise<FileHandle | null> {
    try {
      return await open(this.path, "r");
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isSafeInteger(value) || value < 1)
    throw new RangeError(`${name} must be a positive integer, got ${value}`);
  return value;
}
