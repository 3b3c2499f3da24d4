import type { Line } from "../../core/line.js";
import type { ServerMessage } from "../../protocol/messages.js";
import { clientErrorOf } from "../client-errors.js";
import { Batch, controlFrame, frameGroups } from "../frames.js";
import type { Hub, HubSubscriber } from "../hub.js";
import { tallyLines } from "../logging/session-tally.js";
import type { Sink } from "../sink.js";
import { CatchUp, type CatchUpHost, type Encoded, type Planned } from "./catch-up.js";
import { SendBudget } from "./send-budget.js";

/**
 * What happens when a client's queue passes its limit: "catch-up" stops live delivery and, once the client has
 * drained, sends what it missed from the recent window or the source at the client's pace, then rejoins live (no
 * gap while the source still holds the lines); "gap" tells the client what it missed with a `gap` message (the
 * compat text feed, which cannot say that, is closed with 4008).
 */
export type SlowClientPolicy = "catch-up" | "gap";

/** How every subscription delivers: built once by the server and handed to every session. */
export interface DeliveryOptions {
  slowClients: SlowClientPolicy;
  /** Lines per history read while catching up from the source. */
  catchUpChunkLines: number;
  /** Source bytes per catch-up frame, and so per catch-up read (live frames are the hub's). */
  catchUpFrameBytes: number;
}

export interface SubscriptionOptions {
  delivery: DeliveryOptions;
  /** Echoed in `subscribed` and errors. */
  id?: string;
  /** Called once when the subscription ends by itself (read error, overflow), with why, so its owner can forget it. */
  onEnd?: (reason: string) => void;
}

export interface StartRequest {
  /** Resume after this cursor (already checked to be one of the stream's). */
  since?: string;
  /** Start with the last N lines. Neither: live lines from now on. */
  tail?: number;
  /** Send `subscribed` / `live` (the compat text feed has no such messages). Default true. */
  announce?: boolean;
}

/**
 * The states of a subscription. catching-up: a CatchUp run owns delivery (tail, resume, or after falling behind);
 * live: each hub batch goes out as it comes; behind: the queue passed its budget, batches are skipped until the
 * client drains; closed.
 */
type State = "catching-up" | "live" | "behind" | "closed";

/**
 * One client's view of one stream: what it has been sent, and what it is owed. Transports (WsSession,
 * SseSession, CompatSession) own the socket; this delivers to it through a Sink. Exactly once: the catch-up
 * switches to live at a position the window covers, lines read ahead of the feed are skipped when they arrive
 * live, and a client that fell behind is caught up from where it was (or told of the gap).
 */
export class Subscription implements HubSubscriber, CatchUpHost {
  private state: State = "catching-up";
  /** Cursor after the last line (or event) delivered; where a reconnect should resume. */
  lastCursor: string | null = null;
  /** Lines up to this cursor were already delivered from the source: skip them when they arrive live. */
  private skipThrough: string | null = null;
  private behindFrom: string | null = null;
  private skipped = 0;
  private announce = true;
  readonly budget: SendBudget;

  constructor(
    private readonly hub: Hub,
    private readonly sink: Sink,
    private readonly options: SubscriptionOptions,
  ) {
    this.budget = new SendBudget(sink);
  }

  get stream(): string {
    return this.hub.name;
  }

  /** The subscription or its client is gone (a getter, so checks after an await are not narrowed away). */
  get ended(): boolean {
    return this.state === "closed" || !this.sink.open;
  }

  /** Never rejects: failures reach the client as an error frame and end the subscription. */
  async start(request: StartRequest): Promise<void> {
    this.hub.add(this);
    this.announce = request.announce !== false;
    const catchUp = this.newCatchUp();
    try {
      // A cursor the backend refuses is refused before `subscribed` (one of another file is fine: it is a gap).
      let planned: Planned | undefined;
      if (request.since !== undefined) planned = await catchUp.plan(request.since);
      if (this.ended) return;
      if (this.announce) {
        this.control(this.withId({ type: "subscribed", stream: this.stream, cursor: request.since ?? null }));
      }
      if (request.since !== undefined) await catchUp.fromCursor(request.since, planned);
      else if (request.tail !== undefined && request.tail > 0) await catchUp.fromTail(request.tail);
      else this.goLive(this.hub.cursor, null);
    } catch (error) {
      this.fail(error);
    }
  }

  onBatch(batch: Batch): number {
    if (this.state === "behind") {
      this.skipped += batch.count;
      return 0;
    }
    if (this.state !== "live") return 0;
    let b: Batch | null = batch;
    if (this.skipThrough !== null) {
      b = batch.after(this.skipThrough, this.compare);
      if (b === null) return 0;
      this.skipThrough = null;
    }
    const frame = b.frame(this.sink.format);
    if (!this.budget.fits(frame.length)) {
      this.fallBehind(b.count);
      return 0;
    }
    this.sink.send(frame);
    tallyLines(this.sink.peer, this.stream, b.count);
    this.lastCursor = b.lastCursor;
    return frame.length;
  }

  /** A live client whose queue holds a quarter of its budget asks the hub to wait until it drains. */
  pace(): Promise<void> | null {
    return this.state === "live" ? this.budget.backedUp() : null;
  }

