import { Readable } from "node:stream";
import { CursorError, StaleCursorError } from "../../core/cursor.js";
import type { Line } from "../../core/line.js";
import { DEFAULT_MAX_LINE_BYTES } from "../../core/line-splitter.js";
import type {
  AppendableBackend,
  CursorScheme,
  FeedEvent,
  FollowOptions,
  LiveFeed,
  ReadAfterResult,
  ReadBeforeResult,
  ResumePlan,
  SearchOutcome,
  SearchQuery,
  SourceInfo,
} from "../backend.js";
import { SourceUnavailableError } from "../backend.js";
import { entryId, type StreamRecord, streamKey } from "./entry.js";
import { type AppendedLines, appendLines } from "./redis-append.js";
import type { RedisClient } from "./redis-connection.js";
import { decodeRedisCursor, encodeRedisCursor, type RedisCursor } from "./redis-cursor.js";
import { RedisFeed } from "./redis-feed.js";
import { type Located, locate } from "./redis-locate.js";
import {
  afterPosition,
  cursorAfterRecord,
  cursorBeforeRecord,
  decodeAll,
  gapReason,
  linesBetween,
  type RawEntries,
  StreamRecords,
  startOf,
  toLine,
} from "./redis-records.js";
import { searchStream } from "./redis-search.js";
import { seekRecord } from "./redis-seek.js";

export interface RedisBackendOptions {
  /** Commands (history, search, appends): shared by every stream of the server. */
  client: RedisClient;
  /** Makes the live feed's own connection (XREAD BLOCK holds a connection): one per stream per replica. */
  readerConnection: () => RedisClient;
  /** Longer lines are cut to this many bytes and marked (the stream keeps them whole). */
  maxLineBytes?: number;
  /** Entries per XREAD of the live feed. Default 1000. */
  feedBatch?: number;
  /** How long one XREAD blocks (ms). Default 5000. */
  blockMs?: number;
  /** How long a feed waits for a stream to be re-written after a failover before it resets (redis-feed.ts). */
  refillMs?: number;
  /** Host label (`h`) of lines appended through this server. Default "livetrail-server". */
  hostLabel?: string;
}

/** Entries per XRANGE of a history read. */
const READ_CHUNK = 1000;
const START = encodeRedisCursor({ position: 0, seq: 0 });

/**
 * One Redis stream (`livetrail:{name}:lines`, written by `livetrail ship` or the HTTP append API through the
 * codec in entry.ts) as a StreamBackend. Positions are entry IDs, so cursors are durable and the same on every
 * replica (redis-cursor.ts); gap markers in the stream are gaps for live readers and history alike; entries
 * trimmed by retention are a `trimmed` gap counted from the `q` numbers.
 */
export class RedisBackend implements AppendableBackend {
  readonly cursors: CursorScheme = { durable: true };
  readonly key: string;
  readonly records: StreamRecords;
  private readonly maxLineBytes: number;
  readonly sealIdentity: string;

  constructor(
    readonly name: string,
    private readonly options: RedisBackendOptions,
  ) {
    this.key = streamKey(name);
    this.sealIdentity = `redis:${this.key}`;
    this.records = new StreamRecords(options.client, this.key, true);
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
  }

  async follow(options: FollowOptions, listener: (event: FeedEvent) => void): Promise<LiveFeed> {
    const reader = this.options.readerConnection();
    try {
      // The tail and the ID the feed reads after come from one reply: no entry can fall between them.
      const newest = await new StreamRecords(reader, this.key).before("+", 1);
      const top = newest[0];
      if (top === undefined && !(await this.records.exists())) listener({ type: "missing" });
      let cursor: string | null = null;
      if (top !== undefined) {
        const tail = await this.tailBefore(top.id, options.tail, { crossGap: false });
        if (tail.lines.length > 0) listener({ type: "lines", lines: tail.lines });
        cursor = tail.cursor;
      }
      const feedOptions = {
        key: this.key,
        maxLineBytes: this.maxLineBytes,
        batch: this.options.feedBatch ?? 1000,
        blockMs: this.options.blockMs ?? 5000,
        ...(options.pace === undefined ? {} : { pace: options.pace }),
        ...(this.options.refillMs === undefined ? {} : { refillMs: this.options.refillMs }),
      };
      return new RedisFeed(reader, feedOptions, listener, top?.id ?? "0-0", cursor);
    } catch (error) {
      reader.disconnect();
      throw error;
    }
  }

  async resumeFrom(cursor: string, _followed: string | null): Promise<ResumePlan> {
    const at = decodeRedisCursor(cursor);
    const where = await locate(this.records, at, cursor);
    if (where.kind === "trimmed") return this.trimmedPlan(at, where.first);
    if (where.kind === "beyond") return this.lostPlan(where);
    const next = where.next;
    if (next?.kind === "gap") {
      const plan: ResumePlan = {
        kind: "gap",
        reason: gapReason(next.reason),
        to: cursorAfterRecord(next) as string,
      };
      if (next.skipped !== undefined) plan.skipped = next.skipped;
      return plan;
    }
    return { kind: "continue", from: cursor };
  }

