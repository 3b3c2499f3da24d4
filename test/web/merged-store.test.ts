import { describe, expect, it } from "vitest";
import { FilterIndex } from "../../src/web/filter.js";
import { compareRows, effectiveKeys, MergeOrder } from "../../src/web/merge-order.js";
import { MergedStore } from "../../src/web/merged-store.js";
import { type InLine, StreamStore } from "../../src/web/store.js";

/** A line of stream `s`, number `n`, at second `sec` (null: a line without a timestamp). */
function line(s: number, n: number, sec: number | null): InLine {
  const ts =
    sec === null ? "" : `[${new Date(Date.UTC(2025, 11, 17, 17, 0, 0) + sec * 1000).toISOString()}] `;
  return { seq: n, text: `${ts}s${s} n${n}`, c: `s${s}.${n}` };
}

const rowsOf = (s: StreamStore) =>
  Array.from({ length: s.length }, (_, i) =>
    s.isGap(i) ? `GAP:${s.cursor(i)}` : s.text(i).replace(/^\[[^\]]*\] /, ""),
  );

/** The merge by definition: every member's rows (times carried forward in their stream), sorted, newest `cap`. */
function expected(members: StreamStore[], cap = Number.POSITIVE_INFINITY): string[] {
  const all: { key: number; src: number; ord: number; text: string }[] = [];
  members.forEach((m, src) => {
    const keys = effectiveKeys(Array.from({ length: m.length }, (_, r) => m.time(r)));
    const texts = rowsOf(m);
    for (let r = 0; r < m.length; r++)
      all.push({ key: keys[r] as number, src, ord: m.base + r, text: texts[r] as string });
  });
  all.sort((a, b) => compareRows(a.key, a.src, a.ord, b.key, b.src, b.ord));
  return all.slice(Math.max(0, all.length - cap)).map((r) => r.text);
}

