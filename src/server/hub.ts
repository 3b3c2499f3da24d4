import type { FeedEvent, GapReason, LiveFeed, StreamBackend } from "../backend/backend.js";
import type { Line } from "../core/line.js";
import type { ServerMessage } from "../protocol/messages.js";
import { ReadGate } from "./delivery/read-gate.js";
import { Batch, frameGroups } from "./frames.js";
import { RecentWindow } from "./recent-window.js";
import { warmHotPath } from "./warm-up.js";

export interface HubOptions {
  /** Recent lines kept in memory for instant catch-up (count and byte budget). */
  windowLines: number;
  windowBytes: number;
  /** A follower batch larger than this (source bytes) is sent as several frames. */
  maxFrameBytes: number;
  /** Non-fatal follower problems (I/O errors); the hub keeps going. */
  onError?: (stream: string, error: Error) => void;
  /** The host the stream's lines come from (`hello` tells clients, which group streams by it). */
  host?: string | undefined;
}

/** What the hub needs from anything that receives its stream (a WebSocket subscription, an SSE response). */
export interface HubSubscriber {
  /** Deliver one batch if live; returns the bytes queued for the client (0 when skipped). */
  onBatch(batch: Batch): number;
  /** A stream event; `generationChanged` means positions before it belong to another source (or content). */
  onEvent(message: ServerMessage, generationChanged: boolean): void;
  /** The subscriber threw while handling a batch or event: end it (the hub has already removed it). */
  abort(error: unknown): void;
  /** Null while it can take more now (or is not live); else a promise that resolves once its queue has drained. */
  pace(): Promise<void> | null;
}

/**
 * Something that sees every feed event of a stream in the same pass that feeds clients, before the clients do:
 * the sealer (integrity) and the alert rules. A tap must be quick and must not throw; one that throws is logged
 * through HubOptions.onError and stays attached (it is ours, not a client's).
 */
export interface FeedTap {
  onLines(hub: Hub, lines: readonly Line[]): void;
  onEvent(hub: Hub, event: Exclude<FeedEvent, { type: "lines" }>): void;
}

/** Catch-up reads from the source running at once per stream (see ReadGate). */
const CATCH_UP_READS = 1;

/** The longest the follower waits for a backed-up client before reading on (see Hub.pace). */
const PACE_MAX_WAIT_MS = 100;

export interface HubCounters {
  linesRead: number;
  linesSent: number;
  bytesSent: number;
  gaps: Map<GapReason, number>;
  slowClientCloses: number;
  /** Times a client fell behind and was caught up from the window or the source. */
  slowClientCatchUps: number;
}

/**
 * One stream: a single live feed from the backend shared by every subscriber, the recent window, and the fan-out.
 * Each batch is serialised once per format and the same buffer goes to every client.
 */
export class Hub {
  /** Incremented whenever positions stop being comparable (a reset, a feed gap). */
  generation = 0;
  /** Cursor after the last line read, null while the source does not exist. */
  cursor: string | null = null;
  lastChangeMs: number | null = null;
  private readonly window: RecentWindow;
  /** Turns for catch-up reads from the source, shared by every subscription of this stream. */
  readonly catchUpReads = new ReadGate(CATCH_UP_READS);
  readonly counters: HubCounters = {
    linesRead: 0,
    linesSent: 0,
    bytesSent: 0,
    gaps: new Map(),
    slowClientCloses: 0,
    slowClientCatchUps: 0,
  };
  private readonly subscribers = new Set<HubSubscriber>();
  private readonly taps = new Set<FeedTap>();
  private changeWaiters: (() => void)[] = [];
  private feed: LiveFeed | null = null;
  private isClosed = false;

  constructor(
    readonly name: string,
    readonly backend: StreamBackend,
    readonly isDefault: boolean,
    private readonly options: HubOptions,
  ) {
    this.window = new RecentWindow(options.windowLines, options.windowBytes, backend);
  }

  get closed(): boolean {
    return this.isClosed;
  }

  get host(): string | undefined {
    return this.options.host;
  }

  get clientCount(): number {
    return this.subscribers.size;
  }

  async start(): Promise<void> {
    warmHotPath();
    const feed = await this.backend.follow(
      { tail: this.options.windowLines, pace: () => this.pace() },
      (event) => this.onFeedEvent(event),
    );
    if (this.isClosed) {
      await feed.close();
      return;
    }
    this.feed = feed;
    if (this.cursor === null && feed.cursor !== null) this.cursor = feed.cursor;
  }

  add(subscriber: HubSubscriber): void {
    this.subscribers.add(subscriber);
  }

  remove(subscriber: HubSubscriber): void {
    this.subscribers.delete(subscriber);
  }

  /** Attach a tap; returns the function that detaches it. */
  tap(tap: FeedTap): () => void {
    this.taps.add(tap);
    return () => this.taps.delete(tap);
  }

  /**
   * Resolves at the next new generation or when the source first appears (or when the hub closes): for a
   * subscriber that found the source ahead of the feed and must not guess positions until the feed catches up.
   */
  nextChange(): Promise<void> {
    if (this.isClosed) return Promise.resolve();
    return new Promise((resolve) => this.changeWaiters.push(resolve));
  }

