import type { Sink } from "../sink.js";

/**
 * How much one client may have queued: its sink's byte budget, in the manner of ws's Sender (`_bufferedBytes`).
 * A frame goes out only while the queue stays within the budget (one frame always goes to an empty queue), so a
 * client costs at most its budget plus one frame, whatever it asked for and however slowly it reads.
 */
export class SendBudget {
  constructor(private readonly sink: Sink) {}

  /** A frame of `bytes` can be queued now. */
  fits(bytes: number): boolean {
    const buffered = this.sink.bufferedBytes();
    return buffered === 0 || buffered + bytes <= this.sink.maxBufferedBytes;
  }

  /** Resolves true once a frame of `bytes` fits, false if the client went away first. */
  async room(bytes: number): Promise<boolean> {
    while (this.sink.open && !this.fits(bytes)) await this.sink.drained();
    return this.sink.open;
  }

  /** A live client whose queue holds a quarter of its budget: the promise resolves once it drains. */
  backedUp(): Promise<void> | null {
    if (!this.sink.open) return null;
    return this.sink.bufferedBytes() >= this.sink.maxBufferedBytes / 4 ? this.sink.drained() : null;
  }
}