  onEvent(message: ServerMessage, generationChanged: boolean): void {
    if (this.state !== "live") return; // a catch-up notices the new generation itself; a gap covers "behind"
    if (generationChanged) this.skipThrough = null;
    this.control(message);
    if (message.type === "truncated" || message.type === "rotated" || message.type === "restarted") {
      this.lastCursor = message.cursor;
    } else if (message.type === "gap") this.lastCursor = message.to;
  }

  abort(error: unknown): void {
    try {
      this.fail(error);
    } finally {
      this.end(String(error));
    }
  }

  /** Idempotent; does not notify `onEnd` (the owner is the one closing). */
  close(): void {
    if (this.state === "closed") return;
    this.state = "closed";
    this.hub.remove(this);
  }

  // ---- CatchUpHost ----

  sendFitting(lines: readonly Line[]): { sent: number; blocked: number } {
    if (this.ended) return { sent: 0, blocked: 0 };
    let sent = 0;
    for (const group of frameGroups(lines, this.options.delivery.catchUpFrameBytes, this.continues)) {
      const batch = new Batch(this.stream, group);
      const frame = batch.frame(this.sink.format);
      if (!this.budget.fits(frame.length)) return { sent, blocked: frame.length };
      this.send({ frame, lastCursor: batch.lastCursor, count: batch.count });
      sent += batch.count;
    }
    return { sent, blocked: 0 };
  }

  encode(lines: readonly Line[]): Encoded[] {
    return frameGroups(lines, this.options.delivery.catchUpFrameBytes, this.continues).map((group) => {
      const batch = new Batch(this.stream, group);
      return { frame: batch.frame(this.sink.format), lastCursor: batch.lastCursor, count: batch.count };
    });
  }

  send({ frame, lastCursor, count }: Encoded): void {
    if (this.ended) return;
    this.sink.send(frame);
    tallyLines(this.sink.peer, this.stream, count);
    this.lastCursor = lastCursor;
    this.hub.counters.linesSent += count;
    this.hub.counters.bytesSent += frame.length;
  }

  goLive(cursor: string | null, skipThrough: string | null): void {
    if (this.ended) return;
    const first = this.state === "catching-up" && this.announce;
    this.state = "live";
    this.skipThrough = skipThrough;
    this.lastCursor = cursor;
    if (first) this.control({ type: "live", stream: this.stream, cursor });
    this.announce = false;
  }

  control(message: ServerMessage): void {
    if (!this.sink.open) return;
    const frame = controlFrame(this.sink.format, message);
    if (frame !== null) this.sink.send(frame);
  }

  // ---- falling behind ----

  private fallBehind(count: number): void {
    const catchUp = this.options.delivery.slowClients !== "gap" && this.lastCursor !== null;
    if (!catchUp && this.sink.format === "text") {
      this.hub.counters.slowClientCloses++;
      this.sink.overflow();
      this.end("slow client");
      return;
    }
    this.state = "behind";
    this.behindFrom = this.lastCursor;
    this.skipped = count;
    void this.sink.drained().then(() => (catchUp ? this.catchUpAfterBehind() : this.gapAfterBehind()));
  }

  /** Drained: deliver what the client missed (window or source), then rejoin live, as a resume would. */
  private async catchUpAfterBehind(): Promise<void> {
    if (this.state !== "behind" || this.ended || this.behindFrom === null) return;
    this.state = "catching-up";
    this.skipThrough = null;
    this.hub.counters.slowClientCatchUps++;
    try {
      await this.newCatchUp().fromCursor(this.behindFrom);
    } catch (error) {
      this.fail(error);
    }
  }

  private gapAfterBehind(): void {
    if (this.state !== "behind" || this.ended) return;
    this.state = "live";
    this.skipThrough = null;
    const to = this.hub.cursor ?? this.behindFrom;
    if (to === null) return;
    this.hub.countGap("slow-client");
    this.control({
      type: "gap",
      stream: this.stream,
      reason: "slow-client",
      from: this.behindFrom,
      to,
      skipped: this.skipped,
    });
    this.lastCursor = to;
  }

  // ---- helpers ----

  private newCatchUp(): CatchUp {
    const { catchUpChunkLines, catchUpFrameBytes } = this.options.delivery;
    return new CatchUp(this.hub, this, { chunkLines: catchUpChunkLines, frameBytes: catchUpFrameBytes });
  }

  private readonly compare = (a: string, b: string): number => this.hub.backend.compare(a, b);
  private readonly continues = (prev: Line, next: Line): boolean => this.hub.backend.continues(prev, next);

  /** A read failed (or the cursor turned out bad): tell the client and end the subscription. */
  private fail(error: unknown): void {
    if (this.state === "closed") return;
    const { ws, message } = clientErrorOf(error);
    this.control(this.withId({ type: "error", code: ws, message, stream: this.stream }));
    this.end(message);
  }

  private end(reason: string): void {
    if (this.state === "closed") return;
    this.close();
    this.options.onEnd?.(reason);
  }

  private withId<M extends ServerMessage>(message: M): M {
    return this.options.id === undefined ? message : { ...message, id: this.options.id };
  }
}
