import type { WebSocket } from "ws";
import { CloseCode } from "../protocol/errors.js";
import { type DeliveryOptions, Subscription } from "./delivery/subscription.js";
import type { Hub } from "./hub.js";
import { WsConnection } from "./ws-connection.js";
import { WsSink } from "./ws-sink.js";

/** The old endpoint sent the file's last 1000 characters, cut at a line start, when a client connected. */
const INITIAL_CHARS = 1000;
/** Lines looked at to fill those characters. */
const INITIAL_LINES = 200;

export interface CompatSessionOptions {
  maxBufferedBytes: number;
  delivery: DeliveryOptions;
  onClose: (session: CompatSession) => void;
  onHeartbeatTimeout: () => void;
}

/**
 * `WS /ws/audit` as the old dashboard expects it: raw text frames, first the recent whole lines that fit in
 * ~1000 characters, then every new whole line once. No JSON, no resume; a client too slow to keep up is closed
 * with 4008 (the text feed has no way to say "gap").
 */
export class CompatSession extends WsConnection {
  readonly transport = "ws-audit" as const;
  private closed = false;
  private subscription: Subscription | null = null;

  constructor(
    ws: WebSocket,
    private readonly hub: Hub,
    private readonly options: CompatSessionOptions,
  ) {
    super(ws, options.onHeartbeatTimeout);
  }

  async start(): Promise<void> {
    this.ws.on("message", () => this.markAlive());
    this.ws.on("close", () => this.dispose());
    const sink = new WsSink(this.ws, "text", this.options.maxBufferedBytes, () =>
      this.ws.close(CloseCode.slowClient, "slow client"),
    );
    const initial = await this.initial();
    if (this.closed) return;
    if (initial.exists) sink.send(initial.text);
    this.subscription = new Subscription(this.hub, sink, {
      delivery: this.options.delivery,
      // The text feed has no error frames: a subscription that ends by itself (read failure) ends the socket.
      onEnd: (reason) => this.ws.close(CloseCode.unreadable, closeReason(reason)),
    });
    await this.subscription.start(
      initial.cursor === null ? { announce: false } : { since: initial.cursor, announce: false },
    );
  }

  /** The recent whole lines that fit in INITIAL_CHARS, and the cursor after them. */
  private async initial(): Promise<{ exists: boolean; text: string; cursor: string | null }> {
    let lines: { text: string; c: string }[];
    let end: string | null;
    const recent = this.hub.windowTail(INITIAL_LINES);
    if (recent !== undefined) {
      lines = recent.map((l) => ({ text: l.text, c: l.cursor }));
      end = this.hub.cursor;
    } else {
      if (!(await this.hub.backend.info(null)).exists) return { exists: false, text: "", cursor: null };
      const tail = await this.hub.backend.tail(INITIAL_LINES);
      lines = tail.lines.map((l) => ({ text: l.text, c: l.cursor }));
      end = tail.cursor;
    }
    let text = "";
    for (let i = lines.length - 1; i >= 0; i--) {
      const line = lines[i] as { text: string };
      if (text.length + line.text.length + 1 > INITIAL_CHARS) break;
      text = `${line.text}\n${text}`;
    }
    const last = lines[lines.length - 1];
    return { exists: true, text, cursor: last === undefined ? end : last.c };
  }

  private dispose(): void {
    if (this.closed) return;
    this.closed = true;
    this.subscription?.close();
    this.options.onClose(this);
  }
}

/** A close reason is at most 123 bytes of UTF-8. */
function closeReason(reason: string): string {
  const bytes = Buffer.from(reason);
  return bytes.length <= 123
    ? reason
    : bytes
        .subarray(0, 120)
        .toString("utf8")
        .replace(/\uFFFD$/, "");
}
