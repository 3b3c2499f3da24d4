import { open, stat } from "node:fs/promises";
import { prefixOf, StaleCursorError, type StaleReason } from "../../core/cursor.js";
import type { Line } from "../../core/line.js";
import {
  type CursorScheme,
  type FeedEvent,
  type FollowOptions,
  type LiveFeed,
  type ReadAfterResult,
  type ReadBeforeResult,
  type ResumePlan,
  type SearchOutcome,
  type SearchQuery,
  type SourceInfo,
  SourceMissingError,
  type StreamBackend,
} from "../backend.js";
import { type CursorData, decodeCursor, encodeCursor, MAX_FP_LEN } from "./file-cursor.js";
import { identify, isMissing, matches } from "./file-identity.js";
import { Follower } from "./follower.js";
import type { FollowerEvent } from "./follower-events.js";
import { type HistoryOptions, readAfter, readBefore, readTail, tailStart } from "./history.js";
import { readLineBytes } from "./line-bytes.js";
import { RotatedHistory } from "./rotated-history.js";
import type { RotatedFile } from "./rotated-set.js";
import { searchFile } from "./search.js";
import { type LineTime, seekTime } from "./time-seek.js";

export interface FileBackendOptions {
  /** Fallback stat poll of the follower (ms). */
  pollIntervalMs?: number;
  /** Use fs.watch as well as polling (default true). */
  watch?: boolean;
  /** Longer lines are cut to this many bytes and marked. */
  maxLineBytes?: number;
  /** Source bytes one history read (page, tail) holds at most; default 8 MiB. */
  maxReadBytes?: number;
  /**
   * The time of a line for seek(), from its bytes (without the LF); default: the entry format's `[time]` prefix.
   * A file of records that carry their time elsewhere (Docker's json-file logs) gives its own.
   */
  lineTime?: LineTime;
  /**
   * Rotated files beside the path (`NAME.1`, `NAME.2.gz`, `NAME-20260101.gz`, …) are history older than it, for
   * paging, time seek, search and resuming (default true).
   */
  rotatedHistory?: boolean;
}

const DEFAULT_MAX_READ_BYTES = 8 * 1024 * 1024;

/** A stream backed by one append-only log file: the follower for live lines, history reads for the rest. */
export class FileBackend implements StreamBackend {
  readonly cursors: CursorScheme = { durable: true };
  private readonly history: HistoryOptions;
  /** The live feed's follower, once follow() started it: it knows its file even after the path moved on. */
  private follower: Follower | null = null;
  /** The rotated files as history, null when switched off. */
  private readonly rotated: RotatedHistory | null;
  /** The live feed's listener: where a problem found while reading history is reported (a damaged .gz). */
  private listener: ((event: FeedEvent) => void) | null = null;
  /** Problems already reported, so each damaged file is told once. */
  private readonly reported = new Set<string>();

  constructor(
    readonly name: string,
    readonly path: string,
    private readonly options: FileBackendOptions = {},
  ) {
    this.history = {
      maxBytes: options.maxReadBytes ?? DEFAULT_MAX_READ_BYTES,
      ...(options.maxLineBytes === undefined ? {} : { maxLineBytes: options.maxLineBytes }),
    };
    this.rotated =
      options.rotatedHistory === false
        ? null
        : new RotatedHistory(path, this.history, (e) => this.problem(e));
  }

  follow(options: FollowOptions, listener: (event: FeedEvent) => void): Promise<LiveFeed> {
    return this.followFrom(null, options, listener);
  }

