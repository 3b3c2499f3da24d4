import { describe, expect, it } from "vitest";
import { samePosition } from "../../src/protocol/lines-frame.js";
import { type InLine, Lvl, StreamStore } from "../../src/web/store.js";

function lines(from: number, n: number, minute = 0): InLine[] {
  return Array.from({ length: n }, (_, k) => {
    const seq = from + k;
    const ts = new Date(Date.UTC(2025, 11, 17, 17, minute, 0) + k * 1000).toISOString();
    return {
      seq,
      text: `[${ts}] line ${seq}${seq % 10 === 0 ? " failed" : ""}`,
      c: `c${seq}`,
    };
  });
}

const texts = (s: StreamStore) =>
  Array.from({ length: s.length }, (_, i) => (s.isGap(i) ? "GAP" : s.text(i)));

describe("StreamStore", () => {
  it("appends live lines and tracks the resume cursor", () => {
    const s = new StreamStore();
    s.appendLive(lines(1, 3));
    expect(s.length).toBe(3);
    expect(s.text(2)).toContain("line 3");
    expect(s.resumeCursor).toBe("c3");
    expect(s.level(0)).toBe(Lvl.info);
  });

  it("drops the oldest beyond the cap and remembers where row 0 starts", () => {
    const s = new StreamStore({ cap: 5 });
    const changes: string[] = [];
    s.onChange((c) => changes.push(`${c.kind}:${"count" in c ? c.count : ""}`));
    s.appendLive(lines(1, 8));
    expect(s.length).toBe(5);
    expect(s.base).toBe(3);
    expect(s.text(0)).toContain("line 4");
    expect(s.headCursor).toBe("c3");
    expect(changes).toEqual(["append:8", "evict:3"]);
  });

  it("keeps absolute indices stable across eviction and prepending", () => {
    const s = new StreamStore({ cap: 100 });
    s.appendLive(lines(11, 10));
    const abs = s.base + 0;
    s.prepend(lines(1, 10), null, true);
    expect(s.length).toBe(20);
    expect(s.text(abs - s.base)).toContain("line 11");
    expect(s.atFileStart).toBe(true);
  });

  it("prepending past the cap turns the newest rows into a fillable gap", () => {
    const s = new StreamStore({ cap: 6 });
    s.appendLive(lines(5, 4)); // 5..8
    s.prepend(lines(1, 4), null, true); // 1..4 -> 8 rows, cap 6
    expect(s.length).toBe(6);
    expect(
      texts(s)
        .slice(0, 5)
        .map((t) => t.replace(/.*line /, "")),
    ).toEqual(["1", "2", "3", "4", "5"]);
    expect(s.isGap(5)).toBe(true);
    expect(s.gap(5)).toMatchObject({ from: "c5", to: "c8", skipped: 3 });
    expect(s.resumeCursor).toBe("c8");
  });

  it("shows server gaps as rows and fills them from history", () => {
    const s = new StreamStore();
    s.appendLive(lines(1, 2));
    s.appendGap({ from: "c2", to: "c6", skipped: 4, reason: "slow-client" });
    s.appendLive(lines(7, 1));
    expect(s.resumeCursor).toBe("c7");
    expect(s.isGap(2)).toBe(true);
    s.fillGap(2, lines(3, 2), false);
    expect(s.gap(4)).toMatchObject({ from: "c4", skipped: 2 });
    s.fillGap(4, lines(5, 2), true);
    expect(texts(s).map((t) => t.replace(/.*line /, ""))).toEqual(["1", "2", "3", "4", "5", "6", "7"]);
  });

  it("marks a gap unavailable when history has nothing for it", () => {
    const s = new StreamStore();
    s.appendGap({ from: null, to: "c9", reason: "file-gone" });
    s.fillGap(0, [], false);
    expect(s.gap(0)?.unavailable).toBe(true);
  });

  it("puts a detached older block in front with a gap to the rest", () => {
    const s = new StreamStore();
    s.appendLive(lines(100, 3));
    s.prepend(lines(90, 10), "c89", false);
    s.prependDetached(lines(1, 2), null, true);
    expect(s.isGap(2)).toBe(true);
    expect(s.gap(2)).toMatchObject({ from: "c2", to: "c89" });
    expect(s.text(3)).toContain("line 90");
  });

  it("counts entries and errors per minute over what is in memory", () => {
    const s = new StreamStore({ cap: 70 });
    s.appendLive(lines(1, 60, 0)); // minute 0: seq 1..60, errors at 10..60 = 6
    s.appendLive(lines(61, 10, 1));
    const m0 = Math.floor(Date.UTC(2025, 11, 17, 17, 0) / 60_000);
    expect(s.minutes.get(m0)).toEqual({ entries: 60, errors: 6 });
    s.appendLive(lines(71, 10, 2)); // evicts 10 of minute 0 (seq 1..10, one error)
    expect(s.minutes.get(m0)).toEqual({ entries: 50, errors: 5 });
  });

  it("finds rows by time and cursor", () => {
    const s = new StreamStore();
    s.appendLive(lines(1, 100));
    const t = Date.UTC(2025, 11, 17, 17, 0, 49);
    expect(s.rowAtTime(t)).toBe(49);
    expect(s.rowAtTime(0)).toBe(0);
    expect(s.rowAtTime(Number.MAX_SAFE_INTEGER)).toBe(100);
    expect(s.rowOfCursor("c42")).toBe(41);
    expect(s.rowOfCursor("nope")).toBe(-1);
  });

  it("holds many lines across compactions without losing order", () => {
    const s = new StreamStore({ cap: 10_000 });
    for (let b = 0; b < 30; b++) s.appendLive(lines(b * 1000 + 1, 1000));
    expect(s.length).toBe(10_000);
    expect(s.text(0)).toContain("line 20001");
    expect(s.text(9999)).toContain("line 30000");
    expect(s.base).toBe(20_000);
  });

  it("rejects a bad cap clearly", () => {
    expect(() => new StreamStore({ cap: 0 })).toThrow(/positive integer/);
  });
});

describe("samePosition", () => {
  it("ignores the display-only sequence field of a cursor", () => {
    expect(samePosition("1.e393dc7b6dee.74.s8ib.1", "1.e393dc7b6dee.74.s8ib.9f")).toBe(true);
    expect(samePosition("1.e393dc7b6dee.74.s8ib.1", "1.e393dc7b6dee.74.s8ic.1")).toBe(false);
    expect(samePosition("1.aaaaaaaaaaaa.74.s8ib.1", "1.e393dc7b6dee.74.s8ib.1")).toBe(false);
    expect(samePosition(null, "x")).toBe(false);
    expect(samePosition("r.0123456789ab.3f.2", "r.0123456789ab.3f.7")).toBe(true);
  });

  it("finds a row by position whatever its sequence number", () => {
    const s = new StreamStore();
    s.appendLive([{ seq: 5, text: "a", c: "1.e393dc7b6dee.74.s8ib.5" }]);
    expect(s.rowOfCursor("1.e393dc7b6dee.74.s8ib.1")).toBe(0);
  });
});
