import { appendFile, copyFile, link, rename, truncate, writeFile } from "node:fs/promises";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { StreamBackend } from "../../src/backend/backend.js";
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
 * copytruncates. Everything the client consumes is checked, as it is consumed, against a model of the stream:
 *
 * - every line arrives exactly once and in order, across resubscriptions (no duplicate cursor either);
 * - a gap only where one is due: after a rotation or truncation the client did not see live (it gets `rotated` /
 *   `truncated` when it did), losing exactly the rest of the old content after `gap.from` (= its last cursor) and
 *   going on at the start of the file the hub follows when the gap is sent; for a ring, only past lines the ring
 *   has dropped (`trimmed`, with the exact count);
 * - a lines frame is queued only on an empty queue or one it fits within maxBufferedBytes, so the queue stays
 *   within the budget plus one frame (plus the small control messages, which are never held back);
 * - the last cursor received resumes exactly (readAfter gives the lines after it), as do the cursors derived
 *   for each line of a frame.
 *
 * Left out because the promise does not hold there today (src/ bugs, found by this test and reported):
 * - a file that starts empty, or a second copytruncate of the same file: a cursor at the start of an empty file
 *   fingerprints no bytes, so it matches whatever the inode holds later, and lines written and truncated away
 *   while the client was away are skipped without a gap;
 * - a history read while the file is truncated in place: the read checks the identity, then the line boundary,
 *   and a truncation in between turns a valid cursor into `bad_cursor` (gated() keeps them apart);
 * - a resubscribe while a rotation is on disk but not yet acted on by the hub (each rotation here waits for the
 *   hub): a young file's cursor then gets its lines again after a backwards gap, an older one loses the lines
 *   the window holds.
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
          const rotatedSince = gens.slice(this.g + 1, j + 1).some((x) => x.kind === "rotated");
          const allowed = rotatedSince ? ["file-changed"] : ["file-changed", "truncated"];
          if (!allowed.includes(m.reason)) throw new Error(`gap ${m.reason} (expected ${allowed.join("/")})`);
          let k = 0;
          if (context.resetPending && context.windowFirst !== undefined && m.to === context.windowFrom) {
            k = (gens[j] as Generation).lines.indexOf(context.windowFirst);
            if (k < 0) throw new Error(`gap to the window, whose first line is not of generation ${j}`);
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
  | { kind: "drain" }
  | { kind: "resubscribe" }
  | { kind: "rotate"; count: number }
  | { kind: "copytruncate"; count: number };

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
  /** File only: fs.watch besides polling; without it the feed lags the file, and catch-ups read ahead of it. */
  watch: boolean;
}

