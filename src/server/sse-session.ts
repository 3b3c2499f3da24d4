import type { ServerResponse } from "node:http";
import type { Connection } from "./connections.js";
import { type DeliveryOptions, type StartRequest, Subscription } from "./delivery/subscription.js";
import type { Beating } from "./heartbeat.js";
import type { Hub } from "./hub.js";
import { SseSink } from "./sse-sink.js";

export interface SseSessionOptions {
  maxBufferedBytes: number;
  delivery: DeliveryOptions;
  /** Client reconnect delay suggested in the stream (`retry:`). */
  retryMs: number;
  onClose: (session: SseSession) => void;
}

const HEARTBEAT = ": hb\n\n";

/**
 * One stream as Server-Sent Events, the transport (its Subscription delivers): each line is an event whose `id` is its cursor, so a browser's automatic
 * reconnect (Last-Event-ID) resumes exactly after the last line it saw.
 */
export class SseSession implements Connection, Beating {
  readonly transport = "sse" as const;
  private closed = false;
  private readonly subscription: Subscription;

  constructor(
    private readonly res: ServerResponse,
    hub: Hub,
    private readonly options: SseSessionOptions,
  ) {
    this.subscription = new Subscription(hub, new SseSink(res, options.maxBufferedBytes), {
      delivery: options.delivery,
      onEnd: () => this.res.end(),
    });
  }

  start(request: StartRequest): Promise<void> {
    this.res.on("close", () => this.dispose());
    this.res.writeHead(200, {
      "content-type": "text/event-stream; charset=utf-8",
      "cache-control": "no-cache, no-transform",
      connection: "keep-alive",
      // nginx and friends: do not buffer the stream.
      "x-accel-buffering": "no",
    });
    this.res.write(`retry: ${this.options.retryMs}\n\n`);
    return this.subscription.start(request);
  }

  beat(): void {
    // A comment line: keeps proxies from timing the stream out; ignored by EventSource.
    if (!this.closed && this.res.writableLength === 0) this.res.write(HEARTBEAT);
  }

  close(): void {
    this.res.end();
  }

  terminate(): void {
    this.res.destroy();
  }

  bufferedBytes(): number {
    return this.res.writableLength;
  }

  private dispose(): void {
    if (this.closed) return;
    this.closed = true;
    this.subscription.close();
    this.options.onClose(this);
  }
}
