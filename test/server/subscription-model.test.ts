import { appendFile, copyFile, link, rename, truncate, writeFile } from "node:fs/promises";
import fc from "fast-check";
import { afterAll, describe, expect, it } from "vitest";
import type { ResumePlan, StreamBackend } from "../../src/backend/backend.js";
import { FileBackend } from "../../src/backend/file/file-backend.js";
import { RingBackend } from "../../src/backend/ring/ring-backend.js";
import { frameLines } from "../../src/protocol/lines-frame.js";
import type { ServerMessage } from "../../src/protocol/messages.js";
import { type DeliveryOptions, Subscription } from "../../src/server/delivery/subscription.js";
import { Hub } from "../../src/server/hub.js";
import type { Sink } from "../../src/server/sink.js";
import { makeTempDir } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";

/**
 * Model-based test of the delivery promise, in process: a real Hub on a real FileBackend (a temp file) or
 * RingBackend, one client behind a fake Sink whose queue the test drains (or not), and random sequences of
 * appends, stalls, drains, disconnect + resubscribe from the last cursor received, rename rotations and
 * copytruncates (waiting for the hub to act on them, or not: see below). The old content goes to names that are
 * not logrotate's (`.gone-N`), so it is out of the stream's view: the model is of a file whose replaced content
 * is gone. Rotated history (`NAME.1`, `.gz`, resumes through them) is tested in test/backend/file/rotated*.test.ts. Everything the client consumes is
 * checked, as it is consumed, against a model of the stream:
 *
 * - every line arrives exactly once and in order, across resubscriptions (no duplicate cursor either);
 * - a gap only where one is due: after a rotation or truncation the client did not see live (it gets `rotated` /
 *   `truncated` when it did), losing exactly the rest of the old content after `gap.from` (= its last cursor) and
 *   going on at the start of the file the hub follows when the gap is sent, or (only while the hub still follows
 *   a file no longer at the path) at the first line it holds of it; for a ring, only past lines the ring has
 *   dropped (`trimmed`, with the exact count);
 * - and for a file, only when the lines after `gap.from` were out of reach when the server tried to serve them:
 *   each resume plan (as resumeFrom answers) and each time a catch-up asks the hub's window for the lines after a
 *   cursor is looked at as it happens (the hub's generation, which of its lines the window holds, whether a reset
 *   is on disk unacted, how full the client's queue is), and the gap is due only if, at the run's last window
 *   look from that cursor (else its first plan), the hub had moved past the cursor's content, or the window no
 *   longer held the lines after it, or held them but their first frame may not have fitted the queue (the
 *   catch-up then waits for room, and the hub moved on meanwhile). Not when the window held them and they fitted, nor when the
 *   cursor was at or ahead of the feed (they then come live): docs/protocol.md resume rules 2 and 5;
 * - a lines frame is queued only on an empty queue or one it fits within maxBufferedBytes, so the queue stays
 *   within the budget plus one frame (plus the small control messages, which are never held back);
 * - the last cursor received resumes exactly (readAfter gives the lines after it), as do the cursors derived
 *   for each line of a frame.
 *
 * Resets the hub has not acted on yet: `rotateUnseen` / `copytruncateUnseen` change the file without waiting for
 * the hub, and may resubscribe at once. On a slow feed (polling only, every 100 ms) the hub lags the file (catch-ups
 * read ahead of it) and the resume lands before it acts; `aheadThenRotate` steers a client ahead of the hub
 * first. Then the old file's lines after the cursor come once (from the window, or live when the cursor is at or
 * ahead of the feed), then `rotated` / `truncated`, then the new content; when the window no longer holds them, a
 * `file-changed` gap to the new content's start once the hub has acted. At most one reset is on disk unacted at a
 * time (a second rename before the hub looks hides the file in between from it: its lines are lost to everyone,
 * the follower's contract). Catch-up reads from the file go on while the file is truncated in place.
 * MODEL_STATS=1 prints in how many runs each of these cases came up.
 *
 * Left out because the promise does not hold there today (src/ bugs, found by this test and reported). The last
 * two have since been fixed, with their reduced cases as regression tests in
 * test/server/resume-during-rotation.test.ts; MODEL_LEFT_OUT=truncation,young (or all) generates them again,
 * and a run of it found a further counterexample (a 45 s timeout with both kinds of unseen reset in one
 * sequence) that is not analysed yet, so they stay off by default:
 * - a file that starts empty, or a second copytruncate of the same file: a cursor at the start of an empty file
 *   fingerprints no bytes, so it matches whatever the inode holds later, and lines written and truncated away
 *   while the client was away are skipped without a gap. Likewise a copytruncate that leaves the file empty
 *   while the hub has not acted on it (`copytruncateUnseen` writes a line at least): the empty file's start
 *   cursor matches the followed file's identity (same inode, no bytes), so a resume from an older file gets a gap
 *   to that start instead of to the window (rule 5), losing the lines the window holds, and no `truncated`;
 * - a resume plan while the file is truncated in place (`exclusive` holds plans back meanwhile): a truncation
 *   between history's identity check and its line-boundary check is answered "truncated", and resumeFrom waits
 *   for the follower instead of serving the window as it does for "file-changed"; once the follower has acted, a
 *   file-changed gap loses the lines the window held;
 * - a resume ahead of the hub in a file the hub has read less than 256 bytes of, while a reset is on disk unacted
 *   (the client resumes after the hub acts instead): the cursor's fingerprint is longer than the follower's head,
 *   follows() says it is not the followed file, and the plan goes through the path: a file-changed gap backwards
 *   to the start of the window, whose lines come again, and the rest of the old file again live.
 */

