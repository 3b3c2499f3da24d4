import type { Cluster, Redis } from "ioredis";
import type { EncodedEntry } from "../backend/redis/entry.js";
import { appendBatch } from "./append-script.js";
import type { Retention } from "./retention.js";

/**
 * The agent's write pipeline for one stream: entries are gathered into batches (up to `maxEntries`, or whatever
 * arrived before the event loop turns: a quiet log's line goes out at once), each batch is one compare-and-append
 * call, and up to `maxInFlight` calls are outstanding on the connection at a time, in order. Each batch expects
 * the top the previous one leaves, so if one is refused or lost, every later one is refused too and nothing is
 * written out of order.
 *
 * Memory stays bounded: `pace()` tells the follower to wait before reading on while the pipeline is full, and a
 * failed pipeline drops what it holds (the file still has it; the next session reads it again).
 */
export interface BatcherOptions {
  client: Redis | Cluster;
  key: string;
  /** The stream's newest ID when the session started. */
  topId: string;
  retention: Retention;
  maxEntries: number;
  maxInFlight: number;
  /** The first failure: the batch was refused (the stream's top is not what was expected) or the call failed. */
  onFailure: (failure: BatchFailure) => void;
  /** A batch was acknowledged (Redis answered OK). */
  onAppended: (entries: number) => void;
}

export type BatchFailure =
  | { kind: "behind"; expected: string; actual: string }
  | { kind: "error"; error: Error };

export class Batcher {
  private pending: EncodedEntry[] = [];
  private expectedTop: string;
  private inFlight = 0;
  private flushScheduled = false;
  private failed = false;
  private waiters: (() => void)[] = [];
  private drained: (() => void)[] = [];

  constructor(private readonly options: BatcherOptions) {
    this.expectedTop = options.topId;
  }

  push(entry: EncodedEntry): void {
    if (this.failed) return;
    this.pending.push(entry);
    if (this.pending.length >= this.options.maxEntries) this.flush();
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => {
        this.flushScheduled = false;
        this.flush();
      });
    }
  }

  /** For the follower: null to read on, or a promise that settles once the pipeline has room (or failed). */
  pace(): Promise<void> | null {
    if (this.failed || this.inFlight < this.options.maxInFlight) return null;
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  /** Sends what is gathered and resolves when every call has been answered (or the pipeline failed). */
  async drain(): Promise<void> {
    this.flush();
    if (this.inFlight === 0 || this.failed) return;
    await new Promise<void>((resolve) => this.drained.push(resolve));
  }

  /** Stops the pipeline: what it holds is dropped, waiters are released. */
  abandon(): void {
    this.failed = true;
    this.pending = [];
    this.release();
  }

  private flush(): void {
    if (this.failed || this.pending.length === 0) return;
    const batch = this.pending;
    this.pending = [];
    const { client, key, retention } = this.options;
    const expected = this.expectedTop;
    const last = batch[batch.length - 1] as EncodedEntry;
    this.expectedTop = last.id;
    retention.note(last.top.position);
    this.inFlight++;
    appendBatch(client, key, expected, batch, retention.trimArgs()).then(
      (result) => {
        this.inFlight--;
        if (result.ok) this.options.onAppended(batch.length);
        else this.fail({ kind: "behind", expected, actual: result.actualTop });
        this.release();
      },
      (error: unknown) => {
        this.inFlight--;
        this.fail({ kind: "error", error: error instanceof Error ? error : new Error(String(error)) });
        this.release();
      },
    );
  }

  private fail(failure: BatchFailure): void {
    if (this.failed) return;
    this.abandon();
    this.options.onFailure(failure);
  }

  private release(): void {
    if (this.failed || this.inFlight < this.options.maxInFlight) {
      const waiters = this.waiters;
      this.waiters = [];
      for (const resolve of waiters) resolve();
    }
    if (this.failed || this.inFlight === 0) {
      const drained = this.drained;
      this.drained = [];
      for (const resolve of drained) resolve();
    }
  }
}
