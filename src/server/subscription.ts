import { isMissing } from "../core/file-identity.js";
import type { Line } from "../core/line.js";
import type { ServerMessage } from "../protocol/messages.js";
import { Batch, controlFrame, splitByBytes, toWindowLine, type WindowLine } from "./frames.js";
import type { Hub, HubSubscriber } from "./hub.js";
import type { Sink } from "./sink.js";

/**
 * What happens when a client's queue passes its limit: "catch-up" stops live delivery and, once the client has
 * drained, sends what it missed from the recent window or the source at the client's pace, then rejoins live (no
 * gap while the source still holds the lines); "gap" tells the client what it missed with a `gap` message (the
 * compat text feed, which cannot say that, is closed with 4008).
 */
export type SlowClientPolicy = "catch-up" | "gap";

export interface SubscriptionOptions {
  /** Default "catch-up". */
  slowClient?: SlowClientPolicy;
  /** Lines per history read while catching up from the source. */
  catchUpChunkLines: number;
  /** Source bytes per frame while catching up. */
  maxFrameBytes: number;
  /** Echoed in `subscribed` and errors. */
  id?: string;
  /** Called once when the subscription ends by itself (read error, overflow), so its owner can forget it. */
  onEnd?: () => void;
}

export interface StartRequest {
  /** Resume after this cursor (already checked to be well formed). */
  since?: string;
  /** Start with the last N lines. Neither: live lines from now on. */
  tail?: number;
  /** Send `subscribed` / `live` (the compat text feed has no such messages). Default true. */
  announce?: boolean;
}

type State = "starting" | "live" | "behind" | "closed";

/**
 * One client's view of one stream. Starts by catching up (tail or resume: from the hub's recent window when it
 * holds the lines, else from the source), then switches to live batches without a gap or a duplicate: the switch
 * happens synchronously at a position the window covers, and lines read from the source beyond the hub's position
 * are skipped when they arrive live. Live delivery stops when the client's queued bytes pass the sink's limit; once
 * drained, the client gets a `gap` naming what it missed and live delivery resumes.
 */
export class Subscription implements HubSubscriber {
  private state: State = "starting";
  /** Cursor after the last line (or event) delivered; where a reconnect should resume. */
  lastCursor: string | null = null;
  /** Lines ending at or before this position were already delivered from the source. */
  private skipThrough: number | null = null;
  private behindFrom: string | null = null;
  private skipped = 0;

  constructor(
    private readonly hub: Hub,
    private readonly sink: Sink,
    private readonly options: SubscriptionOptions,
  ) {}

  /** A getter, so checks after an await are not narrowed away by the compiler. */
  private get closed(): boolean {
    return this.state === "closed";
  }

  get stream(): string {
    return this.hub.name;
  }

  /** Never rejects: failures reach the client as an error frame and end the subscription. */
  async start(request: StartRequest): Promise<void> {
    this.hub.add(this);
    if (request.announce !== false) {
      this.control(this.withId({ type: "subscribed", stream: this.stream, cursor: request.since ?? null }));
    }
    const announce = request.announce !== false;
    try {
      if (request.since !== undefined) await this.resume(request.since, announce);
      else if (request.tail !== undefined && request.tail > 0) await this.fromTail(request.tail, announce);
      else this.goLive(this.hub.cursor, announce);
    } catch (error) {
      this.fail(error);
    }
  }

  /** A read failed (or the cursor turned out bad): tell the client and end the subscription. */
  private fail(error: unknown): void {
    if (this.closed) return;
    const message = error instanceof Error ? error.message : String(error);
    const code = error instanceof Error && error.name === "CursorError" ? "bad_cursor" : "read_failed";
    this.control(this.withId({ type: "error", code, message, stream: this.stream }));
    this.end();
  }