// ---- the stream as the test wrote it ----

type Kind = "initial" | "rotated" | "truncated";

/** One content of the stream's source: the initial file, a file rotated in, or a file after copytruncate. */
interface Generation {
  kind: Kind;
  lines: string[];
}

class Model {
  readonly gens: Generation[];
  private next = 0;
  /** The file at the path was truncated once already (see the header: a second time is not generated). */
  truncatedThisFile = false;

  constructor(initial: number) {
    this.gens = [{ kind: "initial", lines: this.make(initial) }];
  }

  get current(): Generation {
    return this.gens[this.gens.length - 1] as Generation;
  }

  /** Lines with unique, increasing numbers and varying lengths. */
  make(count: number): string[] {
    const out: string[] = [];
    for (let i = 0; i < count; i++, this.next++) {
      const n = this.next;
      out.push(
        `[2025-12-17T17:40:${String(n % 60).padStart(2, "0")}Z] line ${n} ${"x".repeat((n * 37) % 160)}`,
      );
    }
    return out;
  }
}

const toText = (lines: readonly string[]): string => (lines.length === 0 ? "" : `${lines.join("\n")}\n`);

// ---- the client ----

/** What the test knows at the moment a frame is queued (send() runs synchronously in the server). */
interface SendContext {
  /** The hub's generation: which content it followed. */
  hubGeneration: number;
  /** The catch-up run (see Look). */
  run: string;
  /** Ring: index of the oldest line the ring still holds. */
  floor: number;
  /** A rotation or truncation is on disk that the hub has not acted on yet. */
  resetPending: boolean;
  /** Text of the first line in the hub's window, and the cursor before it (only looked up for gaps). */
  windowFirst: string | undefined;
  windowFrom: string | null;
}

interface Queued {
  text: string;
  bytes: number;
  context: SendContext;
}

/**
 * What the stream looked like when the server tried to serve the lines after a cursor: as a resume plan answered
 * (the catch-up acts on the answer in the same turn, before the follower can move the hub), and each time it asked
 * the hub's window for them. File backend only.
 */
interface Look {
  via: "plan" | "window";
  /** Which catch-up run (subscription number and slow-client catch-up count when the call started). */
  run: string;
  /** The hub's generation, counted from the run's start (an index into the model's generations). */
  hub: number;
  /** A rotation or truncation was on disk that the hub had not acted on. */
  resetPending: boolean;
  /** The window held lines [from, to) of that generation (from = to = 0 when it held none). */
  windowFrom: number;
  windowTo: number;
  /** The plan's answer (via "plan"). */
  plan: string;
  /** Bytes in the client's queue (via "window": the window's lines go out only as they fit). */
  queued: number;
  /** The window did not hold a run of the generation's lines (a model error, reported by the check). */
  anomaly: string | null;
}

/**
 * The look that decides whether a gap from the cursor was due in a run: the last time the server asked the window
 * for the lines after it (it then reads them from the file, which only fails when the file moved on), else the
 * run's first plan from it (a plan that never tries the window must only say gap, or wait, when the window could
 * not have served them either).
 */
function decisive(looks: readonly Look[], run: string): Look | undefined {
  const mine = looks.filter((l) => l.run === run);
  return mine.findLast((l) => l.via === "window") ?? mine.find((l) => l.via === "plan");
}

/** In how many runs each case came up (printed with MODEL_STATS=1), and the cases of the run going on. */
const tally = new Map<string, number>();
let cases = new Set<string>();
const count = (what: string): void => {
  cases.add(what);
};
const tallied = (): void => {
  for (const what of cases) tally.set(what, (tally.get(what) ?? 0) + 1);
  cases = new Set();
};

/** Queue bounds over a whole run. */
class QueueStats {
  maxQueued = 0;
  maxLinesQueued = 0;
  largestLinesFrame = 0;
  largestControl = 0;
  readonly violations: string[] = [];
}

/** A "json" client whose queue the test empties: nothing leaves it until the client consumes it. */
class FakeSink implements Sink {
  readonly format = "json" as const;
  open = true;
  private queue: Queued[] = [];
  private queued = 0;
  private linesQueued = 0;
  private waiters: (() => void)[] = [];
  private scheduled = false;

  constructor(
    readonly maxBufferedBytes: number,
    private readonly maxSourceBytes: number,
    private readonly stats: QueueStats,
    private readonly contextNow: (text: string) => SendContext,
    private readonly deliver: (item: Queued) => void,
    /** Consumes what is queued on the next turn of the event loop, as a client that keeps up does. */
    public reading: boolean,
  ) {}

  get pending(): number {
    return this.queue.length;
  }

  send(data: Buffer | string): void {
    if (!this.open) return;
    const text = typeof data === "string" ? data : data.toString("utf8");
    const bytes = Buffer.byteLength(data);
    const { stats } = this;
    if (text.startsWith('{"type":"lines"')) {
      if (!(this.queued === 0 || this.queued + bytes <= this.maxBufferedBytes)) {
        stats.violations.push(`a ${bytes}-byte lines frame was queued on ${this.queued} bytes`);
      }
      const sizes = (JSON.parse(text) as { sizes: number[] }).sizes;
      const source = sizes.reduce((a, b) => a + b, 0);
      if (sizes.length > 1 && source > this.maxSourceBytes) {
        stats.violations.push(`a frame of ${sizes.length} lines carries ${source} source bytes`);
      }
      this.linesQueued += bytes;
      stats.largestLinesFrame = Math.max(stats.largestLinesFrame, bytes);
      stats.maxLinesQueued = Math.max(stats.maxLinesQueued, this.linesQueued);
    } else {
      stats.largestControl = Math.max(stats.largestControl, bytes);
    }
    this.queued += bytes;
    stats.maxQueued = Math.max(stats.maxQueued, this.queued);
    this.queue.push({ text, bytes, context: this.contextNow(text) });
    if (this.reading && !this.scheduled) {
      this.scheduled = true;
      setImmediate(() => {
        this.scheduled = false;
        if (this.reading) this.consume();
      });
    }
  }