  /**
   * follow(), starting after `cursor` instead of before the last `options.tail` lines when a cursor is given: for
   * a backend built on this one whose lines are not the file's lines (Docker's records joined into lines), which
   * works out its tail itself.
   */
  async followFrom(
    cursor: string | null,
    options: FollowOptions,
    listener: (event: FeedEvent) => void,
  ): Promise<LiveFeed> {
    const follower = new Follower(this.path, {
      start: cursor !== null ? { cursor } : options.tail > 0 ? { tail: options.tail } : { from: "end" },
      ...(this.options.pollIntervalMs === undefined ? {} : { pollIntervalMs: this.options.pollIntervalMs }),
      ...(this.options.watch === undefined ? {} : { watch: this.options.watch }),
      ...(this.options.maxLineBytes === undefined ? {} : { maxLineBytes: this.options.maxLineBytes }),
      ...(options.pace === undefined ? {} : { pace: options.pace }),
    });
    follower.on((event) => listener(toFeedEvent(event)));
    try {
      await follower.start();
    } catch (error) {
      await follower.close();
      throw error;
    }
    this.follower = follower;
    this.listener = listener;
    return {
      get cursor() {
        return follower.cursor;
      },
      close: () => {
        if (this.follower === follower) {
          this.follower = null;
          this.listener = null;
        }
        return follower.close();
      },
    };
  }

  /**
   * The follower's file stays the stream's file until it acts on a rotation, whatever the path holds meanwhile;
   * positions of two different files never compare, so whenever the path and the follower disagree the answer is
   * "wait" (for the follower to report the rotation or truncation) rather than a guess.
   */
  async resumeFrom(cursor: string, followed: string | null): Promise<ResumePlan> {
    const at = decodeCursor(cursor);
    const onFeed = followed !== null && (await this.onFeed(cursor, followed));
    const where = onFeed ? "same" : await matches(this.path, at);
    let reason: StaleReason;
    if (where === "same") {
      const stale = await this.staleReason(cursor);
      if (stale === null) return onFeed ? { kind: "continue", from: cursor } : { kind: "wait" };
      // The path moved on but the follower still reads the cursor's file: what follows the cursor comes from the
      // hub's memory, or after the follower reports the rotation. Not on the feed: replaced between two looks.
      if (stale !== "truncated") return onFeed ? { kind: "continue", from: cursor } : { kind: "wait" };
      // Shorter than the cursor's position. Until the follower has seen that (it is still at or past the cursor)
      // the stream is the old content, and what follows the cursor may still be in the hub's memory: continue
      // (a read of the file goes stale and waits for the follower). Once it has, go on from the start.
      if (!onFeed) return { kind: "wait" };
      if (decodeCursor(followed).offset >= at.offset) return { kind: "continue", from: cursor };
      reason = "truncated";
    } else {
      // The cursor's file was rotated away: it goes on from there, through the newer rotated files to the path.
      if (await this.inRotated(at)) return { kind: "continue", from: cursor };
      reason = where === "changed" ? "file-changed" : "file-gone";
    }
    const start = await this.startCursor();
    if (start === null) return { kind: "missing" };
    if (reason !== "truncated" && followed !== null && !(await this.onFeed(start, followed))) {
      // The follower still reads a file that is no longer at the path: only its lines in memory can be served.
      return { kind: "gap", reason, to: null };
    }
    return { kind: "gap", reason, to: start };
  }

  check(cursor: string): void {
    decodeCursor(cursor);
  }

  /** An arrow: callers take it off the backend (the recent window destructures its order). */
  readonly compare = (a: string, b: string): number => {
    const x = decodeCursor(a);
    const y = decodeCursor(b);
    if (x.fileId !== y.fileId && this.rotated !== null) {
      // A rotated file is older than the followed one and than rotated files found newer (resumeFrom located it).
      const rx = this.rotated.rank(x.fileId) ?? Number.POSITIVE_INFINITY;
      const ry = this.rotated.rank(y.fileId) ?? Number.POSITIVE_INFINITY;
      if (rx !== ry) return rx < ry ? -1 : 1;
    }
    return x.offset - y.offset;
  };

  continues(prev: Line, next: Line): boolean {
    return (
      next.seq === prev.seq + 1 &&
      next.start === prev.end &&
      // In a file's first MAX_FP_LEN bytes its fingerprint, and so its cursor prefix, still grows from one read to
      // the next; a frame derives every cursor from its last one.
      (next.start >= MAX_FP_LEN || prefixOf(next.cursor) === prefixOf(prev.cursor))
    );
  }

  cursorBefore(line: Line): string {
    const after = decodeCursor(line.cursor);
    return encodeCursor({
      fileId: after.fileId,
      fpLen: after.fpLen,
      offset: line.start,
      seq: Math.max(0, line.seq - 1),
    });
  }

