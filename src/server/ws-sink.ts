import { WebSocket } from "ws";
import type { Format } from "./frames.js";
import type { Sink } from "./sink.js";

const TEXT_FRAME = { binary: false } as const;
const BINARY_FRAME = { binary: true } as const;

/**
 * A WebSocket as a Sink: strings are sent as text frames, and so are encoded lines unless the format is
 * "binary" (binary lines frames); `bufferedAmount` is the backpressure signal.
 */
export class WsSink implements Sink {
  private draining: Promise<void> | null = null;

  constructor(
    private readonly ws: WebSocket,
    readonly format: Format,
    readonly maxBufferedBytes: number,
    private readonly onOverflow: () => void,
  ) {}

  get peer(): object {
    return this.ws;
  }

  get open(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  send(data: Buffer | string): void {
    if (!this.open) return;
    this.ws.send(data, this.format === "binary" && typeof data !== "string" ? BINARY_FRAME : TEXT_FRAME);
  }

  bufferedBytes(): number {
    return this.ws.bufferedAmount;
  }

  drained(): Promise<void> {
    if (!this.open || this.ws.bufferedAmount === 0) return Promise.resolve();
    // A ping queued behind everything else: its write callback runs once all earlier bytes reached the OS.
    this.draining ??= new Promise<void>((resolve) => {
      let done = false;
      const finish = (): void => {
        if (done) return;
        done = true;
        this.draining = null;
        this.ws.off("close", finish);
        resolve();
      };
      this.ws.once("close", finish);
      this.ws.ping(undefined, undefined, finish);
    });
    return this.draining;
  }

  overflow(): void {
    this.onOverflow();
  }
}