  bufferedBytes(): number {
    return this.queued;
  }

  drained(): Promise<void> {
    if (!this.open || this.queued === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  overflow(): void {
    this.stats.violations.push("overflow() on a json sink");
    this.close();
  }

  /** The client reads everything queued so far. */
  consume(): void {
    if (!this.open) return;
    const items = this.queue;
    this.queue = [];
    this.queued = 0;
    this.linesQueued = 0;
    for (const item of items) this.deliver(item);
    this.wake();
  }

  /** The connection is gone: what was queued is lost with it. */
  close(): void {
    this.open = false;
    this.queue = [];
    this.queued = 0;
    this.linesQueued = 0;
    this.wake();
  }

  private wake(): void {
    const waiters = this.waiters;
    this.waiters = [];
    for (const resolve of waiters) resolve();
  }
}

/** The client's view, checked message by message against the model as it consumes them. */
class Checker {
  /** Next line expected: line `k` of generation `g`. */
  g = 0;
  k: number;
  /** Where the client resumes: the last cursor it received (lines, rotated/truncated, gap.to, live). */
  lastCursor: string | null;
  readonly cursors = new Set<string>();
  /** Each line received: its place in the model and its (derived) cursor. */
  readonly received: { g: number; k: number; cursor: string }[] = [];
  error: string | null = null;
  readonly log: string[] = [];
  gaps = 0;
  resets = 0;
  private subscribed = false;
  private live = false;
  private since: string | null = null;

  constructor(
    private readonly model: Model,
    private readonly backend: "file" | "ring",
    private readonly baseGeneration: number,
    start: { k: number; since: string | null },
    /** What the server saw each time it tried to serve the lines after a cursor (file backend). */
    private readonly looksOf: (cursor: string) => readonly Look[] = () => [],
    /** The client's queue budget and the catch-up's frame size (source bytes). */
    private readonly budget = { maxBufferedBytes: 0, frameBytes: 0 },
  ) {
    this.k = start.k;
    this.lastCursor = start.since;
  }

  get atEnd(): boolean {
    return this.g === this.model.gens.length - 1 && this.k === this.model.current.lines.length;
  }

  newSubscription(since: string | null): void {
    this.subscribed = false;
    this.live = false;
    this.since = since;
    this.log.push(`-- subscribe ${since === null ? "(tail)" : "since last cursor"}`);
  }

  consume(item: Queued): void {
    const message = JSON.parse(item.text) as ServerMessage;
    this.log.push(summary(message));
    if (this.error !== null) return;
    try {
      this.apply(message, item.context);
    } catch (error) {
      this.error = `${(error as Error).message}\nclient log (last 40):\n${this.log.slice(-40).join("\n")}`;
    }
  }

  private apply(m: ServerMessage, context: SendContext): void {
    const gens = this.model.gens;
    if (!this.subscribed && m.type !== "subscribed") throw new Error(`${m.type} before subscribed`);
    switch (m.type) {
      case "subscribed":
        if (this.subscribed) throw new Error("a second subscribed");
        if (m.cursor !== this.since) throw new Error(`subscribed.cursor ${m.cursor}, asked ${this.since}`);
        this.subscribed = true;
        if (this.since !== null && this.backend === "file") {
          const look = this.looksOf(this.since).find((l) => l.run === context.run && l.via === "plan");
          if (look?.resetPending && look.hub === this.g) {
            count(
              this.k < look.windowFrom
                ? "resume during an unacted reset: window does not hold the cursor (gap due)"
                : this.k > look.windowTo
                  ? "resume during an unacted reset: cursor ahead of the feed"
                  : "resume during an unacted reset: window holds the cursor",
            );
          }
        }
        return;
      case "lines": {
        const lines = frameLines(m);
        for (const line of lines) {
          const gen = gens[this.g] as Generation;
          const want = gen.lines[this.k];
          if (line.text !== want) {
            const earlier = gen.lines.indexOf(line.text);
            const what = earlier >= 0 && earlier < this.k ? "a duplicate" : "the wrong line";
            throw new Error(
              `${what}: expected ${want === undefined ? "no line" : JSON.stringify(want)} (generation ${this.g}, ` +
                `line ${this.k} of ${gen.lines.length}), got ${JSON.stringify(line.text)}`,
            );
          }
          if (this.cursors.has(line.c)) throw new Error(`duplicate cursor ${line.c}`);
          this.cursors.add(line.c);
          this.received.push({ g: this.g, k: this.k, cursor: line.c });
          this.k++;
        }
        if (lines.at(-1)?.c !== m.cursor) throw new Error(`frame cursor ${m.cursor} is not its last line's`);
        this.lastCursor = m.cursor;
        return;
      }
      case "live":
        if (this.live) throw new Error("a second live");
        this.live = true;
        if (m.cursor !== null) this.lastCursor = m.cursor;
        return;
      case "rotated":
      case "truncated": {
        if (!this.live) throw new Error(`${m.type} before live`);
        const gen = gens[this.g] as Generation;
        if (this.k !== gen.lines.length) {
          throw new Error(
            `${m.type} after ${this.k} of the ${gen.lines.length} lines of generation ${this.g}`,
          );
        }
        const next = gens[this.g + 1];
        if (next?.kind !== m.type)
          throw new Error(`${m.type}, but generation ${this.g + 1} is ${next?.kind}`);
        this.g++;
        this.k = 0;
        if (context.hubGeneration - this.baseGeneration !== this.g) {
          throw new Error(
            `${m.type} into generation ${this.g} sent at hub generation ${context.hubGeneration}`,
          );
        }
        this.lastCursor = m.cursor;
        this.resets++;
        return;
      }
      case "gap": {
        if (m.from !== this.lastCursor) throw new Error(`gap.from ${m.from}, last cursor ${this.lastCursor}`);
        if (this.backend === "ring") {
          // Due only for lines the ring has dropped by the time the client is told (it may drop more while the
          // catch-up reads on: another gap then follows this one). Delivery goes on right after them.
          if (m.reason !== "trimmed") throw new Error(`gap ${m.reason} on a ring`);
          const skipped = m.skipped ?? 0;
          if (!(skipped > 0 && this.k + skipped <= context.floor)) {
            throw new Error(
              `gap at line ${this.k} skips ${m.skipped}, the ring holds lines ${context.floor}+`,
            );
          }
          this.k += skipped;
        } else {
          // Due only when the client's content was replaced since (rotated or truncated): the rest of it is lost,
          // and delivery goes on at the start of the file the hub follows, or (only while the hub still follows a
          // file no longer at the path) at the first line it holds of it.
          const j = context.hubGeneration - this.baseGeneration;
          if (!(j > this.g)) throw new Error(`gap ${m.reason} in generation ${this.g}, hub at ${j}: not due`);
          // Due only if the lines after the cursor were out of reach when the server tried to serve them: the hub
          // had moved past the cursor's content, or the window no longer held them (the file then had moved on:
          // the hub is past it now). Not when the window held them, nor when the cursor was ahead of the feed
          // (they come live): during a rotation the hub has not acted on, they come before `rotated`.
          const looks = m.from === null ? [] : this.looksOf(m.from);
          const look = decisive(looks, context.run);
          if (look === undefined) throw new Error(`gap from ${m.from}, which no catch-up of this run served`);
          if (look.anomaly !== null) throw new Error(look.anomaly);
          const gone = look.hub > this.g || this.k < look.windowFrom;
          if (!gone && !this.mayNotHaveFit(look)) {
            throw new Error(
              `gap ${m.reason} at generation ${this.g} line ${this.k} not due: when the server last tried ` +
                `(${look.via === "plan" ? `plan: ${look.plan}` : "the window"}), the hub was at generation ` +
                `${look.hub} holding its lines ${look.windowFrom}..${look.windowTo - 1}, ` +
                `${look.resetPending ? "with" : "no"} reset on disk unacted; looks from there: ` +
                looks
                  .map((l) => `${l.run} ${l.via} ${l.plan} h${l.hub} ${l.windowFrom}..${l.windowTo - 1}`)
                  .join("; "),
            );
          }
          count(
            !gone
              ? "gap due: the window held the lines, the client had no room for them, then the hub moved on"
              : look.hub > this.g
                ? `gap due: the hub had moved on (${look.via})`
                : `gap due: window past the cursor${look.resetPending ? ", reset unacted" : ""} (${look.via})`,
          );
          const rotatedSince = gens.slice(this.g + 1, j + 1).some((x) => x.kind === "rotated");
          const allowed = rotatedSince ? ["file-changed"] : ["file-changed", "truncated"];
          if (!allowed.includes(m.reason)) throw new Error(`gap ${m.reason} (expected ${allowed.join("/")})`);
          let k = 0;
          if (context.resetPending && context.windowFirst !== undefined && m.to === context.windowFrom) {
            k = (gens[j] as Generation).lines.indexOf(context.windowFirst);
            if (k < 0) throw new Error(`gap to the window, whose first line is not of generation ${j}`);
            count("gap to the window of a file no longer at the path");
          }
          this.g = j;
          this.k = k;
        }
        this.lastCursor = m.to;
        this.gaps++;
        return;
      }
      default:
        throw new Error(`unexpected ${JSON.stringify(m)}`);
    }
  }

  /**
   * Whether the first frame of the window's lines after the client's position may not have fitted its queue when
   * the server asked the window for them (it then waits for room, and they are lost if the hub moves on meanwhile):
   * an upper bound of that frame (its lines as frameGroups takes them, plus JSON) past the budget. None when the
   * window held no line after the position (live at once) or the queue was empty (a frame always goes then).
   */
  private mayNotHaveFit(look: Look): boolean {
    if (look.via !== "window" || look.queued === 0 || this.k >= look.windowTo) return false;
    const lines = (this.model.gens[this.g] as Generation).lines.slice(this.k, look.windowTo);
    let source = 0;
    let json = 200;
    for (const [i, line] of lines.entries()) {
      const bytes = Buffer.byteLength(line) + 1;
      if (i > 0 && source + bytes > this.budget.frameBytes) break;
      source += bytes;
      json += bytes + 8;
    }
    return look.queued + json > this.budget.maxBufferedBytes;
  }
}

function summary(m: ServerMessage): string {
  if (m.type !== "lines") return JSON.stringify(m);
  const first = m.text[0]?.split(" ")[2];
  const last = m.text.at(-1)?.split(" ")[2];
  return `lines ${first}..${last} (${m.text.length}) cursor ${m.cursor}`;
}

// ---- scenarios ----

type Action =
  | { kind: "append"; count: number }
  | { kind: "stall" }
  /** File only: wait until the hub has read everything written (acting on a reset on disk first). */
  | { kind: "feedCatchesUp" }
  | { kind: "drain" }
  | { kind: "resubscribe" }
  | { kind: "rotate"; count: number }
  /** A rotation the hub is not waited for; `resubscribe`: the client reconnects right after the rename. */
  | { kind: "rotateUnseen"; count: number; resubscribe: boolean }
  | { kind: "copytruncate"; count: number }
  /** The same for a copytruncate. */
  | { kind: "copytruncateUnseen"; count: number; resubscribe: boolean };

/**
 * File only, how the follower learns of changes: fs.watch (and a 25 ms poll), a 25 ms poll, or a slow 100 ms poll
 * (without fs.watch the feed lags the file, and catch-ups read ahead of it; slowly, a reset stays unacted on disk
 * for a while).
 */
type Feed = "watch" | "poll" | "slow";
const feedOptions: Record<Feed, { watch: boolean; pollIntervalMs: number }> = {
  watch: { watch: true, pollIntervalMs: 25 },
  poll: { watch: false, pollIntervalMs: 25 },
  slow: { watch: false, pollIntervalMs: 100 },
};

interface Setup {
  initial: number;
  /** Start with the last `tail` lines, or after line `since` of the initial content. */
  start: { tail: number } | { since: number };
  windowLines: number;
  hubFrameBytes: number;
  frameBytes: number;
  chunkLines: number;
  maxBufferedBytes: number;
  /** Ring only: lines it keeps. */
  ringLines: number;
  feed: Feed;
}

const setupArb = (minInitial: number): fc.Arbitrary<Setup> =>
  fc.record({
    // A few lines make a young file (under 256 bytes: its cursors' fingerprints grow with it).
    initial: fc.oneof(fc.integer({ min: minInitial, max: 3 }), fc.integer({ min: minInitial, max: 80 })),
    start: fc.oneof(
      fc.integer({ min: 0, max: 100 }).map((tail) => ({ tail })),
      fc.nat({ max: 80 }).map((since) => ({ since })),
    ),
    // Windows smaller than a catch-up read let a catch-up from the file overtake the feed.
    windowLines: fc.oneof(fc.integer({ min: 1, max: 4 }), fc.integer({ min: 5, max: 60 })),
    hubFrameBytes: fc.integer({ min: 128, max: 4096 }),
    frameBytes: fc.integer({ min: 128, max: 8192 }),
    chunkLines: fc.integer({ min: 1, max: 20 }),
    maxBufferedBytes: fc.integer({ min: 4096, max: 12288 }),
    ringLines: fc.integer({ min: 10, max: 80 }),
    feed: fc.constantFrom<Feed>("watch", "poll", "slow"),
  });

const commonActions = [
  {
    weight: 6,
    arbitrary: fc
      .oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 20 }) }, fc.integer({ min: 21, max: 80 }))
      .map((count): Action => ({ kind: "append", count })),
  },
  { weight: 2, arbitrary: fc.constant<Action>({ kind: "stall" }) },
  { weight: 2, arbitrary: fc.constant<Action>({ kind: "drain" }) },
  { weight: 2, arbitrary: fc.constant<Action>({ kind: "resubscribe" }) },
];
const fileAction: fc.Arbitrary<Action> = fc.oneof(
  ...commonActions,
  { weight: 1, arbitrary: fc.constant<Action>({ kind: "feedCatchesUp" }) },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 1, max: 6 }).map((count): Action => ({ kind: "rotate", count })),
  },
  {
    weight: 2,
    arbitrary: fc
      .record({ count: fc.integer({ min: 1, max: 6 }), resubscribe: fc.boolean() })
      .map(({ count, resubscribe }): Action => ({ kind: "rotateUnseen", count, resubscribe })),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 0, max: 6 }).map((count): Action => ({ kind: "copytruncate", count })),
  },
  {
    weight: 1,
    arbitrary: fc
      // At least one line: left out, an empty file at the path (see the header).
      .record({ count: fc.integer({ min: 1, max: 6 }), resubscribe: fc.boolean() })
      .map(({ count, resubscribe }): Action => ({ kind: "copytruncateUnseen", count, resubscribe })),
  },
);
const ringAction: fc.Arbitrary<Action> = fc.oneof(...commonActions);