const setupArb = (minInitial: number): fc.Arbitrary<Setup> =>
  fc.record({
    initial: fc.integer({ min: minInitial, max: 80 }),
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
    watch: fc.constantFrom(false, false, true),
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
  {
    weight: 1,
    arbitrary: fc.integer({ min: 1, max: 6 }).map((count): Action => ({ kind: "rotate", count })),
  },
  {
    weight: 1,
    arbitrary: fc.integer({ min: 0, max: 6 }).map((count): Action => ({ kind: "copytruncate", count })),
  },
);
const ringAction: fc.Arbitrary<Action> = fc.oneof(...commonActions);

/**
 * The file backend, with its history reads held back while the test truncates the file in place (see the header:
 * a read that overlaps a truncation can refuse a valid cursor).
 */
function gated(inner: StreamBackend): {
  backend: StreamBackend;
  exclusive(change: () => Promise<void>): Promise<void>;
} {
  const reads = new Set<PropertyKey>([
    "resumeFrom",
    "readAfter",
    "readBefore",
    "tail",
    "tailCursor",
    "seek",
    "search",
  ]);
  let gate: Promise<void> | null = null;
  let inFlight = 0;
  const backend = new Proxy(inner, {
    get(target, key, receiver) {
      const value = Reflect.get(target, key, receiver);
      if (!reads.has(key) || typeof value !== "function") return value;
      return async (...args: unknown[]) => {
        while (gate !== null) await gate;
        inFlight++;
        try {
          return await value.apply(target, args);
        } finally {
          inFlight--;
        }
      };
    },
  });
  return {
    backend,
    async exclusive(change) {
      let open = (): void => {};
      gate = new Promise((resolve) => {
        open = resolve;
      });
      try {
        await waitFor(() => inFlight === 0, { message: "history reads to finish" });
        await change();
      } finally {
        gate = null;
        open();
      }
    },
  };
}

/** Where the stream's content lives, and how the test changes it. */
interface Source {
  backend: StreamBackend;
  append(lines: readonly string[]): Promise<void>;
  /** Index of the oldest line still held (rings drop lines; files keep them). */
  floor(): number;
}

async function runScenario(kind: "file" | "ring", setup: Setup, actions: Action[]): Promise<void> {
  const model = new Model(setup.initial);
  const dir = kind === "file" ? await makeTempDir("livetrail-sub-model-") : null;
  const path = dir?.file("app.log") ?? "";
  let source: Source;
  let exclusive = (change: () => Promise<void>): Promise<void> => change();
  if (kind === "file") {
    await writeFile(path, toText(model.current.lines));
    const file = gated(new FileBackend("app", path, { pollIntervalMs: 25, watch: setup.watch }));
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
    const checker = new Checker(model, kind, base, start);

    const contextNow = (text: string): SendContext => {
      const window = text.startsWith('{"type":"gap"') ? hub.windowAll() : { lines: [], from: null };
      return {
        hubGeneration: hub.generation,
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

    /** A reset on disk: the model's new generation first, then the change, then the hub must report it. */
    const reset = async (change: () => Promise<void>): Promise<void> => {
      pendingFrom = hub.generation;
      await change();
      const expected = base + model.gens.length - 1;
      await waitFor(() => hub.generation === expected, { message: "the hub to report the reset" });
      pendingFrom = null;
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
        case "resubscribe": {
          const since = checker.lastCursor;
          if (since === null) break;
          (subscription as Subscription | null)?.close();
          (sink as FakeSink | null)?.close();
          subscribe({ since });
          break;
        }
        case "rotate": {
          if (kind !== "file") break;
          // A new file, with its first lines, takes the path in one step; the old one keeps another name.
          const lines = model.make(action.count);
          model.gens.push({ kind: "rotated", lines });
          model.truncatedThisFile = false;
          const n = ++rotations;
          await writeFile(`${path}.new`, toText(lines));
          await reset(async () => {
            await link(path, `${path}.${n}`);
            await rename(`${path}.new`, path);
          });
          break;
        }
        case "copytruncate": {
          if (kind !== "file" || model.truncatedThisFile || model.current.lines.length === 0) break;
          // The hub must have read the whole file first: lines written and truncated away unread are lost to
          // everyone (that is the follower's contract, tested on its own).
          await waitFor(async () => (await backend.info(hub.cursor)).unreadBytes === 0, {
            message: "the hub to read the whole file before copytruncate",
          });
          const lines = model.make(action.count);
          model.gens.push({ kind: "truncated", lines });
          model.truncatedThisFile = true;
          const n = ++rotations;
          await reset(() =>
            exclusive(async () => {
              await copyFile(path, `${path}.${n}`);
              await truncate(path, 0);
              if (lines.length > 0) await appendFile(path, toText(lines));
            }),
          );
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
  }
}

describe("subscription delivery model", () => {
  it("file: exactly once, in order, gaps only across a rotation or truncation, bounded queue", async () => {
    await fc.assert(
      fc.asyncProperty(
        setupArb(1),
        fc.array(fileAction, { minLength: 1, maxLength: 30, size: "max" }),
        async (setup, actions) => runScenario("file", setup, actions),
      ),
      { numRuns: 30, interruptAfterTimeLimit: 45_000 },
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
