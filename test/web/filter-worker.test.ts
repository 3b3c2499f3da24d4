import fc from "fast-check";
import { describe, expect, it } from "vitest";
import type { WorkerLike } from "../../src/web/filter.js";
import { EMPTY_FILTER, type FilterEvent, FilterIndex, type FilterSpec } from "../../src/web/filter.js";
import { LINES_PER_TASK } from "../../src/web/filter-channel.js";
import { FilterEngine, type ToWorker } from "../../src/web/filter-engine.js";
import { type InLine, StreamStore } from "../../src/web/store.js";
import { waitFor } from "../helpers/wait-for.js";

/**
 * The regex side of the filter: the page's FilterIndex with the real engine the worker runs (filter-engine.ts),
 * behind a stand-in Worker that answers asynchronously, as a worker does. The stand-in can be told to hang on a
 * message, as a real worker hangs in a regex that backtracks for ever: it then answers nothing more, ever.
 * (The real worker in headless Chromium, and the page staying responsive, are tested in test/e2e.)
 */
class StandInWorker implements WorkerLike {
  onmessage: WorkerLike["onmessage"] = null;
  onerror: WorkerLike["onerror"] = null;
  readonly engine = new FilterEngine();
  /** Messages as posted by the page (synchronously), and as handled by the worker (later, in order). */
  readonly posted: ToWorker[] = [];
  readonly received: ToWorker[] = [];
  terminated = false;
  hung = false;
  queued = 0;
  private readonly queue: ToWorker[] = [];
  private busy = false;

  constructor(
    private readonly hangOn: (msg: ToWorker) => boolean,
    /** How long the worker takes over a message, ms (one at a time, like a worker). */
    private readonly takes: (msg: ToWorker) => number = () => 0,
  ) {
    setTimeout(() => this.onmessage?.({ data: { t: "ready" } }), 0);
  }

  postMessage(msg: ToWorker): void {
    this.posted.push(msg);
    this.queued++;
    this.queue.push(msg);
    this.pump();
  }

  private pump(): void {
    const msg = this.queue.shift();
    if (this.busy || !msg) {
      if (msg) this.queue.unshift(msg);
      return;
    }
    this.busy = true;
    setTimeout(() => {
      this.busy = false;
      this.queued--;
      if (this.terminated || this.hung) return;
      this.received.push(msg);
      if (this.hangOn(msg)) {
        this.hung = true;
        return;
      }
      const reply = this.engine.handle(msg);
      if (reply) this.onmessage?.({ data: reply });
      this.pump();
    }, this.takes(msg));
  }

  terminate(): void {
    this.terminated = true;
  }
}

/** A FilterIndex over a store with stand-in workers; `workers` lists every worker it started. */
function setup(
  opts: {
    cap?: number;
    budgetMs?: number;
    hangOn?: (msg: ToWorker) => boolean;
    takes?: (msg: ToWorker) => number;
  } = {},
) {
  const store = new StreamStore({ cap: opts.cap ?? 1_000_000 });
  const workers: StandInWorker[] = [];
  const filter = new FilterIndex(store, {
    createWorker: () => {
      const w = new StandInWorker(opts.hangOn ?? (() => false), opts.takes);
      workers.push(w);
      return w;
    },
    budgetMs: () => opts.budgetMs ?? 5_000,
  });
  const events: FilterEvent[] = [];
  filter.onUpdate((e) => events.push(e));
  /** Resolves once the live worker has nothing queued and nothing more arrives for a few ticks. */
  const quiet = async () => {
    let calm = 0;
    await waitFor(
      async () => {
        await new Promise((r) => setTimeout(r, 1));
        const busy = workers.some((w) => !w.terminated && !w.hung && w.queued > 0);
        calm = busy ? 0 : calm + 1;
        return calm >= 5;
      },
      { message: "the worker to go quiet" },
    );
  };
  return { store, filter, workers, events, quiet };
}