/**
 * A resume ahead of the hub during a rotation it has not acted on, which random sequences seldom reach: the hub
 * reads lines the stalled client misses, more are written, the client resumes from before the window (so its
 * catch-up reads the file, past the hub on a slow feed) and takes it all, then a rotation and a resume at once.
 * Random actions before and after it.
 */
const aheadThenRotate: fc.Arbitrary<Action[]> = fc
  .record({
    missed: fc.integer({ min: 1, max: 30 }),
    unread: fc.integer({ min: 1, max: 10 }),
    rotated: fc.integer({ min: 1, max: 6 }),
  })
  .map(({ missed, unread, rotated }) => [
    { kind: "drain" },
    { kind: "stall" },
    { kind: "append", count: missed },
    { kind: "feedCatchesUp" },
    { kind: "append", count: unread },
    { kind: "resubscribe" },
    { kind: "drain" },
    { kind: "rotateUnseen", count: rotated, resubscribe: true },
  ]);
const fileActions: fc.Arbitrary<Action[]> = fc.oneof(
  { weight: 2, arbitrary: fc.array(fileAction, { minLength: 1, maxLength: 30, size: "max" }) },
  fc
    .tuple(fc.array(fileAction, { maxLength: 8 }), aheadThenRotate, fc.array(fileAction, { maxLength: 8 }))
    .map(([before, pattern, after]) => [...before, ...pattern, ...after]),
);

