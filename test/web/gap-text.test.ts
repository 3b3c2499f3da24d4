import { describe, expect, it } from "vitest";
import type { GapInfo } from "../../src/web/store.js";
import { gapCountText, gapLoadingText, gapSpanText } from "../../src/web/view/gap-text.js";

const gap = (extra: Partial<GapInfo> = {}): GapInfo => ({
  from: "a",
  to: "b",
  reason: "not-loaded",
  ...extra,
});

describe("gap row words", () => {
  it("says the server's count with its errors, else the live gap's skipped count, else nothing", () => {
    expect(gapCountText(gap({ lines: 2200, errors: 220 }))).toBe("2,200 lines (220 errors)");
    expect(gapCountText(gap({ lines: 1, errors: 1 }))).toBe("1 line (1 error)");
    expect(gapCountText(gap({ lines: 5, errors: 0, skipped: 9 }))).toBe("5 lines");
    expect(gapCountText(gap({ lines: 1_200_000, countExact: false }))).toBe("more than 1,200,000 lines");
    expect(gapCountText(gap({ skipped: 18 }))).toBe("18 lines");
    expect(gapCountText(gap())).toBe("Lines");
  });

  it("gives the time span, naming the second date only when it differs", () => {
    const t0 = Date.UTC(2025, 0, 1, 0, 5, 0);
    expect(gapSpanText(gap({ firstTime: t0, lastTime: t0 + 2199_000 }), "utc")).toBe(
      " · 2025-01-01 00:05:00 – 00:41:39",
    );
    expect(gapSpanText(gap({ firstTime: t0, lastTime: t0 + 86_400_000 }), "utc")).toBe(
      " · 2025-01-01 00:05:00 – 2025-01-02 00:05:00",
    );
    expect(gapSpanText(gap({ lines: 3 }), "utc")).toBe("");
  });

  it("shows a fill's progress", () => {
    expect(gapLoadingText({ done: 3000, total: 12_500 })).toBe("Loading 3,000 of 12,500 lines…");
    expect(gapLoadingText({ done: 10, total: null })).toBe("Loading 10 lines…");
  });
});