  onBatch(batch: Batch): number {
    if (this.state === "behind") {
      this.skipped += batch.count;
      return 0;
    }
    if (this.state !== "live") return 0;
    let b = batch;
    if (this.skipThrough !== null) {
      if (batch.last <= this.skipThrough) return 0;
      if (batch.first < this.skipThrough) b = batch.after(this.skipThrough);
      this.skipThrough = null;
    }
    const frame = b.frame(this.sink.format);
    const buffered = this.sink.bufferedBytes();
    if (buffered > 0 && buffered + frame.length > this.sink.maxBufferedBytes) {
      this.fallBehind(b.count);
      return 0;
    }
    this.sink.send(frame);
    this.lastCursor = b.lastCursor;
    return frame.length;
  }

  onEvent(message: ServerMessage, generationChanged: boolean): void {
    if (this.state !== "live") return; // catch-up notices the new generation itself; a gap covers "behind"
    if (generationChanged) this.skipThrough = null;
    this.control(message);
    if (message.type === "truncated" || message.type === "rotated") this.lastCursor = message.cursor;
    else if (message.type === "gap") this.lastCursor = message.to;
  }

  /** Idempotent; does not notify `onEnd` (the owner is the one closing). */
  close(): void {
    if (this.closed) return;
    this.state = "closed";
    this.hub.remove(this);
  }

  private end(): void {
    if (this.closed) return;
    this.close();
    this.options.onEnd?.();
  }

  private async fromTail(n: number, announce: boolean): Promise<void> {
    const generation = this.hub.generation;
    const position = this.hub.position;
    if (position !== null) {
      const recent = this.hub.window.last(n);
      if (recent !== undefined) {
        this.sendLines(recent);
        this.goLive(this.hub.cursor, announce);
        return;
      }
    }
    let result: Awaited<ReturnType<typeof this.hub.backend.tail>>;
    try {
      result = await this.hub.backend.tail(n);
    } catch (error) {
      if (!isMissing(error)) throw error;
      if (this.closed) return;
      // No file yet: nothing to catch up; its lines arrive live once it appears.
      this.control({ type: "missing", stream: this.stream });
      this.goLive(null, announce);
      return;
    }
    if (this.closed) return;
    this.sendLines(result.lines.map(toWindowLine));
    if (result.lines.length === 0 && this.hub.position === null) {
      this.goLive(null, announce);
      return;
    }
    await this.catchUp(result.cursor, generation, announce);
  }

  /** Checks that `since` names the current source before reading from it; else says so with a gap. */
  private async resume(since: string, announce: boolean): Promise<void> {
    for (;;) {
      const generation = this.hub.generation;
      const where = await this.hub.backend.locate(since);
      if (this.closed) return;
      if (this.hub.generation !== generation) continue;
      if (where === "same") return this.catchUp(since, generation, announce);
      const start = await this.hub.backend.startCursor();
      if (this.closed) return;
      if (this.hub.generation !== generation) continue;
      if (start === null) {
        // Nothing to continue from yet: the source is gone; new lines arrive live when it reappears.
        this.control({ type: "missing", stream: this.stream });
        this.goLive(null, announce);
        return;
      }
      const reason = where === "changed" ? "file-changed" : "file-gone";
      this.hub.countGap(reason);
      this.control({ type: "gap", stream: this.stream, reason, from: since, to: start });
      return this.catchUp(start, generation, announce);
    }
  }