/**
 * The file backend, with each resume plan looked at as resumeFrom answers (see Look): `look` is called then,
 * synchronously, so it sees what the catch-up acting on the answer sees; `run` when the call starts. `exclusive`
 * holds resume plans back while the test truncates the file in place (see the header); other history reads
 * (catch-up pages) go on meanwhile.
 */
function watched(
  inner: StreamBackend,
  run: () => string,
  look: (cursor: string, run: string, plan: ResumePlan) => void,
): { backend: StreamBackend; exclusive(change: () => Promise<void>): Promise<void> } {
  let gate: Promise<void> | null = null;
  let inFlight = 0;
  const backend = new Proxy(inner, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (key !== "resumeFrom" || typeof value !== "function") return value;
      return async (cursor: string, followed: string | null): Promise<ResumePlan> => {
        while (gate !== null) await gate;
        const started = run();
        inFlight++;
        let plan: ResumePlan;
        try {
          plan = (await value.call(target, cursor, followed)) as ResumePlan;
        } finally {
          inFlight--;
        }
        look(cursor, started, plan);
        return plan;
      };
    },
  });
  return {
    backend,
    async exclusive(change) {
      if (generate("truncation")) return change();
      let open = (): void => {};
      gate = new Promise((resolve) => {
        open = resolve;
      });
      try {
        await waitFor(() => inFlight === 0, { message: "resume plans to finish" });
        await change();
      } finally {
        gate = null;
        open();
      }
    },
  };
}
/**
 * MODEL_LEFT_OUT=truncation,young (or all) generates the cases the header leaves out: resume plans racing a
 * truncation in place, resumes ahead of the hub in a young file during an unacted reset (see the header).
 */
