import type { Redis } from "ioredis";
import type { Line } from "../../core/line.js";
import type { FeedEvent, LiveFeed } from "../backend.js";
import { parseId } from "./entry.js";
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
}

/**
 * The live feed of one Redis stream: one XREAD BLOCK loop on a connection of its own (a blocked connection can
 * do nothing else), from the ID of the newest entry it has seen. Lines go out in batches; gap markers become
 * `gap` events; entries the codec does not know become `error` events and are skipped.
 *
 * When the connection drops the pending XREAD fails, the feed says so once (an `error` event) and waits for
 * ioredis to reconnect (it retries with backoff). Then it goes on from the same ID, so nothing is lost or
 * delivered twice; if Redis came back without entries the feed had delivered (restarted without its data), the
 * feed reports a `restarted` reset and delivers the stream from its start.
 */
export class RedisFeed implements LiveFeed {
  cursor: string | null;
  private closed = false;
  /** An outage was reported and nothing was read since (one `error` event per outage, not one per retry). */
  private outage = false;
  private lastError: Error | null = null;
  private readonly done: Promise<void>;

  constructor(
    private readonly reader: Redis,
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
    this.lastId = (entries[entries.length - 1] as [Buffer, Buffer[]])[0].toString("latin1");
  }

  /**
   * After a lost connection: did Redis come back without entries this feed already delivered (restarted without
   * its data, or the last second of an `everysec` AOF lost)? Then the stream is a new generation: positions the
   * clients hold no longer name the same lines, and entries may have been added since Redis came back, before
   * this check. So the feed starts over at the stream's start, as the file backend does after a truncation,
   * rather than at the top, which would skip those entries silently.
   */
  private async checkAfterOutage(): Promise<void> {
    const newest = await new StreamRecords(this.reader, this.options.key).newest();
    const seen = parseId(this.lastId)?.position ?? 0;
    if ((newest?.position ?? 0) >= seen) return;
    this.lastId = "0-0";
    this.cursor = START;
    this.listener({ type: "reset", reason: "restarted", cursor: START });
  }
}

const START = encodeRedisCursor({ position: 0, seq: 0 });

function outageError(error: unknown): Error {
  const message = error instanceof Error ? error.message : String(error);
  return new Error(`Redis read failed (${message}); reconnecting`);
}