  async readAfter(cursor: string | null, limit: number, maxBytes?: number): Promise<ReadAfterResult> {
    const options = maxBytes === undefined ? this.history : { ...this.history, maxBytes };
    if (this.rotated !== null && cursor === null) {
      const files = await this.rotated.files();
      if (files.length > 0) return this.readAfterRotated(files, 0, null, 0, limit, options);
    }
    let page: Awaited<ReturnType<typeof readAfter>>;
    try {
      page = await noSourceIfMissing(readAfter(this.path, cursor, limit, options));
    } catch (error) {
      const rotated = await this.locateStale(error, cursor);
      if (rotated === null) throw error;
      return this.readAfterRotated(rotated.files, rotated.index, rotated.at, rotated.at.seq, limit, options);
    }
    return { ...page, atStart: page.lines[0]?.start === 0 && !(await this.hasRotated()) };
  }

  async readBefore(cursor: string, limit: number): Promise<ReadBeforeResult> {
    let page: Awaited<ReturnType<typeof readBefore>>;
    try {
      page = await readBefore(this.path, cursor, limit, this.history);
    } catch (error) {
      const rotated = await this.locateStale(error, cursor);
      if (rotated === null) throw error;
      return this.readBeforeRotated(rotated.files, rotated.index, rotated.at, rotated.at.seq, limit, cursor);
    }
    const { lines, more } = page;
    const first = lines[0];
    if (first === undefined && limit > 0 && this.rotated !== null) {
      // At the start of the file at the path: the newest rotated file ends where it begins.
      const files = await this.rotated.files();
      if (files.length > 0) {
        return this.readBeforeRotated(files, files.length - 1, null, decodeCursor(cursor).seq, limit, cursor);
      }
    }
    return {
      lines,
      more: more || (first?.start === 0 && (await this.hasRotated())),
      cursor: first === undefined ? cursor : this.cursorBefore(first),
    };
  }

  async tail(n: number): Promise<ReadAfterResult> {
    const { lines, cursor } = await noSourceIfMissing(readTail(this.path, n, this.history));
    const first = lines[0];
    const atStart = (first === undefined || first.start === 0) && !(await this.hasRotated());
    return { lines, cursor, more: false, atStart };
  }

