import type { ResumePlan } from "../../backend/backend.js";
import { StaleCursorError } from "../../core/cursor.js";
import type { Line } from "../../core/line.js";
import type { ServerMessage } from "../../protocol/messages.js";
import type { Hub } from "../hub.js";
import type { SendBudget } from "./send-budget.js";

/** What a catch-up needs from the subscription it runs for. */
export interface CatchUpHost {
  /** The subscription closed or its client went away: stop. */
  readonly ended: boolean;
  readonly budget: SendBudget;
  /**
   * Sends the lines as frames while they fit the budget: how many went, and the size of the frame that did not
   * fit (0 when all went).
   */
  sendFitting(lines: readonly Line[]): { sent: number; blocked: number };
  /** The lines as frames for this client, so the lines themselves need not be held while it drains. */
  encode(lines: readonly Line[]): Encoded[];
  send(encoded: Encoded): void;
  control(message: ServerMessage): void;
  /**
   * Switch to live delivery after `cursor` (null: the source does not exist yet). `skipThrough`: lines up to that
   * cursor were read from the source ahead of the feed; live batches skip them.
   */
  goLive(cursor: string | null, skipThrough: string | null): void;
}

export interface CatchUpOptions {
  /** Lines per read from the source. */
  chunkLines: number;
  /** Source bytes per frame, and so per read: a client never costs more than its budget plus one frame. */
  frameBytes: number;
}

/** Lines serialised for one client, with what sending them tells: where they end and how many they are. */
export interface Encoded {
  frame: Buffer;
  lastCursor: string;
  count: number;
}

/** A resume plan the caller already asked for, and the hub generation it was asked in. */
export interface Planned {
  plan: ResumePlan;
  generation: number;
}

/**
 * One run of catching a client up: from a cursor or a tail to the live feed, with no gap and no duplicate.
 *
 * The backend says where delivery resumes (resumeFrom); lines then come from the hub's window while it holds them
 * and from the source otherwise, one frame at a time and only when the client's queue has room for it, so nothing
 * is read ahead of a slow client. The switch to live happens synchronously at a position the window covers (no
 * line can slip between), or ahead of the feed with the overlap skipped when it arrives live. Whenever the hub's
 * generation changes under it (a reset, the source appearing), the run asks the backend again from where it got.
 */
export class CatchUp {
  constructor(
    private readonly hub: Hub,
    private readonly host: CatchUpHost,
    private readonly options: CatchUpOptions,
  ) {}

  private get backend() {
    return this.hub.backend;
  }

  /** Asks the backend where delivery after `cursor` resumes; throws CursorError for a cursor it refuses. */
  async plan(cursor: string): Promise<Planned> {
    for (;;) {
      const generation = this.hub.generation;
      const plan = await this.backend.resumeFrom(cursor, this.hub.cursor);
      if (this.hub.generation === generation || this.hub.closed) return { plan, generation };
    }
  }

  /** Delivers what follows `cursor`, then goes live. */
  async fromCursor(cursor: string, planned?: Planned): Promise<void> {
    let current = cursor;
    let next = planned;
    /** The source refused to read from here although the backend said "continue" (see deliver). */
    let staleAt: string | null = null;
    for (;;) {
      if (this.host.ended) return;
      const { plan, generation } = next ?? (await this.plan(current));
      next = undefined;
      if (this.host.ended) return;
      if (this.hub.generation !== generation) continue;
      if (plan.kind === "continue" && plan.from === staleAt) {
        // The source moved on and the feed has not reported it yet: asking again before it has is pointless.
        staleAt = null;
        await this.hub.nextChange();
        if (this.hub.closed) return;
        continue;
      }
      let from: string;
      switch (plan.kind) {
        case "missing":
          this.host.control({ type: "missing", stream: this.hub.name });
          this.host.goLive(null, null);
          return;
        case "wait":
          await this.hub.nextChange();
          if (this.hub.closed) return;
          continue;
        case "gap": {
          if (plan.to === null) return this.gapToWindow(current, plan);
          this.gap(current, plan, plan.to);
          from = plan.to;
          break;
        }
        case "continue":
          from = plan.from;
          break;
      }
      const again = await this.deliver(from, generation);
      if (again === null) return;
      current = again.cursor;
      staleAt = again.stale ? again.cursor : null;
    }
  }

  /** Delivers the last `n` lines, then goes live. */
  async fromTail(n: number): Promise<void> {
    for (;;) {
      const recent = this.hub.windowTail(n);
      if (recent !== undefined) return this.windowThenLive(recent, this.hub.generation);
      const generation = this.hub.generation;
      const start = await this.backend.tailCursor(n);
      if (this.host.ended) return;
      if (this.hub.generation !== generation) continue;
      if (start === null) {
        // No source yet: nothing to catch up; its lines arrive live once it appears.
        this.host.control({ type: "missing", stream: this.hub.name });
        this.host.goLive(null, null);
        return;
      }
      const planned = await this.plan(start);
      if (this.host.ended) return;
      if (planned.generation !== generation) continue;
      if (planned.plan.kind === "continue") return this.fromCursor(start, planned);
      // The path already holds a newer source than the one the feed follows (a rotation it has not acted on, or
      // a new file still empty while the writer appends to the old one): the stream is still the feed's source,
      // so the tail is what memory holds of it; the rotation arrives live.
      const { lines } = this.hub.windowAll();
      return this.windowThenLive(lines.slice(Math.max(0, lines.length - n)), generation);
    }
  }