  /** The lines after `cursor` (of the feed's current source) held in memory, undefined when they are not all. */
  windowAfter(cursor: string): Line[] | undefined {
    return this.cursor === null ? undefined : this.window.after(cursor, this.cursor);
  }

  /** The last `n` lines, from memory; undefined when memory does not hold them all. */
  windowTail(n: number): Line[] | undefined {
    return this.cursor === null ? undefined : this.window.last(n);
  }

  /** Everything in memory and the cursor before it (null before the source exists). */
  windowAll(): { lines: Line[]; from: string | null } {
    const lines = this.window.last(this.window.size) ?? [];
    const first = lines[0];
    return { lines, from: first === undefined ? this.cursor : this.backend.cursorBefore(first) };
  }

  countGap(reason: GapReason): void {
    this.counters.gaps.set(reason, (this.counters.gaps.get(reason) ?? 0) + 1);
  }

  async close(): Promise<void> {
    if (this.isClosed) return;
    this.isClosed = true;
    this.subscribers.clear();
    this.wakeChangeWaiters();
    await this.feed?.close();
  }

  /**
   * Between the chunks of a burst: read on (null) while some live subscriber can take more, or there is none;
   * else wait until one of them drains, at most PACE_MAX_WAIT_MS. A burst then flows at the pace of the fastest
   * reader instead of piling up in every queue until the clients fall behind and are caught up from the file
   * (which reads it twice); clients that stay stalled hold the stream back by at most that per chunk.
   */
  private pace(): Promise<void> | null {
    const waits: Promise<void>[] = [];
    for (const subscriber of this.subscribers) {
      const wait = subscriber.pace();
      if (wait === null) return null;
      waits.push(wait);
    }
    if (waits.length === 0) return null;
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, PACE_MAX_WAIT_MS);
      const done = (): void => {
        clearTimeout(timer);
        resolve();
      };
      for (const wait of waits) void wait.then(done);
    });
  }

  private onFeedEvent(event: FeedEvent): void {
    if (this.isClosed) return;
    for (const tap of this.taps) {
      try {
        if (event.type === "lines") tap.onLines(this, event.lines);
        else tap.onEvent(this, event);
      } catch (error) {
        this.options.onError?.(this.name, error instanceof Error ? error : new Error(String(error)));
      }
    }
    switch (event.type) {
      case "lines":
        this.onLines(event.lines);
        return;
      case "reset":
        this.newGeneration(event.cursor, true);
        this.broadcast({ type: event.reason, stream: this.name, cursor: event.cursor }, true);
        return;
      case "gap": {
        this.newGeneration(event.to, false);
        this.countGap(event.reason);
        const { reason, from, to, skipped } = event;
        const message: ServerMessage = { type: "gap", stream: this.name, reason, from, to };
        if (skipped !== undefined) message.skipped = skipped;
        this.broadcast(message, true);
        return;
      }
      case "missing":
        this.lastChangeMs = Date.now();
        this.broadcast({ type: "missing", stream: this.name }, false);
        return;
      case "exited": {
        const { code, signal, cursor, restartInMs } = event;
        this.broadcast({ type: "exited", stream: this.name, code, signal, cursor, restartInMs }, false);
        return;
      }
      case "error":
        this.options.onError?.(this.name, event.error);
        return;
    }
  }

  private onLines(lines: readonly Line[]): void {
    if (lines.length === 0) return;
    this.window.push(lines);
    const appeared = this.cursor === null;
    this.cursor = (lines[lines.length - 1] as Line).cursor;
    this.lastChangeMs = Date.now();
    this.counters.linesRead += lines.length;
    if (appeared) {
      // The first lines of a source that did not exist: catch-ups that found it before the feed did may go on.
      this.generation++;
      this.wakeChangeWaiters();
    }
    for (const group of frameGroups(lines, this.options.maxFrameBytes, this.continues)) {
      const batch = new Batch(this.name, group);
      let delivered = 0;
      let bytes = 0;
      for (const subscriber of this.subscribers) {
        let sent: number;
        try {
          sent = subscriber.onBatch(batch);
        } catch (error) {
          this.drop(subscriber, error);
          continue;
        }
        if (sent > 0) {
          delivered++;
          bytes += sent;
        }
      }
      this.counters.linesSent += delivered * batch.count;
      this.counters.bytesSent += bytes;
    }
  }

  private readonly continues = (prev: Line, next: Line): boolean => this.backend.continues(prev, next);

  private newGeneration(cursor: string, fromStart: boolean): void {
    this.generation++;
    this.cursor = cursor;
    this.window.reset(cursor, fromStart);
    this.lastChangeMs = Date.now();
    this.wakeChangeWaiters();
  }

  private wakeChangeWaiters(): void {
    const waiters = this.changeWaiters;
    this.changeWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private broadcast(message: ServerMessage, generationChanged: boolean): void {
    for (const subscriber of this.subscribers) {
      try {
        subscriber.onEvent(message, generationChanged);
      } catch (error) {
        this.drop(subscriber, error);
      }
    }
  }

  /** One subscriber's failure must not stop delivery to the others: end that one only. */
  private drop(subscriber: HubSubscriber, error: unknown): void {
    this.subscribers.delete(subscriber);
    try {
      subscriber.abort(error);
    } catch {
      // Already removed; nothing more can be done for it.
    }
  }
}
