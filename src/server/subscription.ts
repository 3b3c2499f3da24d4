import { isMissing } from "../backend/file/file-identity.js";
import type { Line } from "../core/line.js";
import type { ServerMessage } from "../protocol/messages.js";
import { Batch, controlFrame, frameGroups } from "./frames.js";
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
  /** Called once when the subscription ends by itself (read error, overflow), with why, so its owner can forget it. */
  onEnd?: (reason: string) => void;
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
 * are skipped when they arrive live. Catch-up frames wait for the client to drain whenever its queue would pass
 * the sink's limit. Live delivery stops when the queue passes that limit; once drained, the client is caught up
 * from the window or the source ("catch-up", the default: no gap) or told what it missed with a `gap` ("gap").
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
    const announce = request.announce !== false;
    try {
      // A bad cursor is refused before `subscribed` (one of another file is fine: resuming reports a gap).
      if (request.since !== undefined) await this.staleReason(request.since);
      if (this.closed) return;
      if (announce) {
        this.control(this.withId({ type: "subscribed", stream: this.stream, cursor: request.since ?? null }));
      }
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
    this.end(message);
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
    if (this.overBudget(frame.length)) {
      this.fallBehind(b.count);
      return 0;
    }
    this.sink.send(frame);
    this.lastCursor = b.lastCursor;
    return frame.length;
  }

  /** A live client whose queue holds a quarter of its budget asks the hub to wait until it drains. */
  pace(): Promise<void> | null {
    if (this.state !== "live" || !this.sink.open) return null;
    return this.sink.bufferedBytes() >= this.sink.maxBufferedBytes / 4 ? this.sink.drained() : null;
  }

  onEvent(message: ServerMessage, generationChanged: boolean): void {
    if (this.state !== "live") return; // catch-up notices the new generation itself; a gap covers "behind"
    if (generationChanged) this.skipThrough = null;
    this.control(message);
    if (message.type === "truncated" || message.type === "rotated") this.lastCursor = message.cursor;
    else if (message.type === "gap") this.lastCursor = message.to;
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
    if (this.closed) return;
    this.state = "closed";
    this.hub.remove(this);
  }

  private end(reason: string): void {
    if (this.closed) return;
    this.close();
    this.options.onEnd?.(reason);
  }

  private async fromTail(n: number, announce: boolean): Promise<void> {
    for (;;) {
      const generation = this.hub.generation;
      if (this.hub.position !== null) {
        const recent = this.hub.window.last(n);
        if (recent !== undefined) return this.windowThenLive(recent, this.hub.cursor, generation, announce);
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
      if (this.hub.generation !== generation) continue;
      if (this.hub.cursor !== null) {
        const onHub = await this.onHubFile(result.cursor);
        if (this.closed) return;
        if (this.hub.generation !== generation) continue;
        if (!onHub) {
          // The path already holds a newer file than the one the hub follows (a rotation it has not acted on, or
          // a new file still empty while the writer appends to the old one): the stream is still the hub's file,
          // so the tail is what the window holds of it; the rotation arrives live.
          const recent = this.hub.window.last(Math.min(n, this.hub.window.size)) ?? [];
          return this.windowThenLive(recent, this.hub.cursor, generation, announce);
        }
      }
      const pending = this.sendLines(result.lines);
      if (pending !== null) await pending;
      if (this.closed) return;
      if (result.lines.length === 0 && this.hub.position === null) {
        this.goLive(null, announce);
        return;
      }
      return this.catchUp(result.cursor, generation, announce);
    }
  }

  /** Checks that `since` names the stream's current file before reading from it; else says so with a gap. */
  private async resume(since: string, announce: boolean): Promise<void> {
    for (;;) {
      const generation = this.hub.generation;
      // The hub's own file first: it stays the stream's file until the hub acts on a rotation, whatever the path
      // holds meanwhile.
      const onHub = await this.onHubFile(since);
      if (this.closed) return;
      if (this.hub.generation !== generation) continue;
      const where = onHub ? "same" : await this.hub.backend.locate(since);
      if (this.closed) return;
      if (this.hub.generation !== generation) continue;
      let reason: "file-changed" | "file-gone" | "truncated";
      if (where === "same") {
        const stale = await this.staleReason(since);
        if (this.closed) return;
        if (this.hub.generation !== generation) continue;
        if (stale !== "truncated") return this.catchUp(since, generation, announce);
        // The file is now shorter than the cursor's position. Once the hub has seen that (it is before the
        // cursor in this file), go on from the start; until then its position and window still show the old
        // content, so wait for it.
        const hubPosition = this.hub.position;
        if (!onHub || hubPosition === null || hubPosition >= this.hub.backend.positionOf(since)) {
          return this.afterNextGeneration(since, generation, announce);
        }
        reason = "truncated";
      } else {
        reason = where === "changed" ? "file-changed" : "file-gone";
      }
      const start = await this.hub.backend.startCursor();
      if (this.closed) return;
      if (this.hub.generation !== generation) continue;
      if (start === null) {
        // Nothing to continue from yet: the source is gone; new lines arrive live when it reappears.
        this.control({ type: "missing", stream: this.stream });
        this.goLive(null, announce);
        return;
      }
      const hubCursor = this.hub.cursor;
      if (reason !== "truncated" && hubCursor !== null) {
        const pathIsHubs = await this.hub.backend.sameSource(start, hubCursor);
        if (this.closed) return;
        if (this.hub.generation !== generation) continue;
        if (!pathIsHubs) return this.gapToWindow(since, reason, generation, announce);
      }
      this.hub.countGap(reason);
      this.control({ type: "gap", stream: this.stream, reason, from: since, to: start });
      return this.catchUp(start, generation, announce);
    }
  }

  /**
   * The hub still follows a file that is no longer at the path (renamed away with a new, still empty file in its
   * place, or a rotation it has not acted on yet), so the stream is still that file, but only its lines in the
   * window can be read. A gap to the window's first line, the window, then live; the rotation arrives live.
   */
  private gapToWindow(
    from: string,
    reason: "file-changed" | "file-gone",
    generation: number,
    announce: boolean,
  ): Promise<void> {
    const lines = this.hub.window.last(this.hub.window.size) ?? [];
    const first = lines[0];
    const to = first === undefined ? (this.hub.cursor as string) : this.hub.backend.cursorBefore(first);
    this.hub.countGap(reason);
    this.control({ type: "gap", stream: this.stream, reason, from, to });
    return this.windowThenLive(lines, this.hub.cursor, generation, announce);
  }

  /**
   * Why the source at the path cannot be read from `cursor` (another file, gone, truncated), or null when it can.
   * Throws CursorError for a cursor of that file that is not at one of its line boundaries.
   */
  private async staleReason(cursor: string): Promise<string | null> {
    try {
      await this.hub.backend.readAfter(cursor, 0);
      return null;
    } catch (error) {
      if (!(error instanceof Error) || error.name !== "StaleCursorError") throw error;
      return (error as Error & { reason?: string }).reason ?? "file-changed";
    }
  }

  /**
   * Sends what follows `cursor` (from the window when `cursor` names the hub's file and the window reaches back to
   * it, else from the source) and goes live. When the source and the hub disagree (the source was rotated or
   * truncated and the hub has not acted on it yet), it waits for the hub's next generation instead of guessing:
   * positions of two different files never compare.
   */
  private async catchUp(cursor: string, generation: number, announce: boolean): Promise<void> {
    const backend = this.hub.backend;
    let current = cursor;
    for (;;) {
      // A socket that is closing needs no more history.
      if (this.closed || !this.sink.open) return;
      if (this.hub.generation !== generation) return this.resume(current, announce);
      const onHub = await this.onHubFile(current);
      if (this.closed) return;
      if (this.hub.generation !== generation) return this.resume(current, announce);
      const position = backend.positionOf(current);
      const hubPosition = this.hub.position;
      if (onHub && hubPosition !== null) {
        const recent = this.hub.window.after(position, hubPosition);
        if (recent !== undefined) {
          const last = recent[recent.length - 1];
          return this.windowThenLive(
            recent,
            last === undefined ? current : last.cursor,
            generation,
            announce,
          );
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
        // The file at the path is no longer the cursor's, or shrank, and the hub has not reported it yet.
        return this.afterNextGeneration(current, generation, announce);
      }
      if (this.closed) return;
      if (lines.length > 0) {
        const pending = this.sendLines(lines);
        if (pending !== null) await pending;
        current = next;
        continue;
      }
      if (this.hub.generation !== generation) return this.resume(current, announce);
      const hubNow = this.hub.position;
      if (onHub && hubNow !== null && backend.positionOf(next) >= hubNow) {
        this.skipThrough = backend.positionOf(next);
        this.goLive(next, announce);
        return;
      }
      // The end of the source, but not where the hub is: the source is a file the hub does not follow yet, or the
      // hub's file shrank (it will report the truncation).
      return this.afterNextGeneration(current, generation, announce);
    }
  }

  private async afterNextGeneration(current: string, generation: number, announce: boolean): Promise<void> {
    await this.hub.nextGeneration();
    // Unchanged: the hub closed.
    if (this.closed || this.hub.generation === generation) return;
    return this.resume(current, announce);
  }

  /**
   * Window lines, then live at `end`. When the client's queue takes them all at once, live starts in the same tick
   * as the window was read (no line can slip between); else, once they are sent, catch up again from the last one.
   */
  private async windowThenLive(
    lines: readonly Line[],
    end: string | null,
    generation: number,
    announce: boolean,
  ): Promise<void> {
    const pending = this.sendLines(lines);
    if (pending === null) {
      this.goLive(end, announce);
      return;
    }
    await pending;
    const last = lines[lines.length - 1];
    if (this.closed || last === undefined) return;
    return this.catchUp(last.cursor, generation, announce);
  }

  /** Whether `cursor` names the file the hub follows, so its position compares with the hub's and the window's. */
  private async onHubFile(cursor: string): Promise<boolean> {
    const hubCursor = this.hub.cursor;
    return hubCursor !== null && (await this.hub.backend.sameSource(cursor, hubCursor));
  }

  private goLive(cursor: string | null, announce: boolean): void {
    if (this.closed) return;
    this.state = "live";
    this.lastCursor = cursor;
    if (announce) this.control({ type: "live", stream: this.stream, cursor });
  }

  /**
   * Catch-up lines, serialised for this client only, in bounded frames. Sends while the client's queue stays
   * within its limit and returns null when all went; else returns a promise that sends the rest as it drains.
   */
  private sendLines(lines: readonly Line[]): Promise<void> | null {
    if (lines.length === 0 || !this.sink.open) return null;
    const groups = frameGroups(lines, this.options.maxFrameBytes);
    for (let i = 0; i < groups.length; i++) {
      const batch = new Batch(this.stream, groups[i] as Line[]);
      const frame = batch.frame(this.sink.format);
      if (this.overBudget(frame.length)) return this.sendAsDrained(groups, i);
      this.sendBatch(batch, frame);
    }
    return null;
  }

  private async sendAsDrained(groups: readonly Line[][], from: number): Promise<void> {
    for (let i = from; i < groups.length; i++) {
      const batch = new Batch(this.stream, groups[i] as Line[]);
      const frame = batch.frame(this.sink.format);
      while (this.overBudget(frame.length)) {
        await this.sink.drained();
        if (this.closed || !this.sink.open) return;
      }
      this.sendBatch(batch, frame);
    }
  }

  /** A frame would take the client's queue past its limit (one frame always goes to an empty queue). */
  private overBudget(frameBytes: number): boolean {
    const buffered = this.sink.bufferedBytes();
    return buffered > 0 && buffered + frameBytes > this.sink.maxBufferedBytes;
  }

  private sendBatch(batch: Batch, frame: Buffer): void {
    this.sink.send(frame);
    this.lastCursor = batch.lastCursor;
    this.hub.counters.linesSent += batch.count;
    this.hub.counters.bytesSent += frame.length;
  }

  private fallBehind(count: number): void {
    const catchUp = this.options.slowClient !== "gap" && this.lastCursor !== null;
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
