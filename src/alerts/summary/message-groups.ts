import type { EntryLevel } from "../../core/entry.js";

/** Messages of one shape: how many, one example, when first and last seen. */
export interface MessageGroup {
  template: string;
  example: string;
  level: EntryLevel;
  count: number;
  /**
   * How much `count` may be short by: the group was dropped while the table was full and came back. The true
   * count is in [count, count + maxUndercount]; 0 means exact.
   */
  maxUndercount: number;
  firstMs: number | null;
  lastMs: number | null;
}

/**
 * Counts messages by template within a fixed number of groups (lossy counting): when the table is full, the
 * least frequent half is dropped and the largest count dropped becomes the error bound of groups created after.
 * Frequent messages stay exact; memory stays `capacity` groups whatever the log holds.
 */
export class MessageGroups {
  private readonly groups = new Map<string, MessageGroup>();
  /** The largest count dropped so far: what a group created now may have lost before. */
  private dropped = 0;
  /** Groups dropped in all. */
  evicted = 0;

  constructor(readonly capacity = 2_000) {}

  add(template: string, example: string, level: EntryLevel, atMs: number | null): void {
    let group = this.groups.get(template);
    if (group === undefined) {
      if (this.groups.size >= this.capacity) this.prune();
      group = {
        template,
        example,
        level,
        count: 0,
        maxUndercount: this.dropped,
        firstMs: atMs,
        lastMs: atMs,
      };
      this.groups.set(template, group);
    }
    group.count++;
    if (atMs !== null) {
      group.firstMs ??= atMs;
      group.lastMs = atMs;
    }
  }

  /** The `n` largest groups, largest first (ties: the earlier seen first). */
  top(n: number): MessageGroup[] {
    return [...this.groups.values()].sort((a, b) => b.count - a.count).slice(0, n);
  }

  get size(): number {
    return this.groups.size;
  }

  private prune(): void {
    const byCount = [...this.groups.values()].sort((a, b) => a.count - b.count);
    const drop = byCount.slice(0, Math.ceil(byCount.length / 2));
    for (const g of drop) {
      this.groups.delete(g.template);
      this.dropped = Math.max(this.dropped, g.count + g.maxUndercount);
    }
    this.evicted += drop.length;
  }
}
