import { compareRows, effectiveKeys, MergeOrder } from "./merge-order.js";
import type { StoreChange, StreamStore } from "./store.js";

/**
 * A merged view of several streams' stores: one StreamStore (so the view, the filter, exports and the chart work
 * on it unchanged) whose rows are copies of the members' rows in merge order (merge-order.ts), kept in step as
 * the members change. It holds at most its own store's cap rows (the page's line budget): past it the oldest
 * merged rows go; the strings are the members' own, so a row costs its columns, not its text again.
 *
 * Members keep their own cursors, subscriptions and history; the merged view reads them and never makes a cursor
 * of its own. Live lines and pages of older lines are placed incrementally; what renumbers a member's rows (a gap
 * filled, rows cut at the memory cap, a restart) rebuilds the merge once, after the change (a microtask).
 */
export class MergedStore {
  readonly order = new MergeOrder();
  /** Key of each member's newest row: the carry for a live line without a time. */
  private lastKey: number[];
  private readonly unsubscribe: (() => void)[] = [];
  private rebuildQueued = false;
  private closed = false;

  constructor(
    /** The merged rows (an empty store; its cap is the merged view's budget). */
    readonly store: StreamStore,
    readonly members: readonly StreamStore[],
  ) {
    this.lastKey = members.map(() => Number.NEGATIVE_INFINITY);
    this.unsubscribe.push(
      store.onChange((c) => {
        if (c.kind === "evict") this.order.dropFront(c.count);
        else if (c.kind === "clear") this.order.clear();
      }),
    );
    members.forEach((m, i) => {
      this.unsubscribe.push(m.onChange((c) => this.onMember(i, c)));
    });
    this.rebuild();
  }

  /** Index (in `members`) of the stream a merged row comes from, or -1. */
  sourceOf(row: number): number {
    return this.order.src(row);
  }

  /** The member row of a merged gap row (the gap shares its GapInfo with the member), or null. */
  memberGap(row: number): { member: number; row: number } | null {
    const info = this.store.gap(row);
    const member = this.sourceOf(row);
    const m = this.members[member];
    if (!info || !m) return null;
    for (let r = m.length - 1; r >= 0; r--) if (m.isGap(r) && m.gap(r) === info) return { member, row: r };
    return null;
  }

  /** True when every member reached the start of its stream (nothing older to load). */
  get atStart(): boolean {
    return this.members.every((m) => m.atFileStart || m.length === 0);
  }

  close(): void {
    this.closed = true;
    for (const u of this.unsubscribe.splice(0)) u();
  }

  /** Builds the merge again from what the members hold: the newest rows, up to the budget. */
  rebuild(): void {
    this.rebuildQueued = false;
    this.store.clear();
    // Each member's rows in merge order (a stream's times rarely go back: then it is its rows as they are).
    const lists = this.members.map((m, i) => {
      const times: number[] = [];
      const rows: number[] = [];
      for (let r = 0; r < m.length; r++) {
        times.push(m.time(r));
        rows.push(r);
      }
      const keys = effectiveKeys(times);
      this.lastKey[i] = keys[keys.length - 1] ?? Number.NEGATIVE_INFINITY;
      if (keys.some((k, r) => r > 0 && k < (keys[r - 1] as number)))
        rows.sort((a, b) => (keys[a] as number) - (keys[b] as number) || a - b);
      return { keys, rows, base: m.base, next: rows.length - 1 };
    });
    // Merged from the newest end, as far as the budget goes: the work is bounded by the budget, not by what the
    // members hold. Few streams: the newest of their heads is found by looking at each.
    const budget = this.store.cap;
    const srcs: number[] = [];
    const rows: number[] = [];
    const keys: number[] = [];
    const ords: number[] = [];
    while (srcs.length < budget) {
      let best = -1;
      let bk = 0;
      let bo = 0;
      for (let i = 0; i < lists.length; i++) {
        const l = lists[i] as (typeof lists)[number];
        if (l.next < 0) continue;
        const r = l.rows[l.next] as number;
        const k = l.keys[r] as number;
        if (best < 0 || compareRows(k, i, l.base + r, bk, best, bo) > 0) {
          best = i;
          bk = k;
          bo = l.base + r;
        }
      }
      if (best < 0) break;
      const l = lists[best] as (typeof lists)[number];
      srcs.push(best);
      rows.push(l.rows[l.next] as number);
      keys.push(bk);
      ords.push(bo);
      l.next--;
    }
    for (const col of [srcs, rows, keys, ords]) col.reverse();
    this.order.insertAt(0, keys, srcs, ords);
    this.store.insertCopied(0, this.members, srcs, rows);
    this.store.atFileStart = this.atStart;
  }

  private onMember(i: number, c: StoreChange): void {
    if (this.closed || this.rebuildQueued) return; // a queued rebuild will see this change too
    const m = this.members[i] as StreamStore;
    switch (c.kind) {
      case "evict":
        return; // the merged rows are copies: they stay until the merged view's own budget drops them
      case "append": {
        const from = m.length - c.count;
        const keys = this.place(i, from, c.count, this.lastKey[i] as number);
        this.lastKey[i] = keys[keys.length - 1] ?? (this.lastKey[i] as number);
        return;
      }
      case "insert":
        // Older lines in front. Their keys start fresh; a timeless first row held before took -Infinity, and
        // now has a previous line: its key changes, so that case (rare) is rebuilt.
        if (c.at === 0 && !(c.count < m.length && Number.isNaN(m.time(c.count)))) {
          const keys = this.place(i, 0, c.count, Number.NEGATIVE_INFINITY);
          if (c.count === m.length) this.lastKey[i] = keys[keys.length - 1] ?? Number.NEGATIVE_INFINITY;
          this.store.atFileStart = this.atStart;
          return;
        }
        break;
    }
    this.rebuildQueued = true;
    queueMicrotask(() => {
      if (!this.closed && this.rebuildQueued) this.rebuild();
    });
  }

  /**
   * Copies member rows [from, from+count) to their places. Runs go in from the newest, so each lands where the
   * order says; if the budget drops rows meanwhile, a run that would land before the kept front is left out.
   */
  private place(i: number, from: number, count: number, carry: number): number[] {
    const m = this.members[i] as StreamStore;
    const times: number[] = [];
    for (let k = 0; k < count; k++) times.push(m.time(from + k));
    const keys = effectiveKeys(times, carry);
    const ords = keys.map((_, k) => m.base + from + k);
    const runs = this.order.plan(i, keys, ords);
    let dropped = 0;
    const offStore = this.store.onChange((ch) => {
      if (ch.kind === "evict") dropped += ch.count;
    });
    try {
      for (let r = runs.length - 1; r >= 0; r--) {
        const run = runs[r] as (typeof runs)[number];
        const at = run.at - dropped;
        if (dropped > 0 && at <= 0) break; // older than everything kept: over the budget
        const srcs = run.items.map(() => i);
        this.order.insertAt(
          at,
          run.items.map((k) => keys[k] as number),
          srcs,
          run.items.map((k) => ords[k] as number),
        );
        this.store.insertCopied(
          at,
          this.members,
          srcs,
          run.items.map((k) => from + k),
        );
      }
    } finally {
      offStore();
    }
    return keys;
  }
}