  async tailCursor(n: number): Promise<string | null> {
    try {
      return await tailStart(this.path, n, this.history);
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async seek(atMs: number, limit: number): Promise<ReadAfterResult> {
    const end = await noSourceIfMissing(readTail(this.path, 0));
    const endAt = decodeCursor(end.cursor);
    const offset = await seekTime(this.path, atMs, endAt.offset, this.options.lineTime);
    if (offset === 0 && this.rotated !== null) {
      const from = await this.seekRotated(atMs);
      if (from !== null) return this.readAfter(from, limit);
    }
    if (offset >= endAt.offset) return { lines: [], cursor: end.cursor, more: false, atStart: false };
    // The line number at `offset` is unknown without reading everything before it: number from the seek point.
    const from = encodeCursor({ fileId: endAt.fileId, fpLen: endAt.fpLen, offset, seq: 0 });
    return this.readAfter(from, limit);
  }

  async search(query: SearchQuery): Promise<SearchOutcome> {
    const files = this.rotated === null ? [] : await this.rotated.files();
    if (files.length === 0) return searchFile(this.path, query);
    // Oldest first, as the lines were written, sharing the limit and the time.
    const deadline = Date.now() + query.timeoutMs;
    const matches: Line[] = [];
    let scannedBytes = 0;
    const gz = { onProblem: (error: Error) => this.problem(error) };
    for (const file of [...files, { path: this.path, gz: false }]) {
      const timeoutMs = deadline - Date.now();
      if (timeoutMs <= 0) return { matches, limited: false, timedOut: true, scannedBytes };
      const part = { ...query, limit: query.limit - matches.length, timeoutMs };
      const found = await searchFile(file.path, part, file.gz ? gz : undefined);
      matches.push(...found.matches);
      scannedBytes += found.scannedBytes;
      if (found.timedOut || found.limited || matches.length >= query.limit) {
        return { matches, limited: !found.timedOut, timedOut: found.timedOut, scannedBytes };
      }
    }
    return { matches, limited: false, timedOut: false, scannedBytes };
  }

  async info(followed: string | null): Promise<SourceInfo> {
    try {
      const s = await stat(this.path);
      const read = followed === null ? s.size : decodeCursor(followed).offset;
      return { exists: true, size: s.size, mtimeMs: s.mtimeMs, unreadBytes: Math.max(0, s.size - read) };
    } catch (error) {
      if (isMissing(error)) return { exists: false, size: 0, mtimeMs: null, unreadBytes: 0 };
      throw error;
    }
  }

  async openRaw(): Promise<NodeJS.ReadableStream | null> {
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(this.path, "r");
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
    // The stream owns the handle and closes it when done or destroyed.
    return handle.createReadStream({ start: 0 });
  }

  /**
   * Reads each line's bytes from the file at the path, when it is still the file the line's cursor names and still
   * holds the line (else null for that line): one open per call, one pread per line.
   */
  exactBytes(lines: readonly Line[]): Promise<(Buffer | null)[]> {
    return readLineBytes(this.path, lines);
  }

  /** Whether `cursor` names the file the live feed reads (its follower knows; else through the path). */
  private onFeed(cursor: string, followed: string): Promise<boolean> {
    const follower = this.follower;
    if (follower !== null && follower.cursor === followed) return follower.follows(decodeCursor(cursor));
    return this.sameFile(cursor, followed);
  }

  /**
   * Whether two cursors name the same file (not merely the same path). Fingerprints of different lengths only
   * compare through the file itself: both must name the one at the path.
   */
  private async sameFile(a: string, b: string): Promise<boolean> {
    const x = decodeCursor(a);
    const y = decodeCursor(b);
    if (x.fpLen === y.fpLen) return x.fileId === y.fileId;
    const [p, q] = await Promise.all([matches(this.path, x), matches(this.path, y)]);
    return p === "same" && q === "same";
  }

  /** Why the file at the path cannot be read from `cursor`, or null when it can (CursorError: not a boundary). */
  private async staleReason(cursor: string): Promise<StaleReason | null> {
    try {
      await readAfter(this.path, cursor, 0);
      return null;
    } catch (error) {
      if (error instanceof StaleCursorError) return error.reason;
      throw error;
    }
  }

  /** A cursor naming the very start of the file at the path (after line `seq`), null when there is none. */
  private async startCursor(seq = 0): Promise<string | null> {
    try {
      const identity = await identify(this.path);
      return encodeCursor({ fileId: identity.fileId, fpLen: identity.fpLen, offset: 0, seq });
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  private async hasRotated(): Promise<boolean> {
    return this.rotated !== null && (await this.rotated.files()).length > 0;
  }

  /** Whether a cursor names a rotated file and a line boundary in it. */
  private async inRotated(at: CursorData): Promise<boolean> {
    if (this.rotated === null) return false;
    const found = await this.rotated.locate(at);
    if (found === null) return false;
    try {
      await this.rotated.readAfterIn(found.files[found.index] as RotatedFile, at, at.seq, 0, this.history);
      return true;
    } catch (error) {
      if (error instanceof StaleCursorError) return false;
      throw error;
    }
  }

  /** For a read that found its cursor's file gone from the path: the rotated file it names now, if any. */
  private async locateStale(
    error: unknown,
    cursor: string | null,
  ): Promise<{ files: RotatedFile[]; index: number; at: CursorData } | null> {
    const stale = error instanceof StaleCursorError || error instanceof SourceMissingError;
    if (this.rotated === null || cursor === null || !stale) return null;
    if (error instanceof StaleCursorError && error.reason === "truncated") return null;
    const at = decodeCursor(cursor);
    const found = await this.rotated.locate(at);
    return found === null ? null : { ...found, at };
  }

  /**
   * Lines after `at` in rotated file `index` (null: its start), going on into newer files and then the path until
   * the page is full (a page may hold lines of several files; their cursors name each line's own file).
   */
  private async readAfterRotated(
    files: RotatedFile[],
    index: number,
    at: CursorData | null,
    seq: number,
    limit: number,
    options: HistoryOptions,
  ): Promise<ReadAfterResult> {
    const rotated = this.rotated as RotatedHistory;
    const maxBytes = options.maxBytes ?? Number.POSITIVE_INFINITY;
    const lines: Line[] = [];
    let bytes = 0;
    let from = at;
    let cursor: string | null = null;
    const result = (more: boolean): ReadAfterResult => ({
      lines,
      cursor: cursor as string,
      more,
      atStart: index === 0 && at === null && lines[0]?.start === 0,
    });
    const room = () => ({ ...options, maxBytes: maxBytes - bytes });
    const take = (page: { lines: Line[]; cursor: string }) => {
      for (const line of page.lines) bytes += line.end - line.start;
      lines.push(...page.lines);
      cursor = page.cursor;
    };
    for (let i = index; i < files.length; i++) {
      const file = files[i] as RotatedFile;
      const page = await rotated.readAfterIn(file, from, seq, limit - lines.length, room());
      take(page);
      if (page.more || lines.length >= limit || bytes >= maxBytes) return result(true);
      // The live feed still reads this file (renamed away, the path's new file not followed yet): what comes next
      // is up to the feed, as for any source ahead of it.
      if (!file.gz && (await this.follower?.follows(decodeCursor(page.cursor)))) return result(false);
      from = null;
      seq = decodeCursor(page.cursor).seq;
    }
    const start = await this.startCursor(seq);
    if (start === null) return result(false);
    const page = await readAfter(this.path, start, limit - lines.length, room());
    take(page);
    return result(page.more);
  }

  /** Lines before `at` in rotated file `index` (null: its end), going on into older files when it has none. */
  private async readBeforeRotated(
    files: RotatedFile[],
    index: number,
    at: CursorData | null,
    seq: number,
    limit: number,
    cursor: string,
  ): Promise<ReadBeforeResult> {
    const rotated = this.rotated as RotatedHistory;
    let before = at;
    for (let i = index; i >= 0; i--) {
      const page = await rotated.readBeforeIn(files[i] as RotatedFile, before, seq, limit, this.history);
      const first = page.lines[0];
      if (first !== undefined)
        return { lines: page.lines, more: page.more || i > 0, cursor: this.cursorBefore(first) };
      before = null;
    }
    return { lines: [], more: false, cursor };
  }

  /**
   * The file at the path starts at or after `atMs`: where the first line at or after it is among the rotated
   * files (newest first; a gzipped one is read from its start until the time is found), null when in none.
   */
  private async seekRotated(atMs: number): Promise<string | null> {
    const rotated = this.rotated as RotatedHistory;
    const files = await rotated.files();
    let found: { file: RotatedFile; offset: number } | null = null;
    for (let i = files.length - 1; i >= 0; i--) {
      const file = files[i] as RotatedFile;
      const offset = await rotated.seekIn(file, atMs, this.options.lineTime);
      if (offset === "after") break;
      found = { file, offset };
      if (offset > 0) break;
    }
    if (found === null) return null;
    const start = decodeCursor(await rotated.startCursor(found.file, 0));
    return encodeCursor({ ...start, offset: found.offset });
  }

  /** A problem met while reading history, on the live feed as an error event (once per message). */
  private problem(error: Error): void {
    if (this.reported.has(error.message)) return;
    if (this.reported.size >= 256) this.reported.clear();
    this.reported.add(error.message);
    this.listener?.({ type: "error", error });
  }
}

/** The follower's file words, in the backend's neutral ones. */
function toFeedEvent(event: FollowerEvent): FeedEvent {
  switch (event.type) {
    case "truncated":
    case "rotated":
      return { type: "reset", reason: event.type, cursor: event.cursor };
    default:
      return event;
  }
}

/** A read of a file that does not exist is "no source" to the server, not an ENOENT it would have to know. */
async function noSourceIfMissing<T>(read: Promise<T>): Promise<T> {
  try {
    return await read;
  } catch (error) {
    if (isMissing(error)) throw new SourceMissingError("the stream's file does not exist (yet)");
    throw error;
  }
}
