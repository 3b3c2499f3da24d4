import { type HistoryLimits, MetricsHistory } from "../metrics/history.js";
import type { MetricsSource, TimedSample } from "../metrics/source.js";

/** Time for the feed, injectable so tests drive the sampling without waiting. */
export interface FeedClock {
  now(): number;
  /** Calls `fn` every `ms` until the returned function is called. */
  every(ms: number, fn: () => void): () => void;
}

export const systemClock: FeedClock = {
  now: () => Date.now(),
  every(ms, fn) {
    const timer = setInterval(fn, ms);
    timer.unref();
    return () => clearInterval(timer);
  },
};

export interface MetricsFeedOptions {
  intervalMs: number;
  clock?: FeedClock;
  limits?: HistoryLimits;
  /** A sampling failure (reported when it starts and when its message changes, not every interval). */
  onError?: (error: Error) => void;
}

/** What a socket sees of a feed, whatever its sample shape. */
export interface MetricsChannel {
  /** The source's name (the messages' `source`). */
  readonly name: string;
  readonly intervalMs: number;
  listen(listener: (message: string) => void): () => void;
  snapshot(seconds: number, maxBytes?: number): string;
}

/**
 * One source sampled every interval whether or not anyone listens (its history must not have holes), each sample
 * serialised once into the `metrics` message every listening socket is handed. Sockets that did not subscribe
 * cost nothing.
 */
export class MetricsFeed<S extends TimedSample = TimedSample> implements MetricsChannel {
  readonly history: MetricsHistory<S>;
  private readonly listeners = new Set<(message: string) => void>();
  private readonly clock: FeedClock;
  private stopTimer: (() => void) | null = null;
  private sampling = false;
  private lastError: string | null = null;
  private readonly prefix: string;

  constructor(
    readonly source: MetricsSource<S>,
    private readonly options: MetricsFeedOptions,
  ) {
    this.clock = options.clock ?? systemClock;
    this.history = new MetricsHistory((samples, t) => source.combine(samples, t), options.limits);
    this.prefix = `{"type":"metrics","source":${JSON.stringify(source.name)},"sample":`;
  }

  get name(): string {
    return this.source.name;
  }

  get intervalMs(): number {
    return this.options.intervalMs;
  }

  get listenerCount(): number {
    return this.listeners.size;
  }

  /** Takes the first reading now (rates start with the second), then one every interval. */
  start(): Promise<void> {
    this.stopTimer ??= this.clock.every(this.options.intervalMs, () => void this.tick());
    return this.tick();
  }

  /** One sampling round; a round still running when the next is due makes that one skip (a slow disk). */
  async tick(): Promise<void> {
    if (this.sampling) return;
    this.sampling = true;
    try {
      const sample = await this.source.sample(this.clock.now());
      this.lastError = null;
      if (sample === null) return;
      const message = `${this.prefix}${this.history.push(sample)}}`;
      for (const listener of this.listeners) listener(message);
    } catch (error) {
      const e = error instanceof Error ? error : new Error(String(error));
      if (e.message !== this.lastError) this.options.onError?.(e);
      this.lastError = e.message;
    } finally {
      this.sampling = false;
    }
  }

  /** Each new sample's `metrics` message until the returned function is called. */
  listen(listener: (message: string) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /**
   * The `metrics-snapshot` message: the history of the last `seconds` (JSON joined, not re-serialised), the
   * oldest samples left out where it would pass `maxBytes` (the client's queue budget).
   */
  snapshot(seconds: number, maxBytes = Number.POSITIVE_INFINITY): string {
    const { minutes, seconds: fine } = this.history.since(this.clock.now() - seconds * 1000);
    let bytes = 200;
    for (const list of [fine, minutes]) {
      // Newest first: what is kept is the most recent part of the history.
      for (let i = list.length - 1; i >= 0; i--) {
        bytes += (list[i] as string).length + 1;
        if (bytes > maxBytes) {
          list.splice(0, i + 1);
          if (list === fine) minutes.length = 0;
          break;
        }
      }
      if (bytes > maxBytes) break;
    }
    return `{"type":"metrics-snapshot","source":${JSON.stringify(this.source.name)},"intervalMs":${this.options.intervalMs},"minutes":[${minutes.join(",")}],"seconds":[${fine.join(",")}]}`;
  }

  close(): void {
    this.stopTimer?.();
    this.stopTimer = null;
    this.listeners.clear();
  }
}