  check(cursor: string): void {
    decodeRedisCursor(cursor);
  }

  compare(a: string, b: string): number {
    return decodeRedisCursor(a).position - decodeRedisCursor(b).position;
  }

  continues(prev: Line, next: Line): boolean {
    return next.seq === prev.seq + 1 && next.start === prev.end;
  }

  cursorBefore(line: Line): string {
    return encodeRedisCursor({ position: line.start, seq: line.seq - 1 });
  }

  async readAfter(cursor: string | null, limit: number, maxBytes?: number): Promise<ReadAfterResult> {
    let start = "-";
    let atStart = true;
    if (cursor !== null) {
      const at = decodeRedisCursor(cursor);
      const where = await this.readable(at, cursor);
      if (where.next?.kind === "gap") {
        throw new StaleCursorError(
          `lines after cursor "${cursor}" were lost (a gap)`,
          gapReason(where.next.reason),
        );
      }
      start = afterPosition(at.position);
      atStart = where.atStart;
    }
    const budget = maxBytes ?? Number.POSITIVE_INFINITY;
    const lines: Line[] = [];
    let bytes = 0;
    let more = false;
    /** After the last record looked at that a reader may stand after (foreign ones are passed over). */
    let passed: string | null = cursor;
    scan: for (;;) {
      const chunk = await this.records.after(start, Math.min(READ_CHUNK, limit - lines.length + 1));
      for (const record of chunk) {
        if (record.kind === "gap") {
          // A gap ends the page; from a null cursor, markers before the first line are passed over.
          if (lines.length > 0) {
            more = true;
            break scan;
          }
          if (cursor !== null) {
            throw new StaleCursorError(
              `lines after cursor "${cursor}" were lost (a gap)`,
              gapReason(record.reason),
            );
          }
          passed = cursorAfterRecord(record);
          continue;
        }
        if (record.kind === "foreign") continue;
        const line = toLine(record, this.maxLineBytes);
        const size = line.end - line.start;
        if (lines.length === limit || (lines.length > 0 && bytes + size > budget)) {
          more = true;
          break scan;
        }
        lines.push(line);
        bytes += size;
        passed = line.cursor;
      }
      const last = chunk[chunk.length - 1];
      if (last === undefined || chunk.length < Math.min(READ_CHUNK, limit - lines.length + 1)) break;
      start = `(${last.id}`;
    }
    return {
      lines,
      cursor: passed ?? (await this.startCursor()),
      more,
      atStart: lines.length > 0 && atStart,
    };
  }

  async readBefore(cursor: string, limit: number): Promise<ReadBeforeResult> {
    const at = decodeRedisCursor(cursor);
    await this.readable(at, cursor);
    const {
      lines,
      cursor: before,
      more,
    } = await this.tailBefore(entryId(at.position), limit, {
      crossGap: true,
      given: cursor,
    });
    return { lines, cursor: before, more };
  }

  async tail(n: number): Promise<ReadAfterResult> {
    const page = await this.tailBefore("+", n, { crossGap: false });
    return { lines: page.lines, cursor: page.end, more: false, atStart: !page.more };
  }

  async tailCursor(n: number): Promise<string | null> {
    const page = await this.tailBefore("+", n, { crossGap: false });
    if (page.lines.length === 0 && !(await this.records.exists())) return null;
    const first = page.lines[0];
    return first === undefined ? page.cursor : this.cursorBefore(first);
  }

  async seek(atMs: number, limit: number): Promise<ReadAfterResult> {
    const found = await seekRecord(this.records, atMs);
    if (found === "start") return this.readAfter(null, limit);
    if (found === null) {
      const newest = await this.records.newest();
      const cursor = (newest === null ? null : cursorAfterRecord(newest)) ?? START;
      return { lines: [], cursor, more: false, atStart: false };
    }
    return this.readAfter(cursorBeforeRecord(found) as string, limit);
  }

  async appendLines(texts: readonly string[]): Promise<AppendedLines> {
    // Someone waits for the answer: while Redis is down, say so at once (nothing is written).
    if (this.options.client.status !== "ready") {
      throw new SourceUnavailableError(`Redis is not reachable (connection ${this.options.client.status})`);
    }
    return appendLines(this.options.client, this.name, texts, this.options.hostLabel ?? "livetrail-server");
  }

  /**
   * The bytes the stream holds for each line, start to end (the entry's `l` and the newline its position counts),
   * for the sealer when a line's text is not them (invalid UTF-8, cut by this server's maxLineBytes). Null for a
   * line whose entry is gone (trimmed) or holds another length. One XRANGE per line, in one pipeline.
   */
  async exactBytes(lines: readonly Line[]): Promise<(Buffer | null)[]> {
    if (lines.length === 0) return [];
    const pipeline = this.options.client.pipeline();
    for (const line of lines) pipeline.xrangeBuffer(this.key, entryId(line.end), entryId(line.end));
    const replies = (await pipeline.exec()) ?? [];
    return lines.map((line, i) => {
      const [error, raw] = replies[i] ?? [new Error("no reply"), null];
      const record = error === null ? decodeAll(raw as RawEntries)[0] : undefined;
      if (record?.kind !== "line" || record.bytes.length + 1 !== line.end - line.start) return null;
      return Buffer.concat([record.bytes, NEWLINE]);
    });
  }