  /**
   * Lines after `from` (on the feed's current source) until live. Returns null when done (live, or the client
   * went away), else the cursor to ask the backend about again (the generation changed, or the source and the
   * feed disagree).
   */
  private async deliver(
    from: string,
    generation: number,
  ): Promise<{ cursor: string; stale: boolean } | null> {
    const { budget } = this.host;
    let current = from;
    for (;;) {
      if (this.host.ended) return null;
      if (this.hub.generation !== generation) return { cursor: current, stale: false };
      const end = this.hub.cursor;
      if (end !== null) {
        const recent = this.hub.windowAfter(current);
        if (recent !== undefined) {
          const { sent, blocked } = this.host.sendFitting(recent);
          if (sent === recent.length) {
            this.host.goLive(end, null);
            return null;
          }
          // Hold no window lines while the client drains: ask the window again from the last line sent.
          if (sent > 0) current = (recent[sent - 1] as Line).cursor;
          if (!(await budget.room(blocked))) return null;
          continue;
        }
        if (this.backend.compare(current, end) > 0) {
          // Lines were read straight from the source that the feed has not emitted yet: skip them when it does.
          this.host.goLive(current, current);
          return null;
        }
      }
      if (!(await budget.room(this.options.frameBytes))) return null;
      if (this.hub.generation !== generation) return { cursor: current, stale: false };
      const page = await this.readPage(current);
      // The source no longer holds the cursor (replaced, shrunk, a ring that dropped it): ask the backend again.
      if (page === null) return { cursor: current, stale: true };
      if (this.host.ended) return null;
      if (page.frames.length > 0) {
        for (const encoded of page.frames) {
          if (!(await budget.room(encoded.frame.length)) || this.host.ended) return null;
          this.host.send(encoded);
        }
        // Let live batches and other clients' I/O in between catch-up frames.
        await new Promise<void>((resolve) => setImmediate(resolve));
        current = page.next;
        continue;
      }
      if (this.hub.generation !== generation) return { cursor: current, stale: false };
      const now = this.hub.cursor;
      if (now !== null && this.backend.compare(page.next, now) >= 0) {
        this.host.goLive(page.next, page.next);
        return null;
      }
      // The end of the source, but not where the feed is: the source is one the feed does not follow yet, or the
      // feed's source shrank (it will report it).
      await this.hub.nextChange();
      return this.hub.closed ? null : { cursor: current, stale: false };
    }
  }

  /**
   * Window lines, then live. When the client's queue takes them all at once, live starts in the same tick as the
   * window was read; else the rest is delivered from the last line sent, as any other catch-up.
   */
  private async windowThenLive(lines: readonly Line[], generation: number): Promise<void> {
    const { sent, blocked } = this.host.sendFitting(lines);
    if (sent === lines.length) {
      this.host.goLive(this.hub.cursor, null);
      return;
    }
    const from = sent > 0 ? (lines[sent - 1] as Line).cursor : this.backend.cursorBefore(lines[0] as Line);
    if (!(await this.host.budget.room(blocked))) return;
    if (this.hub.generation !== generation) return this.fromCursor(from);
    const again = await this.deliver(from, generation);
    if (again !== null) return this.fromCursor(again.cursor);
  }

  /**
   * The feed still follows a source the backend can no longer read (renamed away with a new, still empty file in
   * its place): only its lines in memory can be delivered. A gap to the first of them, those, then live.
   */
  private gapToWindow(from: string, plan: ResumePlan & { kind: "gap" }): Promise<void> {
    const { lines, from: to } = this.hub.windowAll();
    this.gap(from, plan, to ?? from);
    return this.windowThenLive(lines, this.hub.generation);
  }

  private gap(from: string, plan: ResumePlan & { kind: "gap" }, to: string): void {
    this.hub.countGap(plan.reason);
    const message: ServerMessage = { type: "gap", stream: this.hub.name, reason: plan.reason, from, to };
    if (plan.skipped !== undefined) message.skipped = plan.skipped;
    this.host.control(message);
  }

  /**
   * One frame's worth of lines after `cursor` from the source (a turn of the stream's read gate), already
   * encoded: while the client drains, its catch-up holds one frame, not the lines. Null when the source no
   * longer holds the cursor (replaced, shrunk) and the feed has not reported it yet.
   */
  private async readPage(cursor: string): Promise<{ frames: Encoded[]; next: string } | null> {
    try {
      const page = await this.hub.catchUpReads.run(() =>
        this.backend.readAfter(cursor, this.options.chunkLines, this.options.frameBytes),
      );
      return { frames: this.host.encode(page.lines), next: page.cursor };
    } catch (error) {
      if (error instanceof StaleCursorError) return null;
      throw error;
    }
  }
}
