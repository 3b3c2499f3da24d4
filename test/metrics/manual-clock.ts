import type { FeedClock } from "../../src/server/metrics-feed.js";

/** A clock the test moves: `advance` sets the time and fires every interval that came due, in order. */
export class ManualClock implements FeedClock {
  private readonly timers = new Set<{ ms: number; next: number; fn: () => void }>();

  constructor(public t = 1_764_800_000_000) {}

  now(): number {
    return this.t;
  }

  every(ms: number, fn: () => void): () => void {
    const timer = { ms, next: this.t + ms, fn };
    this.timers.add(timer);
    return () => this.timers.delete(timer);
  }

  advance(ms: number): void {
    const until = this.t + ms;
    for (;;) {
      let due: { ms: number; next: number; fn: () => void } | undefined;
      for (const timer of this.timers)
        if (timer.next <= until && (!due || timer.next < due.next)) due = timer;
      if (!due) break;
      this.t = due.next;
      due.next += due.ms;
      due.fn();
    }
    this.t = until;
  }

  get timerCount(): number {
    return this.timers.size;
  }
}
