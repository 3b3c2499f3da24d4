/**
 * A few slots for catch-up reads from a stream's source, shared by all its subscriptions. Sixty clients that
 * each ask for a big catch-up at once would otherwise fill libuv's four I/O threads with history reads and the
 * live feed's own reads would queue behind them: the others' live lines were delayed by tens of milliseconds.
 * Catch-ups wait their turn instead (a read is one frame, ~256 KiB, so a turn is short).
 */
export class ReadGate {
  private active = 0;
  private readonly waiting: (() => void)[] = [];

  constructor(private readonly slots: number) {}

  async run<T>(read: () => Promise<T>): Promise<T> {
    if (this.active >= this.slots) await new Promise<void>((resolve) => this.waiting.push(resolve));
    else this.active++;
    try {
      return await read();
    } finally {
      const next = this.waiting.shift();
      if (next !== undefined) next();
      else this.active--;
    }
  }
}
