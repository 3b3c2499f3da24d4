import { describe, expect, it } from "vitest";
import { compileFilter, EMPTY_FILTER, FilterIndex, type FilterSpec } from "../../src/web/filter.js";
import { type InLine, StreamStore } from "../../src/web/store.js";

const spec = (text: string, more: Partial<FilterSpec> = {}): FilterSpec => ({
  ...EMPTY_FILTER,
  text,
  ...more,
});
const mk = (texts: string[], from = 1): InLine[] =>
  texts.map((text, k) => ({ seq: from + k, text, c: `c${from + k}` }));

describe("compileFilter", () => {
  it("matches substrings case-insensitively by default, literally", () => {
    const c = compileFilter(spec("a.b"));
    if (!c.ok || !c.matcher) throw new Error("expected a matcher");
    expect(c.matcher.test("xA.By")).toBe(true);
    expect(c.matcher.test("aXb")).toBe(false);
    expect(c.matcher.ranges("a.b A.B")).toEqual([0, 3, 4, 7]);
  });

  it("honours the case toggle", () => {
    const c = compileFilter(spec("Err", { caseSensitive: true }));
    if (!c.ok || !c.matcher) throw new Error("expected a matcher");
    expect(c.matcher.test("ERROR")).toBe(false);
    expect(c.matcher.test("Err")).toBe(true);
  });

  it("returns an invalid regex as an error and never throws", () => {
    const c = compileFilter(spec("(", { regex: true }));
    expect(c.ok).toBe(false);
    if (!c.ok) expect(c.error).toMatch(/missing closing \).*RE2 syntax/);
    // Lookaround and backreferences are not RE2 (the server's dialect too): the same kind of error.
    for (const p of ["a(?=b)", "(a)\\1"]) {
      const bad = compileFilter(spec(p, { regex: true }));
      expect(bad.ok, p).toBe(false);
      if (!bad.ok) expect(bad.error).toMatch(/RE2 syntax: no lookaround or backreferences/);
    }
  });

  it("runs a catastrophic pattern in linear time with the right matches and ranges (re2js)", () => {
    const line = `${"a".repeat(50_000)}!`;
    const none = compileFilter(spec("(a+)+$", { regex: true, caseSensitive: true }));
    if (!none.ok || !none.matcher) throw new Error("expected a matcher");
    expect(none.matcher.test(line)).toBe(false);
    expect(none.matcher.test("aaa")).toBe(true);
    const bang = compileFilter(spec("(A+)+!", { regex: true }));
    if (!bang.ok || !bang.matcher) throw new Error("expected a matcher");
    expect(bang.matcher.ranges(line)).toEqual([0, 50_001]);
    expect(bang.matcher.ranges("xaa! a!")).toEqual([1, 4, 5, 7]);
  });

  it("skips empty matches without looping", () => {
    const c = compileFilter(spec("x*", { regex: true }));
    if (!c.ok || !c.matcher) throw new Error("expected a matcher");
    expect(c.matcher.ranges("abxxc")).toEqual([2, 4]);
  });

  it("empty text means no filter", () => {
    expect(compileFilter(spec(""))).toEqual({ ok: true, matcher: null });
  });
});

describe("FilterIndex", () => {
  it("indexes matches and follows appends and evictions", () => {
    const s = new StreamStore({ cap: 4 });
    const f = new FilterIndex(s);
    s.appendLive(mk(["deploy ok", "db error", "login"]));
    expect(f.setSpec(spec("error"))).toBeNull();
    expect(f.count).toBe(1);
    s.appendLive(mk(["another ERROR", "x", "y"], 4)); // evicts 2 rows: "deploy ok", "db error"
    expect(f.count).toBe(1);
    expect(s.text(f.matchAbs(0) - s.base)).toBe("another ERROR");
    expect(f.countBelow(s.base + 1)).toBe(0);
    f.close();
  });

  it("keeps the previous state usable after an invalid regex", () => {
    const s = new StreamStore();
    const f = new FilterIndex(s);
    s.appendLive(mk(["a", "b"]));
    expect(f.setSpec(spec("[", { regex: true }))).not.toBeNull();
    expect(f.active).toBe(false);
    expect(f.setSpec(spec("b"))).toBeNull();
    expect(f.count).toBe(1);
  });

  it("recomputes after rows are inserted in the middle", () => {
    const s = new StreamStore();
    const f = new FilterIndex(s);
    s.appendLive(mk(["match 1"]));
    s.appendGap({ from: "c1", to: "c3", reason: "slow-client" });
    s.appendLive(mk(["match 4"], 4));
    f.setSpec(spec("match"));
    expect(f.matchCount).toBe(2);
    expect(f.count).toBe(3); // the gap row stays visible: never a silent hole
    s.fillGap(1, mk(["match 2", "nothing"], 2), true);
    expect(f.matchCount).toBe(3);
    expect(f.count).toBe(3);
    expect(s.text(f.matchAbs(1) - s.base)).toBe("match 2");
  });

  it("filters a large buffer with work proportional to new lines on append", () => {
    const s = new StreamStore();
    const f = new FilterIndex(s);
    const big = Array.from({ length: 50_000 }, (_, i) => (i % 100 === 0 ? `hit ${i}` : `miss ${i}`));
    s.appendLive(mk(big));
    f.setSpec(spec("hit"));
    expect(f.count).toBe(500);
    // Rows the filter reads from the store: through its packed runs (the literal's block scan) or one by one.
    let tested = 0;
    const runs = s.textRuns.bind(s);
    s.textRuns = (from, to, visit) =>
      runs(from, to, (text, offsets, first, row, count) => {
        tested += count;
        visit(text, offsets, first, row, count);
      });
    const text = s.text.bind(s);
    s.text = (i) => {
      tested++;
      return text(i);
    };
    s.appendLive(mk(["hit new", "miss new"], 50_001));
    expect(tested).toBe(2);
    expect(f.count).toBe(501);
  });
});
