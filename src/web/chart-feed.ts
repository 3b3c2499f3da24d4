import type { StreamStore } from "./store.js";

/**
 * Keeps the activity chart drawn from the store shown: it listens to that store's changes (the same way the
 * log view does) and redraws at most once per `minMs`, the last change always included, so a burst of batches
 * costs a few redraws and a quiet log shows its last line's minute.
 */

export interface ChartSink {
  update(store: StreamStore): void;
}

export class ChartFeed {
  private store: StreamStore | null = null;
  private unsubscribe: (() => void) | null = null;
  private timer: ReturnType<typeof setTimeout> | null = null;
  private drawnAt = Number.NEGATIVE_INFINITY;

  constructor(
    private readonly chart: ChartSink,
    private readonly minMs = 500,
    private readonly now: () => number = () => performance.now(),
  ) {}

  /** Draws `store` now and follows its changes from here on (and no longer the previous store's). */
  show(store: StreamStore): void {
    if (this.store !== store) {
      this.unsubscribe?.();
      this.store = store;
      this.unsubscribe = store.onChange(() => this.changed());
    }
    this.draw();
  }

  close(): void {
    this.unsubscribe?.();
    this.unsubscribe = null;
    this.store = null;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }

  private changed(): void {
    if (this.timer !== null) return;
    const wait = this.drawnAt + this.minMs - this.now();
    if (wait <= 0) this.draw();
    else
      this.timer = setTimeout(() => {
        this.timer = null;
        this.draw();
      }, wait);
  }

  private draw(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.drawnAt = this.now();
    if (this.store) this.chart.update(this.store);
  }
}
