import { ReplyError } from "ioredis";
import type { StaleReason } from "../../core/cursor.js";
import { FollowedLine, type Line } from "../../core/line.js";
import { SourceUnavailableError } from "../backend.js";
import { decodeEntry, entryId, type LineRecord, lineText, type StreamRecord } from "./entry.js";
import type { RedisClient } from "./redis-connection.js";
import { encodeRedisCursor, REDIS_PREFIX } from "./redis-cursor.js";

/** What ioredis's Buffer stream commands return: entry ID and flat field list, oldest or newest first. */
export type RawEntries = [Buffer, Buffer[]][];

/**
 * The records of one Redis stream, read through the codec (entry.ts); nothing here interprets cursors.
 * `failFast`: while the connection is down, fail at once with SourceUnavailableError (HTTP 503) instead of
 * waiting in ioredis's offline queue, which is flushed only every few reconnect attempts (seconds, by then).
 * For requests someone waits for; a feed or a writer waits for Redis instead.
 */
export class StreamRecords {
  constructor(
    readonly client: RedisClient,
    readonly key: string,
    private readonly failFast = false,
  ) {}

  /** Records with IDs from `start` (inclusive; "(" + ID exclusive; "-" the first) on, oldest first. */
  async after(start: string, count: number): Promise<StreamRecord[]> {
    this.checkConnected();
    return decodeAll(await reachable(this.client.xrangeBuffer(this.key, start, "+", "COUNT", count)));
  }

  /** Records with IDs up to `end` (inclusive; "(" + ID exclusive; "+" the newest), newest first. */
  async before(end: string, count: number): Promise<StreamRecord[]> {
    this.checkConnected();
    return decodeAll(await reachable(this.client.xrevrangeBuffer(this.key, end, "-", "COUNT", count)));
  }

  async first(): Promise<StreamRecord | null> {
    return (await this.after("-", 1))[0] ?? null;
  }

  async newest(): Promise<StreamRecord | null> {
    return (await this.before("+", 1))[0] ?? null;
  }

  async exists(): Promise<boolean> {
    this.checkConnected();
    return (await reachable(this.client.exists(this.key))) === 1;
  }

  private checkConnected(): void {
    if (this.failFast && this.client.status !== "ready")
      throw new SourceUnavailableError(`Redis is not reachable (connection ${this.client.status})`);
  }
}

/**
 * A command's reply; a failure to reach Redis (refused, closed, out of reconnect attempts) becomes a
 * SourceUnavailableError (HTTP 503). Redis's own error replies (ReplyError: a wrong type, a script error) are not
 * outages and pass as they are.
 */
async function reachable<T>(reply: Promise<T>): Promise<T> {
  try {
    return await reply;
  } catch (error) {
    if (error instanceof ReplyError) throw error;
    throw new SourceUnavailableError(`Redis is not reachable (${(error as Error).message})`);
  }
}

export function decodeAll(raw: RawEntries): StreamRecord[] {
  return raw.map(([id, fields]) => decodeEntry(id, fields));
}

/** The exclusive range start that reads what follows the entry ending at `position`. */
export function afterPosition(position: number): string {
  return `(${entryId(position)}`;
}

export function toLine(record: LineRecord, maxLineBytes: number): Line {
  const { text, truncatedFrom } = lineText(record.bytes, maxLineBytes, record.cutFrom);
  const start = record.position - record.bytes.length - 1;
  const line = new FollowedLine(record.seq, text, start, record.position, REDIS_PREFIX);
  if (truncatedFrom !== undefined) line.truncatedFrom = truncatedFrom;
  return line;
}

/** Position where a record starts: a line's first byte, the one position before a gap marker. */
export function startOf(record: StreamRecord): number | undefined {
  if (record.kind === "line") return record.position - record.bytes.length - 1;
  if (record.kind === "gap") return record.position - 1;
  return undefined;
}

/** The sequence number of the line before the record (undefined when a foreign record or a marker does not say). */
function seqBefore(record: StreamRecord): number | undefined {
  if (record.kind === "line") return record.seq - 1;
  if (record.kind === "gap") return record.seq;
  return undefined;
}

/** The cursor just before a line or gap marker (what a reader holds when that record comes next). */
export function cursorBeforeRecord(record: StreamRecord): string | null {
  const start = startOf(record);
  if (start === undefined) return null;
  return encodeRedisCursor({ position: start, seq: seqBefore(record) ?? 0 });
}

/** The cursor just after a line or gap marker; null for a foreign record. */
export function cursorAfterRecord(record: StreamRecord): string | null {
  if (record.kind === "line") return encodeRedisCursor({ position: record.position, seq: record.seq });
  if (record.kind === "gap") return encodeRedisCursor({ position: record.position, seq: record.seq ?? 0 });
  return null;
}

/** Lines lost before `record` for a reader whose last line had `seq` (from the consecutive `q` numbers). */
export function linesBetween(seq: number, record: StreamRecord): number | undefined {
  const before = seqBefore(record);
  return before === undefined ? undefined : Math.max(0, before - seq);
}

const STALE_REASONS = new Set<string>(["file-changed", "file-gone", "truncated", "restarted", "trimmed"]);

/** A gap marker's reason as the protocol knows it; a writer's word outside the list counts as the file changing. */
export function gapReason(reason: string): StaleReason {
  return STALE_REASONS.has(reason) ? (reason as StaleReason) : "file-changed";
}