const re = (text: string, more: Partial<FilterSpec> = {}): FilterSpec => ({
  ...EMPTY_FILTER,
  text,
  regex: true,
  ...more,
});
let seq = 0;
const lines = (...texts: string[]): InLine[] => texts.map((text) => ({ seq: ++seq, text, c: `c${seq}` }));

/** Absolute indices of the rows a pattern shows (gaps and matches), computed the plain way. */
function expected(store: StreamStore, pattern: RegExp): number[] {
  const out: number[] = [];
  for (let i = 0; i < store.length; i++)
    if (store.isGap(i) || pattern.test(store.text(i))) out.push(store.base + i);
  return out;
}
function shown(filter: FilterIndex): number[] {
  return Array.from({ length: filter.count }, (_, k) => filter.matchAbs(k));
}

describe("FilterIndex with a regex (in the worker)", () => {
  it("runs the pattern in the worker: pending until it answers, then the matches", async () => {
    const { store, filter, workers, events, quiet } = setup();
    store.appendLive(lines("deploy web-1", "restart db", "deploy web-2"));
    expect(filter.setSpec(re("deploy web-\\d"))).toBeNull();
    expect(filter.state).toBe("pending");
    expect(filter.active).toBe(true);
    expect(filter.count).toBe(0);
    await waitFor(() => events.includes("settled"));
    expect(filter.state).toBe("ready");
    expect(filter.matchCount).toBe(2);
    expect(shown(filter)).toEqual([0, 2]);
    // The texts went to the worker as a mirror; the page ran no pattern (nothing to highlight with yet).
    expect(workers).toHaveLength(1);
    expect(workers[0]?.engine.length).toBe(3);
    const hl = filter.highlighter;
    expect(hl?.ranges("deploy web-1")).toBeNull();
    await waitFor(() => events.includes("highlights"));
    expect(hl?.ranges("deploy web-1")).toEqual([0, 12]);
    await quiet();
  });

  it("tests only new lines as they arrive, in the worker", async () => {
    const { store, filter, workers, events, quiet } = setup();
    store.appendLive(
      lines(...Array.from({ length: 5000 }, (_, i) => (i % 100 === 0 ? `hit ${i}` : `miss ${i}`))),
    );
    filter.setSpec(re("^hit"));
    await waitFor(() => events.includes("settled"));
    expect(filter.matchCount).toBe(50);
    await quiet();
    const w = workers[0] as StandInWorker;
    const before = w.received.length;
    store.appendLive(lines("hit new", "miss new"));
    await waitFor(() => filter.matchCount === 51);
    const sent = w.received.slice(before);
    expect(sent).toEqual([expect.objectContaining({ t: "append", texts: ["hit new", "miss new"] })]);
    expect(store.text(filter.matchAbs(50) - store.base)).toBe("hit new");
  });

  it("keeps its rows equal to the plain answer through appends, evictions, older pages, gaps and fills", async () => {
    type Op =
      | { k: "append"; texts: string[] }
      | { k: "gap" }
      | { k: "prepend"; texts: string[] }
      | { k: "detached"; texts: string[] }
      | { k: "fill"; texts: string[]; complete: boolean }
      | { k: "clear" }
      | { k: "spec"; text: string };
    const text = fc.constantFrom("alpha", "beta 7", "gamma", "ALPHA 12", "delta", "");
    const texts = fc.array(text, { minLength: 0, maxLength: 6 });
    const op: fc.Arbitrary<Op> = fc.oneof(
      { weight: 5, arbitrary: texts.map((t) => ({ k: "append" as const, texts: t })) },
      { weight: 1, arbitrary: fc.constant({ k: "gap" as const }) },
      { weight: 2, arbitrary: texts.map((t) => ({ k: "prepend" as const, texts: t })) },
      { weight: 1, arbitrary: texts.map((t) => ({ k: "detached" as const, texts: t })) },
      {
        weight: 2,
        arbitrary: fc.record({ k: fc.constant("fill" as const), texts, complete: fc.boolean() }),
      },
      { weight: 1, arbitrary: fc.constant({ k: "clear" as const }) },
      {
        weight: 1,
        arbitrary: fc
          .constantFrom("a", "\\d", "^(beta|gamma)", "LPH")
          .map((t) => ({ k: "spec" as const, text: t })),
      },
    );
    await fc.assert(
      fc.asyncProperty(
        fc.array(op, { minLength: 1, maxLength: 25 }),
        fc.boolean(),
        async (ops, settleEach) => {
          const { store, filter, workers, quiet } = setup({ cap: 12 });
          let pattern = /a/i;
          filter.setSpec(re("a"));
          for (const o of ops) {
            switch (o.k) {
              case "append":
                store.appendLive(lines(...o.texts));
                break;
              case "gap":
                store.appendGap({ from: "x", to: `g${++seq}`, reason: "slow-client", skipped: 3 });
                break;
              case "prepend":
                if (o.texts.length > 0) store.prepend(lines(...o.texts), null, false);
                break;
              case "detached":
                if (o.texts.length > 0) {
                  store.headCursor = "h";
                  store.prependDetached(lines(...o.texts), null, false);
                }
                break;
              case "fill": {
                let row = -1;
                for (let i = 0; i < store.length; i++)
                  if (store.gap(i) && !store.gap(i)?.unavailable) row = i;
                if (row >= 0) store.fillGap(row, lines(...o.texts), o.complete);
                break;
              }
              case "clear":
                store.clear();
                break;
              case "spec":
                pattern = new RegExp(o.text, "i");
                filter.setSpec(re(o.text));
                break;
            }
            if (settleEach) await quiet();
          }
          await quiet();
          expect(filter.state).toBe("ready");
          expect(shown(filter)).toEqual(expected(store, pattern));
          expect(filter.matchCount).toBe(
            expected(store, pattern).filter((a) => !store.isGap(a - store.base)).length,
          );
          // The mirror stayed in step by itself: the worker never had to be restarted to catch up.
          expect(workers).toHaveLength(1);
          expect(workers[0]?.engine.length).toBe(store.length);
          filter.close();
        },
      ),
      { numRuns: 60 },
    );
  }, 60_000);

  it("sends a big store's mirror a slice per task, so the page keeps answering while it goes out", async () => {
    const { store, filter, workers, quiet } = setup();
    store.appendLive(lines(...Array.from({ length: 100_000 }, (_, i) => `line ${i}`)));
    filter.setSpec(re("")); // the regex toggle on, nothing typed yet: the mirror gets ready
    const w = workers[0] as StandInWorker;
    const loads = () => w.posted.flatMap((m) => (m.t === "load" ? [m.texts.length] : []));
    expect(loads()).toEqual([LINES_PER_TASK]); // what went out in this task; the rest follows in later ones
    await quiet();
    expect(loads()).toEqual([20_000, 20_000, 20_000, 20_000, 20_000]);
    expect(w.engine.length).toBe(100_000);
  });

  it("starts a pattern's budget once the mirror is in: copying a big store does not count against it", async () => {
    const { store, filter } = setup({ budgetMs: 80, takes: (m) => (m.t === "load" ? 60 : 0) });
    store.appendLive(lines(...Array.from({ length: 60_000 }, (_, i) => `line ${i}`)));
    filter.setSpec(re("line 1\\d{4}$")); // queued behind 180 ms of mirror
    await waitFor(() => filter.state !== "pending", { message: "the pattern's rows" });
    expect(filter.state).toBe("ready");
    expect(filter.matchCount).toBe(10_000);
  });

  it("stops a pattern that overruns its budget: the worker is terminated, the filter says too slow, a fresh worker takes the next one", async () => {
    const { store, filter, workers, events, quiet } = setup({
      budgetMs: 80,
      hangOn: (m) => m.t === "scan" && m.job.spec.source === "(a+)+$",
    });
    store.appendLive(lines("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!", "bbb"));
    filter.setSpec(re("(a+)+$"));
    expect(filter.state).toBe("pending");
    await waitFor(() => events.includes("settled"), { message: "the overrun" });
    expect(filter.state).toBe("slow");
    expect(filter.active).toBe(false);
    expect(filter.error).toMatch(/^Pattern too slow: stopped after 0\.1 s on 2 lines/);
    expect(filter.highlighter).toBeNull();
    expect(workers[0]?.terminated).toBe(true);
    // A new worker is there at once, with the mirror, ready for the next pattern.
    expect(workers).toHaveLength(2);
    await quiet();
    expect(workers[1]?.engine.length).toBe(2);
    // Setting the same pattern again does not run it again.
    filter.setSpec(re("(a+)+$"));
    expect(filter.state).toBe("slow");
    expect(workers).toHaveLength(2);
    filter.setSpec(re("^b+$"));
    await waitFor(() => filter.state === "ready");
    expect(shown(filter)).toEqual([1]);
  });

  it("does not blame the new pattern when the one it replaced overruns", async () => {
    const { store, filter, workers, events } = setup({
      budgetMs: 80,
      hangOn: (m) => m.t === "scan" && m.job.spec.source === "(a|aa)+b",
    });
    store.appendLive(lines("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "ok b"));
    filter.setSpec(re("(a|aa)+b"));
    await new Promise((r) => setTimeout(r, 10)); // its scan is running (hung) when the user types on
    filter.setSpec(re("ok"));
    await waitFor(() => events.includes("settled"), { message: "the new pattern's rows" });
    expect(filter.state).toBe("ready");
    expect(filter.error).toBeNull();
    expect(shown(filter)).toEqual([1]);
    expect(workers[0]?.terminated).toBe(true);
  });

  it("holds highlighting to the same budget: ranges come from the worker, and an overrun there stops the pattern", async () => {
    // Fast to test (the first digit matches at once), slow to highlight (the search for more matches).
    const { store, filter, events } = setup({
      budgetMs: 80,
      hangOn: (m) => m.t === "ranges",
    });
    store.appendLive(lines("[2025-12-17T17:40:37Z] login aaaaaaaaaaaaaaaaaaaaaaaaaaaa!"));
    filter.setSpec(re("([a-z]+)*[0-9]"));
    await waitFor(() => filter.state === "ready");
    expect(filter.matchCount).toBe(1);
    expect(filter.highlighter?.ranges(store.text(0))).toBeNull(); // asks the worker, which hangs
    await waitFor(() => filter.state === "slow", { message: "the highlight overrun" });
    expect(events).toEqual(["settled", "settled"]);
    expect(filter.error).toMatch(/too slow/);
    expect(filter.highlighter).toBeNull();
  });

  it("stops a pattern that a newly arrived line makes slow", async () => {
    const { store, filter } = setup({
      budgetMs: 80,
      hangOn: (m) => m.t === "append" && m.job !== null && m.texts.some((t) => t?.includes("bbbb")),
    });
    store.appendLive(lines("login a", "login c"));
    filter.setSpec(re("(b+)+$"));
    await waitFor(() => filter.state === "ready");
    expect(filter.matchCount).toBe(0);
    store.appendLive(lines(`login ${"b".repeat(40)}!`));
    await waitFor(() => filter.state === "slow", { message: "the overrun on the new line" });
    expect(filter.error).toMatch(/^Pattern too slow: stopped after 0\.1 s on 1 line,/);
  });

  it("says so when the worker cannot start, and filters literally as before", async () => {
    const store = new StreamStore();
    const filter = new FilterIndex(store, {
      createWorker: () => {
        const w: WorkerLike = {
          onmessage: null,
          onerror: null,
          postMessage() {},
          terminate() {},
        };
        setTimeout(() => w.onerror?.({ message: "blocked by policy" }), 0);
        return w;
      },
    });
    store.appendLive(lines("a1", "b2"));
    filter.setSpec(re("\\d"));
    await waitFor(() => filter.state === "failed");
    expect(filter.error).toBe("Regex filter unavailable: blocked by policy");
    filter.setSpec({ ...EMPTY_FILTER, text: "b" });
    expect(filter.state).toBe("ready");
    expect(filter.matchCount).toBe(1);
  });
});
