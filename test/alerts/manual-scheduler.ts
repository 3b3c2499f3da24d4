import type { Scheduler } from "../../src/alerts/scheduler.js";

/** Time that moves only when the test says: timers run in time order as advance() passes them. */
export class ManualScheduler implements Scheduler {
  private timers: { atMs: number; seq: number; fn: () => void }[] = [];
  private seq = 0;

  constructor(private time = Date.UTC(2026, 11, 1, 12, 0, 0)) {}

  now(): number {
    return this.time;
  }

  at(atMs: number, fn: () => void): () => void {
    const timer = { atMs, seq: this.seq++, fn };
    this.timers.push(timer);
    return () => {
      this.timers = this.timers.filter((t) => t !== timer);
    };
  }

  /** Moves the clock forward by `ms`, running every timer that comes due on the way (also timers they set). */
  advance(ms: number): void {
    const target = this.time + ms;
    for (;;) {
      const due = this.timers
        .filter((t) => t.atMs <= target)
        .sort((a, b) => a.atMs - b.atMs || a.seq - b.seq)[0];
      if (due === undefined) break;
      this.timers = this.timers.filter((t) => t !== due);
      this.time = Math.max(this.time, due.atMs);
      due.fn();
    }
    this.time = target;
  }

  get pending(): number {
    return this.timers.length;
  }
}
