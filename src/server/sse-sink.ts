import type { ServerResponse } from "node:http";
import type { Sink } from "./sink.js";

/** An SSE response as a Sink: `writableLength` is the backpressure signal, `drain` says it emptied. */
export class SseSink implements Sink {
  readonly format = "sse" as const;
  private draining: Promise<void> | null = null;

  constructor(
    private readonly res: ServerResponse,
    readonly maxBufferedBytes: number,
  ) {}

  get peer(): object {
    return this.res;
  }

  get open(): boolean {
    return !this.res.writableEnded && !this.res.destroyed;
  }

  send(data: Buffer | string): void {
    if (this.open) this.res.write(data);
  }

  bufferedBytes(): number {
    return this.res.writableLength;
  }

  drained(): Promise<void> {
    if (!this.open || this.res.writableLength === 0) return Promise.resolve();
    this.draining ??= new Promise<void>((resolve) => {
      const finish = (): void => {
        this.res.off("drain", finish);
        this.res.off("close", finish);
        this.draining = null;
        resolve();
      };
      this.res.once("drain", finish);
      this.res.once("close", finish);
    });
    return this.draining;
  }

  overflow(): void {
    this.res.end();
  }
}