const leftOut = new Set((process.env.MODEL_LEFT_OUT ?? "").split(","));
const generate = (what: "truncation" | "young"): boolean => leftOut.has(what) || leftOut.has("all");

/** Where the stream's content lives, and how the test changes it. */
interface Source {
  backend: StreamBackend;
  append(lines: readonly string[]): Promise<void>;
  /** Index of the oldest line still held (rings drop lines; files keep them). */
  floor(): number;
}

async function runScenario(kind: "file" | "ring", setup: Setup, actions: Action[]): Promise<void> {
  count(`runs: ${kind}${kind === "file" ? `, ${setup.feed} feed` : ""}`);
  const model = new Model(setup.initial);
  const dir = kind === "file" ? await makeTempDir("livetrail-sub-model-") : null;
  const path = dir?.file("app.log") ?? "";
  let source: Source;
  /** What the server saw each time it tried to serve the lines after a cursor, and how it is taken. */
  const looks = new Map<string, Look[]>();
  let runNow = (): string => "";
  let lookNow = (_via: Look["via"], _run: string, _plan: string): Look | null => null;
  const record = (cursor: string, look: Look | null): void => {
    if (look === null) return;
    const list = looks.get(cursor);
    if (list) list.push(look);
    else looks.set(cursor, [look]);
  };
  let exclusive = (change: () => Promise<void>): Promise<void> => change();
  if (kind === "file") {
    await writeFile(path, toText(model.current.lines));
    const file = watched(
      new FileBackend("app", path, feedOptions[setup.feed]),
      () => runNow(),
      (cursor, run, plan) => {
        const what =
          plan.kind === "gap" ? `gap ${plan.reason} to ${plan.to === null ? "window" : "start"}` : plan.kind;
        record(cursor, lookNow("plan", run, what));
      },
    );
    exclusive = file.exclusive;
    source = {
      backend: file.backend,
      append: (lines) => appendFile(path, toText(lines)),
      floor: () => 0,
    };
  } else {
    const r = new RingBackend("app", { maxLines: setup.ringLines, maxBytes: 1 << 30 });
    r.write(Buffer.from(toText(model.current.lines)));
    source = {
      backend: r,
      append: async (lines) => r.write(Buffer.from(toText(lines))),
      floor: () => Math.max(0, model.current.lines.length - setup.ringLines),
    };
  }
  const backend = source.backend;
  const hub = new Hub("app", backend, true, {
    windowLines: setup.windowLines,
    windowBytes: 1 << 20,
    maxFrameBytes: setup.hubFrameBytes,
  });
  const delivery: DeliveryOptions = {
    slowClients: "catch-up",
    catchUpChunkLines: setup.chunkLines,
    catchUpFrameBytes: setup.frameBytes,
  };
  const stats = new QueueStats();
  let pendingFrom: number | null = null;
  let sink: FakeSink | null = null;
  let subscription: Subscription | null = null;
  try {
    await hub.start();
    const base = hub.generation;

    // Where the first subscription starts, and so the first line the client is owed.
    let start: { k: number; since: string | null };
    const floor0 = source.floor();
    if ("tail" in setup.start) {
      const held = setup.initial - floor0;
      start = { k: setup.initial - Math.min(setup.start.tail, held), since: null };
    } else {
      const line = floor0 + (setup.start.since % (setup.initial - floor0 + 1));
      const page = await backend.readAfter(null, line - floor0);
      expect(page.lines.map((l) => l.text)).toEqual(model.current.lines.slice(floor0, line));
      start = { k: line, since: page.cursor };
    }
    const checker = new Checker(model, kind, base, start, (cursor) => looks.get(cursor) ?? [], {
      maxBufferedBytes: setup.maxBufferedBytes,
      frameBytes: setup.frameBytes,
    });
    let subscriptions = 0;
    runNow = () => `${subscriptions}.${hub.counters.slowClientCatchUps}`;
    if (kind === "file") {
      const windowAfter = hub.windowAfter.bind(hub);
      hub.windowAfter = (cursor) => {
        record(cursor, lookNow("window", runNow(), ""));
        return windowAfter(cursor);
      };
    }
    /** The hub's generation and which of its lines the window holds, in the model's terms. */
    const windowNow = (): Pick<Look, "hub" | "windowFrom" | "windowTo" | "anomaly"> => {
      const h = hub.generation - base;
      const { lines } = hub.windowAll();
      const gen = model.gens[h] as Generation;
      const from = lines.length === 0 ? 0 : gen.lines.indexOf((lines[0] as { text: string }).text);
      const held = gen.lines.slice(from, from + lines.length);
      const anomaly =
        from < 0 || lines.some((line, i) => line.text !== held[i])
          ? `the hub's window at generation ${h} is not a run of its lines: ${lines.map((l) => l.text.split(" ")[2]).join(",")}`
          : null;
      return { hub: h, windowFrom: from, windowTo: from + lines.length, anomaly };
    };
    lookNow = (via, run, plan) => ({
      via,
      run,
      resetPending: pendingFrom !== null && hub.generation === pendingFrom,
      plan,
      queued: (sink as FakeSink | null)?.bufferedBytes() ?? 0,
      ...windowNow(),
    });

    const contextNow = (text: string): SendContext => {
      const window = text.startsWith('{"type":"gap"') ? hub.windowAll() : { lines: [], from: null };
      return {
        hubGeneration: hub.generation,
        run: runNow(),
        floor: source.floor(),
        resetPending: pendingFrom !== null && hub.generation === pendingFrom,
        windowFirst: window.lines[0]?.text,
        windowFrom: window.from,
      };
    };
    const maxSource = Math.max(setup.hubFrameBytes, setup.frameBytes);
    let reading = true;
    let ended: string | null = null;
    const subscribe = (request: { since: string } | { tail: number }): void => {
      sink = new FakeSink(
        setup.maxBufferedBytes,
        maxSource,
        stats,
        contextNow,
        (i) => checker.consume(i),
        reading,
      );
      subscription = new Subscription(hub, sink, {
        delivery,
        onEnd: (reason) => {
          ended = reason;
        },
      });
      checker.newSubscription("since" in request ? request.since : null);
      subscriptions++;
      void subscription.start(request);
    };
    subscribe(
      start.since === null ? { tail: (setup.start as { tail: number }).tail } : { since: start.since },
    );

    const settle = async (what: string): Promise<void> => {
      await waitFor(
        () => checker.error !== null || ended !== null || (sink?.pending === 0 && checker.atEnd),
        { timeoutMs: 10_000, message: `the client to receive everything after ${what}` },
      ).catch((error: unknown) => {
        const gen = model.current;
        throw new Error(
          `${(error as Error).message}: client at generation ${checker.g} line ${checker.k}, model at ` +
            `${model.gens.length - 1} line ${gen.lines.length}, ${sink?.pending} frames queued\n` +
            checker.log.slice(-30).join("\n"),
        );
      });
      if (checker.error !== null) throw new Error(`after ${what}: ${checker.error}`);
      if (ended !== null) throw new Error(`after ${what}: the subscription ended: ${ended}`);
    };

    // "The last N lines" are the last when the subscription looks: let it look before anything is appended.
    if (start.since === null) await settle("the tail");

    /** The hub has acted on every reset on disk (at most one is left unacted: see the header). */
    const acted = async (): Promise<void> => {
      const expected = base + model.gens.length - 1;
      await waitFor(() => hub.generation === expected, { message: "the hub to report the reset" });
      pendingFrom = null;
    };
    /** A reset on disk (the model's new generation is pushed first); `wait`: until the hub has acted on it. */
    const reset = async (change: () => Promise<void>, wait = true): Promise<void> => {
      pendingFrom = hub.generation;
      await change();
      if (wait) await acted();
    };
    /** A new file, with its first lines, takes the path in one step; the old one keeps another name. */
    const rotate = async (count: number, wait: boolean): Promise<void> => {
      await acted();
      const lines = model.make(count);
      await writeFile(`${path}.new`, toText(lines));
      model.gens.push({ kind: "rotated", lines });
      model.truncatedThisFile = false;
      const n = ++rotations;
      await reset(async () => {
        await link(path, `${path}.gone-${n}`);
        await rename(`${path}.new`, path);
      }, wait);
    };
    /**
     * Left out (see the header): a reset unacted on disk, the client's cursor ahead of the hub in a file the hub
     * has read less than 256 bytes of (the cursor's fingerprint is longer than the follower's).
     */
    const youngAhead = (): boolean => {
      if (kind !== "file" || pendingFrom === null || hub.generation !== pendingFrom) return false;
      const { hub: h, windowTo } = windowNow();
      if (h !== checker.g || checker.k <= windowTo) return false;
      const read = (model.gens[checker.g] as Generation).lines.slice(0, windowTo);
      return Buffer.byteLength(toText(read)) < 256;
    };
    const resubscribe = async (): Promise<void> => {
      if (checker.lastCursor === null) return;
      if (!generate("young") && youngAhead()) {
        count("left out: resume ahead of the hub in a young file during an unacted reset (resumed after it)");
        await acted();
      }
      // Read after the wait: the old subscription may have delivered more meanwhile.
      const since = checker.lastCursor as string;
      (subscription as Subscription | null)?.close();
      (sink as FakeSink | null)?.close();
      subscribe({ since });
    };

    let rotations = 0;
    for (const [i, action] of actions.entries()) {
      const what = `action ${i} ${JSON.stringify(action)}`;
      switch (action.kind) {
        case "append": {
          const lines = model.make(action.count);
          model.current.lines.push(...lines);
          await source.append(lines);
          break;
        }
        case "stall":
          reading = false;
          if (sink) (sink as FakeSink).reading = false;
          break;
        case "drain":
          reading = true;
          if (sink) {
            (sink as FakeSink).reading = true;
            (sink as FakeSink).consume();
          }
          await settle(what);
          break;
        case "resubscribe":
          await resubscribe();
          break;
        case "feedCatchesUp":
          if (kind !== "file") break;
          await acted();
          await waitFor(async () => (await backend.info(hub.cursor)).unreadBytes === 0, {
            message: "the hub to read the whole file",
          });
          break;
        case "rotate":
          if (kind === "file") await rotate(action.count, true);
          break;
        case "rotateUnseen":
          if (kind !== "file") break;
          await rotate(action.count, false);
          if (action.resubscribe) await resubscribe();
          break;
        case "copytruncate":
        case "copytruncateUnseen": {
          if (kind !== "file" || model.truncatedThisFile || model.current.lines.length === 0) break;
          // The hub must have read the whole file first: lines written and truncated away unread are lost to
          // everyone (that is the follower's contract, tested on its own).
          await acted();
          await waitFor(async () => (await backend.info(hub.cursor)).unreadBytes === 0, {
            message: "the hub to read the whole file before copytruncate",
          });
          const lines = model.make(action.count);
          model.gens.push({ kind: "truncated", lines });
          model.truncatedThisFile = true;
          const n = ++rotations;
          // Catch-up reads from the file may be in flight meanwhile (since 49a89dc a truncation between history's
          // looks is a stale cursor, not bad_cursor); resume plans are held back (see the header).
          await reset(
            () =>
              exclusive(async () => {
                await copyFile(path, `${path}.gone-${n}`);
                await truncate(path, 0);
                if (lines.length > 0) await appendFile(path, toText(lines));
              }),
            action.kind === "copytruncate",
          );
          if (action.kind === "copytruncateUnseen" && action.resubscribe) await resubscribe();
          break;
        }
      }
      if (checker.error !== null) throw new Error(`after ${what}: ${checker.error}`);
    }

    // The client reads everything: it must end up with every line it is owed.
    reading = true;
    const last = sink as FakeSink | null;
    if (last) {
      last.reading = true;
      last.consume();
    }
    await settle("the final drain");
    (subscription as Subscription | null)?.close();
    (sink as FakeSink | null)?.close();

    // The queue: budget plus one frame for lines; control messages are never held back, so allow a few.
    expect(stats.violations).toEqual([]);
    expect(stats.maxLinesQueued).toBeLessThanOrEqual(setup.maxBufferedBytes + stats.largestLinesFrame);
    expect(stats.maxQueued).toBeLessThanOrEqual(
      setup.maxBufferedBytes + stats.largestLinesFrame + 4 * stats.largestControl,
    );

    // The last cursor resumes exactly after the last line received: a few more lines, and exactly those.
    const resume = checker.lastCursor as string;
    expect(resume).not.toBeNull();
    const more = model.make(3);
    model.current.lines.push(...more);
    await source.append(more);
    const after = await backend.readAfter(resume, 1000);
    expect(after.lines.map((l) => l.text)).toEqual(more);

    // So does each line's own (derived) cursor, for the lines the source still holds (a sample).
    const g = model.gens.length - 1;
    const floor = source.floor();
    const held = checker.received.filter((r) => r.g === g && r.k >= floor);
    const step = Math.max(1, Math.ceil(held.length / 12));
    for (let i = 0; i < held.length; i += step) {
      const r = held[i] as (typeof held)[number];
      const next = await backend.readAfter(r.cursor, 1);
      expect(next.lines[0]?.text).toBe(model.current.lines[r.k + 1]);
    }
  } finally {
    (subscription as Subscription | null)?.close();
    (sink as FakeSink | null)?.close();
    await hub.close();
    await dir?.remove();
    tallied();
  }
}

describe("subscription delivery model", () => {
  afterAll(() => {
    if (process.env.MODEL_STATS)
      console.log(["", ...[...tally].map(([what, n]) => `${n}\t${what}`)].join("\n"));
  });

  it("file: exactly once, in order, gaps only where a rotation or truncation took the lines, bounded queue", async () => {
    await fc.assert(
      fc.asyncProperty(setupArb(1), fileActions, async (setup, actions) =>
        runScenario("file", setup, actions),
      ),
      { numRuns: 50, interruptAfterTimeLimit: 45_000 },
    );
  }, 60_000);

  it("ring: exactly once, in order, gaps only past the lines the ring dropped, bounded queue", async () => {
    await fc.assert(
      fc.asyncProperty(
        setupArb(0),
        fc.array(ringAction, { minLength: 1, maxLength: 30, size: "max" }),
        async (setup, actions) => runScenario("ring", setup, actions),
      ),
      { numRuns: 30, interruptAfterTimeLimit: 45_000 },
    );
  }, 60_000);
});
