/** Anything the heartbeat keeps an eye on (a WebSocket session, an SSE response). */
export interface Beating {
  /** Called every interval: ping, or drop the client when the previous ping went unanswered. */
  beat(): void;
}

/**
 * One interval timer for every connection (no per-connection timers): at 10,000 clients that is one wake-up
 * per interval instead of 10,000.
 */
export class Heartbeat {
  private readonly members = new Set<Beating>();
  private timer: NodeJS.Timeout | null = null;

  constructor(readonly intervalMs: number) {}

  add(member: Beating): void {
    this.members.add(member);
    if (this.timer === null) {
      this.timer = setInterval(() => {
        for (const m of this.members) m.beat();
      }, this.intervalMs);
      this.timer.unref();
    }
  }

  delete(member: Beating): void {
    this.members.delete(member);
    if (this.members.size === 0 && this.timer !== null) {
      clearInterval(this.timer);
      this.timer = null;
    }
  }

  close(): void {
    this.members.clear();
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }
}
