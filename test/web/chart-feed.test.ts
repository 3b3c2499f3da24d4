import { afterEach, beforeEach, describe, expect, it, vi } from "vitest";
import { ChartFeed } from "../../src/web/chart-feed.js";
import { StreamStore } from "../../src/web/store.js";

const line = (i: number) => ({ seq: i, text: `[2025-01-01T00:00:0${i % 10}Z] line ${i}`, c: `c${i}` });

describe("ChartFeed: the chart follows the store it shows", () => {
  beforeEach(() => {
    vi.useFakeTimers();
  });
  afterEach(() => {
    vi.useRealTimers();
  });

  it("draws at once, then at most once per interval with the last change always drawn, and only the shown store", () => {
    const drawn: { store: StreamStore; length: number }[] = [];
    const feed = new ChartFeed({ update: (store) => drawn.push({ store, length: store.length }) }, 500, () =>
      Date.now(),
    );
    const a = new StreamStore();
    const b = new StreamStore();
    feed.show(a);
    expect(drawn).toHaveLength(1);

    // A burst inside one interval: one more draw, after the interval, with everything in it.
    for (let i = 0; i < 5; i++) a.appendLive([line(i)]);
    expect(drawn).toHaveLength(1);
    vi.advanceTimersByTime(500);
    expect(drawn.map((d) => d.length)).toEqual([0, 5]);

    // A change after a quiet interval is drawn at once.
    vi.advanceTimersByTime(1000);
    a.appendLive([line(5)]);
    expect(drawn.map((d) => d.length)).toEqual([0, 5, 6]);

    // Another store shown: the old one's changes no longer draw.
    feed.show(b);
    vi.advanceTimersByTime(1000);
    a.appendLive([line(6)]);
    vi.advanceTimersByTime(1000);
    expect(drawn.map((d) => d.store)).toEqual([a, a, a, b]);

    feed.close();
    b.appendLive([line(7)]);
    vi.advanceTimersByTime(1000);
    expect(drawn).toHaveLength(4);
  });
});
