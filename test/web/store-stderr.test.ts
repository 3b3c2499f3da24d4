import { describe, expect, it } from "vitest";
import { MergedStore } from "../../src/web/merged-store.js";
import { Lvl, StreamStore } from "../../src/web/store.js";

describe("StreamStore: a line's channel and its source's own time", () => {
  it("keeps stderr beside the level, and prefers `ts` over the text's timestamp", () => {
    const s = new StreamStore();
    s.appendLive([
      { seq: 1, text: "[2025-12-17T17:40:37Z] ERROR: from the text", c: "c1" },
      {
        seq: 2,
        text: "[2025-12-17T17:40:37Z] no level",
        c: "c2",
        ch: "stderr",
        ts: "2026-12-04T12:00:00.123456789Z",
      },
      { seq: 3, text: "plain", c: "c3", ts: "not a time" },
    ]);
    expect([s.stderr(0), s.stderr(1), s.stderr(2)]).toEqual([false, true, false]);
    expect(s.level(0)).toBe(Lvl.error);
    expect(s.level(1)).toBe(Lvl.info);
    expect(s.time(0)).toBe(Date.parse("2025-12-17T17:40:37Z"));
    expect(s.time(1)).toBe(Date.parse("2026-12-04T12:00:00.123Z"));
    expect(Number.isNaN(s.time(2))).toBe(true);
    // Pages put in front keep the mark; the minute counts see levels, not the mark.
    s.prepend([{ seq: 0, text: "older", c: "c0", ch: "stderr" }], null, true);
    expect(s.stderr(0)).toBe(true);
    expect(s.stderr(2)).toBe(true);
    const errors = [...s.minutes.values()].reduce((n, m) => n + m.errors, 0);
    expect(errors).toBe(1);
  });

  it("a merged view's copies keep the mark", () => {
    const a = new StreamStore();
    a.appendLive([{ seq: 1, text: "x", c: "a1", ch: "stderr", ts: "2026-12-04T12:00:00Z" }]);
    const merged = new MergedStore(new StreamStore({ cap: 10 }), [a]);
    try {
      expect(merged.store.length).toBe(1);
      expect(merged.store.stderr(0)).toBe(true);
      expect(merged.store.time(0)).toBe(Date.parse("2026-12-04T12:00:00Z"));
    } finally {
      merged.close();
    }
  });
});