  private async catchUp(cursor: string, generation: number, announce: boolean): Promise<void> {
    const backend = this.hub.backend;
    let current = cursor;
    for (;;) {
      // A socket that is closing needs no more history.
      if (this.closed || !this.sink.open) return;
      if (this.hub.generation !== generation) return this.resume(current, announce);
      const position = backend.positionOf(current);
      const hubPosition = this.hub.position;
      if (hubPosition !== null) {
        const recent = this.hub.window.after(position, hubPosition);
        if (recent !== undefined) {
          this.sendLines(recent);
          const last = recent[recent.length - 1];
          this.goLive(last === undefined ? current : last.wire.c, announce);
          return;
        }
        if (position > hubPosition) {
          // We read lines straight from the source that the follower has not emitted yet: skip them when they do.
          this.skipThrough = position;
          this.goLive(current, announce);
          return;
        }
      }
      let lines: Line[];
      let next: string;
      try {
        ({ lines, cursor: next } = await backend.readAfter(current, this.options.catchUpChunkLines));
      } catch (error) {
        if (!(error instanceof Error) || error.name !== "StaleCursorError") throw error;
        if (this.closed) return;
        if (this.hub.generation !== generation) return this.resume(current, announce);
        // Same file, but it no longer reaches our position: truncated under us.
        return this.restartFromStart(current, generation, announce);
      }
      if (this.closed) return;
      if (lines.length === 0) {
        if (this.hub.generation !== generation) return this.resume(current, announce);
        if (hubPosition === null || backend.positionOf(next) >= hubPosition) {
          this.skipThrough = backend.positionOf(next);
          this.goLive(next, announce);
          return;
        }
        // The source ends before what the hub already read: it shrank; the hub will report the truncation.
        return this.restartFromStart(current, generation, announce);
      }
      this.sendLines(lines.map(toWindowLine));
      current = next;
      if (this.sink.bufferedBytes() > this.sink.maxBufferedBytes / 2) await this.sink.drained();
    }
  }

  private async restartFromStart(from: string, generation: number, announce: boolean): Promise<void> {
    const start = await this.hub.backend.startCursor();
    if (this.closed) return;
    if (start === null) {
      this.control({ type: "missing", stream: this.stream });
      this.goLive(null, announce);
      return;
    }
    this.hub.countGap("truncated");
    this.control({ type: "gap", stream: this.stream, reason: "truncated", from, to: start });
    return this.catchUp(start, generation, announce);
  }

  private goLive(cursor: string | null, announce: boolean): void {
    if (this.closed) return;
    this.state = "live";
    this.lastCursor = cursor;
    if (announce) this.control({ type: "live", stream: this.stream, cursor });
  }

  /** Catch-up lines: serialised for this client only, split into bounded frames. */
  private sendLines(lines: readonly WindowLine[]): void {
    if (lines.length === 0 || !this.sink.open) return;
    for (const group of splitByBytes(lines, this.options.maxFrameBytes)) {
      const batch = new Batch(this.stream, group);
      const frame = batch.frame(this.sink.format);
      this.sink.send(frame);
      this.lastCursor = batch.lastCursor;
      this.hub.counters.linesSent += batch.count;
      this.hub.counters.bytesSent += frame.length;
    }
  }

  private fallBehind(count: number): void {
    const catchUp = this.options.slowClient !== "gap" && this.lastCursor !== null;
    if (!catchUp && this.sink.format === "text") {
      this.hub.counters.slowClientCloses++;
      this.sink.overflow();
      this.end();
      return;
    }
    this.state = "behind";
    this.behindFrom = this.lastCursor;
    this.skipped = count;
    void this.sink.drained().then(() => (catchUp ? this.catchUpAfterBehind() : this.gapAfterBehind()));
  }

  /** Drained: read what the client missed (window or source), then rejoin live, as a resume would. */
  private async catchUpAfterBehind(): Promise<void> {
    if (this.state !== "behind" || !this.sink.open || this.behindFrom === null) return;
    this.state = "starting";
    this.skipThrough = null;
    this.hub.counters.slowClientCatchUps++;
    try {
      await this.resume(this.behindFrom, false);
    } catch (error) {
      this.fail(error);
    }
  }

  private gapAfterBehind(): void {
    if (this.state !== "behind" || !this.sink.open) return;
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

  private control(message: ServerMessage): void {
    if (!this.sink.open) return;
    const frame = controlFrame(this.sink.format, message);
    if (frame !== null) this.sink.send(frame);
  }

  private withId<M extends ServerMessage>(message: M): M {
    return this.options.id === undefined ? message : { ...message, id: this.options.id };
  }
}