/** A small deterministic PRNG (mulberry32), so a failure repeats. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function merged(n: number, cap = 1_000_000): { members: StreamStore[]; view: MergedStore } {
  const members = Array.from({ length: n }, () => new StreamStore({ cap: 1_000_000 }));
  return { members, view: new MergedStore(new StreamStore({ cap }), members) };
}

describe("merge order", () => {
  it("orders by time; equal times by stream order, then each stream's own order, whatever the arrival order", () => {
    const { members, view } = merged(2);
    // Stream 1 arrives first, with the same second as stream 0's lines that come later.
    members[1]?.appendLive([line(1, 1, 5), line(1, 2, 5)]);
    members[0]?.appendLive([line(0, 1, 5), line(0, 2, 5), line(0, 3, 4)]);
    expect(rowsOf(view.store)).toEqual(["s0 n3", "s0 n1", "s0 n2", "s1 n1", "s1 n2"]);
    expect(rowsOf(view.store)).toEqual(expected(members as StreamStore[]));
  });

  it("gives a line without a timestamp the time of the previous line of its stream (-Infinity before any)", () => {
    expect(effectiveKeys([Number.NaN, 10, Number.NaN, 5, Number.NaN])).toEqual([
      Number.NEGATIVE_INFINITY,
      10,
      10,
      5,
      5,
    ]);
    const { members, view } = merged(2);
    members[0]?.appendLive([line(0, 1, 10), line(0, 2, null), line(0, 3, 30)]);
    members[1]?.appendLive([line(1, 1, null), line(1, 2, 10), line(1, 3, 20)]);
    // A timeless live line of stream 1 carries 20 (its previous line), so it goes before stream 0's 30.
    members[1]?.appendLive([line(1, 4, null)]);
    expect(rowsOf(view.store)).toEqual(["s1 n1", "s0 n1", "s0 n2", "s1 n2", "s1 n3", "s1 n4", "s0 n3"]);
  });

  it("puts a late line with an older time in its place, as an insert the filter takes without a full pass", () => {
    const { members, view } = merged(2);
    members[0]?.appendLive([line(0, 1, 1), line(0, 2, 3), line(0, 3, 5)]);
    const changes: string[] = [];
    view.store.onChange((c) => changes.push(c.kind === "insert" ? `insert@${c.at}+${c.count}` : c.kind));
    const filter = new FilterIndex(view.store);
    filter.setSpec({ text: "n", caseSensitive: false, regex: false, onlyMatching: true });
    members[1]?.appendLive([line(1, 1, 2), line(1, 2, 4), line(1, 3, 6)]);
    expect(rowsOf(view.store)).toEqual(["s0 n1", "s1 n1", "s0 n2", "s1 n2", "s0 n3", "s1 n3"]);
    // The newest first (each lands where the order says), the one past the end as an append.
    expect(changes).toEqual(["append", "insert@2+1", "insert@1+1"]);
    expect(Array.from({ length: filter.count }, (_, k) => filter.matchAbs(k) - view.store.base)).toEqual([
      0, 1, 2, 3, 4, 5,
    ]);
    filter.close();
  });

  it("gives the same order as the definition for many streams, random arrival, late lines and timeless ones", () => {
    for (const seed of [1, 2, 3]) {
      const rand = rng(seed);
      const { members, view } = merged(12);
      const next = members.map(() => 0);
      const clock = members.map(() => 0);
      for (let batch = 0; batch < 400; batch++) {
        const s = Math.floor(rand() * members.length);
        const batchLines: InLine[] = [];
        for (let k = Math.floor(rand() * 5) + 1; k > 0; k--) {
          // Mostly forward in time, sometimes a step back (a late line), sometimes no timestamp.
          clock[s] = (clock[s] as number) + Math.floor(rand() * 3) - (rand() < 0.1 ? 4 : 0);
          next[s] = (next[s] as number) + 1;
          batchLines.push(line(s, next[s] as number, rand() < 0.15 ? null : (clock[s] as number)));
        }
        members[s]?.appendLive(batchLines);
      }
      expect(rowsOf(view.store)).toEqual(expected(members));
      expect(view.order.length).toBe(view.store.length);
      // A rebuild (what a gap fill or a restart costs) arrives at the same order.
      view.rebuild();
      expect(rowsOf(view.store)).toEqual(expected(members));
      // So does one within a budget: the newest rows of the merge.
      const small = new MergedStore(new StreamStore({ cap: 100 }), members);
      expect(rowsOf(small.store)).toEqual(expected(members, 100));
      expect(small.order.length).toBe(100);
      small.close();
    }
  });

  it("keeps a literal filter's matches equal to a full pass through late lines and gaps", () => {
    const rand = rng(11);
    const { members, view } = merged(4, 500);
    const filter = new FilterIndex(view.store);
    const spec = { text: "7", caseSensitive: false, regex: false, onlyMatching: true };
    filter.setSpec(spec);
    const next = [0, 0, 0, 0];
    for (let batch = 0; batch < 300; batch++) {
      const s = Math.floor(rand() * 4);
      if (rand() < 0.05)
        members[s]?.appendGap({ from: null, to: `s${s}.gap${batch}`, reason: "slow-client" });
      const add: InLine[] = [];
      for (let k = Math.floor(rand() * 4) + 1; k > 0; k--) {
        next[s] = (next[s] as number) + 1;
        add.push(line(s, next[s] as number, batch + Math.floor(rand() * 20) - 10));
      }
      members[s]?.appendLive(add);
    }
    const held = Array.from({ length: filter.count }, (_, k) => filter.matchAbs(k));
    const fresh = new FilterIndex(view.store);
    fresh.setSpec(spec);
    expect(held).toEqual(Array.from({ length: fresh.count }, (_, k) => fresh.matchAbs(k)));
    expect(filter.matchCount).toBe(fresh.matchCount);
    expect(filter.matchCount).toBeGreaterThan(10);
    filter.close();
    fresh.close();
  });

  it("keeps within its budget: the oldest merged rows go, and a late line older than all kept is left out", () => {
    const rand = rng(7);
    const { members, view } = merged(3, 50);
    const next = [0, 0, 0];
    for (let batch = 0; batch < 300; batch++) {
      const s = Math.floor(rand() * 3);
      next[s] = (next[s] as number) + 1;
      members[s]?.appendLive([line(s, next[s] as number, batch + Math.floor(rand() * 6) - 3)]);
      expect(view.store.length).toBeLessThanOrEqual(50);
      expect(view.order.length).toBe(view.store.length);
    }
    // What is kept is the newest 50 of the merge (a late line older than the kept front was never added).
    const want = expected(members).slice(-50);
    const got = rowsOf(view.store);
    expect(got.length).toBe(50);
    const kept = new Set(got);
    expect(want.filter((t) => kept.has(t))).toEqual(got);
    expect(got.slice(-40)).toEqual(want.slice(-40));
  });

  it("at its budget, leaves out a line of a batch older than what the batch's newer lines leave kept", () => {
    const { members, view } = merged(2, 3);
    members[0]?.appendLive([line(0, 1, 10), line(0, 2, 11), line(0, 3, 12)]);
    members[1]?.appendLive([line(1, 1, 5), line(1, 2, 13)]);
    expect(rowsOf(view.store)).toEqual(["s0 n2", "s0 n3", "s1 n2"]);
    expect([0, 1, 2].map((i) => view.sourceOf(i))).toEqual([0, 0, 1]);
  });

  it("places a member's older page (history) among the others, and never makes a cursor of its own", () => {
    const { members, view } = merged(2);
    const [a, b] = members as [StreamStore, StreamStore];
    a.appendLive([line(0, 10, 100), line(0, 11, 200)]);
    b.appendLive([line(1, 1, 50), line(1, 2, 150)]);
    a.prepend([line(0, 8, 40), line(0, 9, 60)], "s0.7", false);
    expect(rowsOf(view.store)).toEqual(["s0 n8", "s1 n1", "s0 n9", "s0 n10", "s1 n2", "s0 n11"]);
    expect(view.store.resumeCursor).toBeNull();
    expect(a.resumeCursor).toBe("s0.11");
    expect(b.resumeCursor).toBe("s1.2");
    expect(view.atStart).toBe(false);
    a.prepend([], null, true);
    b.prepend([], null, true);
    expect(view.atStart).toBe(true);
  });

  it("shows a member's gap as a row that leads back to it; filling it there rebuilds the merge", async () => {
    const { members, view } = merged(2);
    const [a, b] = members as [StreamStore, StreamStore];
    a.appendLive([line(0, 1, 1)]);
    a.appendGap({ from: "s0.1", to: "s0.4", skipped: 2, reason: "slow-client" });
    a.appendLive([line(0, 4, 9)]);
    b.appendLive([line(1, 1, 2), line(1, 2, 5)]);
    // The gap row takes its stream's previous time (1): before stream 1's line at 2.
    expect(rowsOf(view.store)).toEqual(["s0 n1", "GAP:s0.4", "s1 n1", "s1 n2", "s0 n4"]);
    const where = view.memberGap(1);
    expect(where).toEqual({ member: 0, row: 1 });
    a.fillGap(1, [line(0, 2, 3), line(0, 3, 6)], true);
    await Promise.resolve();
    expect(rowsOf(view.store)).toEqual(["s0 n1", "s1 n1", "s0 n2", "s1 n2", "s0 n3", "s0 n4"]);
    expect(view.sourceOf(0)).toBe(0);
    expect(view.sourceOf(1)).toBe(1);
  });

  it("keeps its rows when a member drops its oldest (copies, bounded by its own budget)", () => {
    const members = [new StreamStore({ cap: 3 }), new StreamStore({ cap: 3 })];
    const view = new MergedStore(new StreamStore({ cap: 5 }), members);
    members[0]?.appendLive([line(0, 1, 1), line(0, 2, 2), line(0, 3, 3), line(0, 4, 4)]);
    members[1]?.appendLive([line(1, 1, 5)]);
    expect(members[0]?.length).toBe(3);
    expect(rowsOf(view.store)).toEqual(["s0 n1", "s0 n2", "s0 n3", "s0 n4", "s1 n1"]);
    members[1]?.appendLive([line(1, 2, 6)]);
    expect(rowsOf(view.store)).toEqual(["s0 n2", "s0 n3", "s0 n4", "s1 n1", "s1 n2"]);
  });

  it("plans runs without changing the order", () => {
    const o = new MergeOrder();
    o.insertAt(0, [1, 3, 5], [0, 0, 0], [0, 1, 2]);
    const runs = o.plan(1, [6, 0, 3, 3], [0, 1, 2, 3]);
    expect(runs).toEqual([
      { at: 0, items: [1] },
      { at: 2, items: [2, 3] },
      { at: 3, items: [0] },
    ]);
    expect(o.length).toBe(3);
  });
});
