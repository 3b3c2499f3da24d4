import type { Line } from "../../core/line.js";
import type { FeedEvent, LiveFeed } from "../backend.js";
import { parseId } from "./entry.js";
import type { RedisClient } from "./redis-connection.js";
import { encodeRedisCursor } from "./redis-cursor.js";
import {
  cursorAfterRecord,
  decodeAll,
  gapReason,
  type RawEntries,
  StreamRecords,
  toLine,
} from "./redis-records.js";

export interface RedisFeedOptions {
  /** The stream's key. */
  key: string;
  maxLineBytes: number;
  /** Entries per XREAD (a burst is delivered in batches of at most this many). */
  batch: number;
  /** How long one XREAD blocks (ms): bounds how late close() is noticed when the connection hangs. */
  blockMs: number;
  pace?: () => Promise<void> | null;
  /**
   * After a lost connection, how long (ms) a stream found behind the feed's newest entry gets to be written up to
   * it again before the feed resets: a failover loses the entries the replica had not received, and the agent
   * ships them again from the file, at the same IDs. Default 10000 (a failover, the agent's reconnect and its re-ship).
   */
  refillMs?: number;
}

/**
 * The live feed of one Redis stream: one XREAD BLOCK loop on a connection of its own (a blocked connection can
 * do nothing else), from the ID of the newest entry it has seen. Lines go out in batches; gap markers become
 * `gap` events; entries the codec does not know become `error` events and are skipped.
 *
 * When the connection drops the pending XREAD fails, the feed says so once (an `error` event) and waits for
 * ioredis to reconnect (it retries with backoff). Then it goes on from the same ID, so nothing is lost or
 * delivered twice. If Redis came back without entries the feed had delivered (a failover to a replica that had
 * not received them, or a restart without the data), the feed waits up to `refillMs` for the stream to reach its
 * newest entry again with the same content (the agent re-ships lost lines at the same IDs) and then goes on
 * seamlessly; otherwise it reports a `restarted` reset and delivers the stream from its start.
 */
export class RedisFeed implements LiveFeed {
  cursor: string | null;
  private closed = false;
  /** An outage was reported and nothing was read since (one `error` event per outage, not one per retry). */
  private outage = false;
  private lastError: Error | null = null;
  /** The fields of the entry at `lastId`, once this feed delivered it (to recognise it after a refill). */
  private lastFields: Buffer[] | null = null;
  private readonly done: Promise<void>;

  constructor(
    private readonly reader: RedisClient,
    private readonly options: RedisFeedOptions,
    private readonly listener: (event: FeedEvent) => void,
    /** The ID of the newest entry already accounted for ("0-0": none). */
    private lastId: string,
    cursor: string | null,
  ) {
    this.cursor = cursor;
    // A pending XREAD waits out the outage (it fails only once the connection is back): say so when it drops.
    reader.on("error", (error: Error) => {
      this.lastError = error;
    });
    reader.on("reconnecting", () => this.reportOutage(this.lastError ?? new Error("connection lost")));
    this.done = this.run();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.reader.disconnect();
    await this.done;
  }

  private reportOutage(error: unknown): void {
    if (this.closed || this.outage) return;
    this.outage = true;
    this.listener({ type: "error", error: outageError(error) });
  }

  private async run(): Promise<void> {
    let failed = false;
    while (!this.closed) {
      try {
        if (failed) await this.checkAfterOutage();
        failed = false;
        const reply = (await this.reader.xreadBuffer(
          "COUNT",
          this.options.batch,
          "BLOCK",
          this.options.blockMs,
          "STREAMS",
          this.options.key,
          this.lastId,
        )) as [Buffer, RawEntries][] | null;
        if (this.closed) return;
        this.outage = false;
        const entries = reply?.[0]?.[1];
        if (entries === undefined || entries.length === 0) continue;
        this.deliver(entries);
        const wait = this.options.pace?.();
        if (wait) await wait;
      } catch (error) {
        if (this.closed) return;
        this.reportOutage(error);
        failed = true;
        // ioredis reconnects on its own; commands issued meanwhile wait in its offline queue.
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  }

  private deliver(entries: RawEntries): void {
    const records = decodeAll(entries);
    let lines: Line[] = [];
    const flush = (): void => {
      if (lines.length === 0) return;
      this.cursor = (lines[lines.length - 1] as Line).cursor;
      this.listener({ type: "lines", lines });
      lines = [];
    };
    for (const record of records) {
      if (record.kind === "line") lines.push(toLine(record, this.options.maxLineBytes));
      else if (record.kind === "gap") {
        flush();
        const to = cursorAfterRecord(record) as string;
        const event: FeedEvent = { type: "gap", reason: gapReason(record.reason), from: this.cursor, to };
        if (record.skipped !== undefined) event.skipped = record.skipped;
        this.cursor = to;
        this.listener(event);
      } else {
        this.listener({
          type: "error",
          error: new Error(`skipped an entry livetrail did not write: ${record.problem}`),
        });
      }
    }
    flush();
    const [id, fields] = entries[entries.length - 1] as [Buffer, Buffer[]];
    this.lastId = id.toString("latin1");
    this.lastFields = fields;
  }

  /**
   * After a lost connection: did Redis come back without entries this feed already delivered (a failover to a
   * replica behind the old primary, a restart without the data, the last second of an `everysec` AOF lost)? If
   * the stream is written up to the feed's newest entry again, with that entry as delivered, within `refillMs`,
   * it is the same stream (IDs are positions, and the agent re-ships the lost lines from the file): the feed goes
   * on from its own ID and clients see nothing. Otherwise the stream is a new generation: positions the clients
   * hold no longer name the same lines, and entries may have been added since Redis came back, before this
   * check. So the feed starts over at the stream's start, as the file backend does after a truncation, rather
   * than at the top, which would skip those entries silently.
   */
  private async checkAfterOutage(): Promise<void> {
    const records = new StreamRecords(this.reader, this.options.key);
    const seen = parseId(this.lastId)?.position ?? 0;
    const deadline = Date.now() + (this.options.refillMs ?? 10_000);
    let behind = false;
    for (;;) {
      const newest = await records.newest();
      if ((newest?.position ?? 0) >= seen) {
        if (!behind || (await this.sameLastEntry())) return;
        break;
      }
      behind = true;
      if (this.closed || Date.now() >= deadline) break;
      await new Promise((resolve) => setTimeout(resolve, REFILL_POLL_MS));
    }
    this.lastId = "0-0";
    this.lastFields = null;
    this.cursor = START;
    this.listener({ type: "reset", reason: "restarted", cursor: START });
  }

  /** Is the entry at `lastId` the one delivered (when the feed has delivered none, that one exists)? */
  private async sameLastEntry(): Promise<boolean> {
    const reply = (await this.reader.xrangeBuffer(this.options.key, this.lastId, this.lastId)) as RawEntries;
    const fields = reply[0]?.[1];
    if (fields === undefined) return false;
    const delivered = this.lastFields;
    if (delivered === null) return true;
    return (
      fields.length === delivered.length && fields.every((field, i) => field.equals(delivered[i] as Buffer))
    );
  }
}

/** How often a stream being written again after a failover is looked at. */
const REFILL_POLL_MS = 200;

const START = encodeRedisCursor({ position: 0, seq: 0 });

function outageError(error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  return new Error(`Redis read failed (${message}); reconnecting`);
}
