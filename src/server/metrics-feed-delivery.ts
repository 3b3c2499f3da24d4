import type { MetricsChannel } from "./metrics-feed.js";
import type { Sink } from "./sink.js";

/** Seconds of history a `metrics-subscribe` without `history` gets: the full-resolution hour. */
export const DEFAULT_METRICS_HISTORY = 3600;

/**
 * One socket's metrics subscription. Everything goes out within the socket's queue budget, as lines frames do: a
 * sample that would push the queue past it is skipped (the next one may fit), and a snapshot that does not fit is
 * sent once the queue has drained, built then, so it also stands for the samples skipped meanwhile.
 */
export class MetricsDelivery {
  private stops: (() => void)[] = [];
  private historySeconds = DEFAULT_METRICS_HISTORY;
  private waitingToDrain = false;
  /** Samples not sent because the client was behind (for tests and the session's owner). */
  skipped = 0;

  constructor(
    private readonly sink: Sink,
    private readonly feeds: readonly MetricsChannel[],
  ) {}

  get active(): boolean {
    return this.stops.length > 0;
  }

  /** Starts (or restarts, with a fresh snapshot) the subscription. */
  subscribe(historySeconds = DEFAULT_METRICS_HISTORY): void {
    this.unsubscribe();
    this.historySeconds = historySeconds;
    for (const feed of this.feeds) this.stops.push(feed.listen((message) => this.onSample(message)));
    this.sendSnapshots();
  }

  unsubscribe(): void {
    for (const stop of this.stops) stop();
    this.stops = [];
  }

  private fits(data: string): boolean {
    const queued = this.sink.bufferedBytes();
    return queued === 0 || queued + Buffer.byteLength(data) <= this.sink.maxBufferedBytes;
  }

  private onSample(message: string): void {
    if (!this.waitingToDrain && this.fits(message)) this.sink.send(message);
    else this.skipped++;
  }

  private sendSnapshots(): void {
    for (const feed of this.feeds) {
      const snapshot = feed.snapshot(this.historySeconds, this.sink.maxBufferedBytes);
      if (this.fits(snapshot)) {
        this.sink.send(snapshot);
        continue;
      }
      this.waitingToDrain = true;
      void this.sink.drained().then(() => {
        this.waitingToDrain = false;
        if (this.active && this.sink.open) this.sendSnapshots();
      });
      return;
    }
  }
}