  search(query: SearchQuery): Promise<SearchOutcome> {
    return searchStream(this.records, query, this.maxLineBytes);
  }

  async info(followed: string | null): Promise<SourceInfo> {
    const [first, newest] = await Promise.all([this.records.first(), this.records.newest()]);
    if (newest === null || first === null) {
      return { exists: await this.records.exists(), size: 0, mtimeMs: null, unreadBytes: 0 };
    }
    const from = startOf(first) ?? 0;
    const top = newest.position ?? from;
    const seen = followed === null ? null : safePosition(followed);
    return {
      exists: true,
      // Bytes of the lines held (a gap marker counts one), as openRaw delivers them without markers.
      size: Math.max(0, top - from),
      mtimeMs: newest.kind === "line" ? (newest.timeMs ?? null) : null,
      unreadBytes: seen === null ? 0 : Math.max(0, top - seen),
    };
  }

  /** Every line held, as its exact bytes and a newline (gap markers and foreign entries leave no bytes). */
  async openRaw(): Promise<NodeJS.ReadableStream | null> {
    if (!(await this.records.exists())) return null;
    const records = this.records;
    return Readable.from(
      (async function* () {
        let start = "-";
        for (;;) {
          const chunk = await records.after(start, READ_CHUNK);
          const parts: Buffer[] = [];
          for (const record of chunk) if (record.kind === "line") parts.push(record.bytes, NEWLINE);
          if (parts.length > 0) yield Buffer.concat(parts);
          const last = chunk[chunk.length - 1];
          if (last === undefined || chunk.length < READ_CHUNK) return;
          start = `(${last.id}`;
        }
      })(),
    );
  }

  /**
   * The newest `n` lines up to `end` (an ID, inclusive, or "+"), back to the nearest gap marker before them,
   * oldest first. `crossGap`: a marker before any line is passed over (paging back through history; a tail must
   * not, or memory would hold lines from both sides of a gap). `cursor` is the position before the first line
   * returned; with none, `end`: the position given or after the newest record.
   */
  private async tailBefore(
    end: string,
    n: number,
    options: { crossGap: boolean; given?: string },
  ): Promise<ReadBeforeResult & { end: string }> {
    const lines: Line[] = [];
    let more = false;
    let after: string | null = options.given ?? null;
    let from = end;
    scan: for (;;) {
      const chunk = await this.records.before(from, Math.min(READ_CHUNK, n - lines.length + 1));
      for (const record of chunk) {
        after ??= cursorAfterRecord(record);
        if (record.kind === "gap") {
          if (lines.length > 0 || !options.crossGap) {
            more = true;
            break scan;
          }
          continue;
        }
        if (record.kind === "foreign") continue;
        if (lines.length === n) {
          more = true;
          break scan;
        }
        lines.push(toLine(record, this.maxLineBytes));
      }
      const last = chunk[chunk.length - 1];
      if (last === undefined || chunk.length < Math.min(READ_CHUNK, n - lines.length + 1)) break;
      from = `(${last.id}`;
    }
    lines.reverse();
    const first = lines[0];
    const top = after ?? START;
    return { lines, cursor: first !== undefined ? this.cursorBefore(first) : top, more, end: top };
  }

  /** Checks that reading from a cursor is possible; throws StaleCursorError (trimmed, lost) or CursorError. */
  private async readable(at: RedisCursor, cursor: string): Promise<Located & { kind: "here" }> {
    const where = await locate(this.records, at, cursor);
    if (where.kind === "trimmed") {
      throw new StaleCursorError(
        `cursor "${cursor}" is older than the entries this stream still holds`,
        "trimmed",
      );
    }
    if (where.kind === "beyond") {
      throw new StaleCursorError(`cursor "${cursor}" is beyond the newest entry of this stream`, "restarted");
    }
    return where;
  }

  private trimmedPlan(at: RedisCursor, first: StreamRecord): ResumePlan {
    const to = cursorBeforeRecord(first) ?? START;
    const plan: ResumePlan = { kind: "gap", reason: "trimmed", to };
    const skipped = linesBetween(at.seq, first);
    if (skipped !== undefined) plan.skipped = skipped;
    return plan;
  }

  /** The stream no longer reaches the cursor: Redis lost entries (restarted without them) or the key was recreated. */
  private lostPlan(where: Located & { kind: "beyond" }): ResumePlan {
    const to = (where.newest === null ? null : cursorAfterRecord(where.newest)) ?? START;
    return { kind: "gap", reason: "restarted", to };
  }

  private async startCursor(): Promise<string> {
    const first = await this.records.first();
    return (first === null ? null : cursorBeforeRecord(first)) ?? START;
  }
}

const NEWLINE = Buffer.from("\n");

function safePosition(cursor: string): number | null {
  try {
    return decodeRedisCursor(cursor).position;
  } catch (error) {
    if (error instanceof CursorError) return null;
    throw error;
  }
}
