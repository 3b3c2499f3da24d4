import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import type { EntryInput } from "../../src/append/appender.js";
import { useClosers } from "../helpers/closer.js";
import { waitFor } from "../helpers/wait-for.js";
import {
  append,
  countText,
  openDashboard,
  type Stack,
  startStack,
  useBuiltDashboard,
} from "./dashboard-harness.js";

const shared = useBuiltDashboard("livetrail-web-gaps-");
const T0 = Date.UTC(2025, 0, 1);
const pad = (i: number) => String(i).padStart(5, "0");

/** `n` entries one second apart from T0; every 10th is an error. */
function entries(n: number): EntryInput[] {
  return Array.from({ length: n }, (_, i) => ({
    message: `entry ${pad(i)}`,
    time: new Date(T0 + i * 1000),
    level: i % 10 === 0 ? "error" : undefined,
  }));
}

describe("gap rows, the line counter and match stepping in a real browser", () => {
  const track = useClosers();
  const stack = async (initial: (string | EntryInput)[]): Promise<Stack> =>
    track(await startStack(shared.web.path, initial));
  const open = async (url: string): Promise<Page> => {
    const page = await openDashboard(shared.browser, url);
    track({ close: () => page.context().close() });
    return page;
  };
  const held = (page: Page) => page.evaluate(() => window.__livetrail.lineCount());

  /** Jumps to entry 100's time: a page of 1,000 lines from there, then a gap row up to the tail the page holds. */
  async function jumpLeavingGap(page: Page) {
    await page.fill("#jump-time", "2025-01-01T00:01:40");
    await page.click("#jump-go");
    await waitFor(async () => (await page.locator("#detail-text").textContent())?.includes("entry 00100"), {
      message: "the line at that time selected",
    });
    await page.evaluate(() => {
      const log = document.getElementById("log") as HTMLElement;
      log.scrollTop += 20 * 1000; // down to the end of the loaded block
    });
    const gap = page.locator("#log .row.gap");
    await waitFor(() => gap.isVisible(), { message: "the gap row" });
    return gap;
  }

  it("streams a gap's lines in with one click, page after page, and the rows run on without a hole", async () => {
    // A tail of 5,000 (15,000-19,999); the jump loads 100-1,099: the gap hides 13,900 lines (3 server pages).
    const s = await stack(entries(20_000));
    const page = await open(s.url);
    await waitFor(async () => (await held(page)) === 5000, { message: "the tail" });
    const gap = await jumpLeavingGap(page);
    await gap.locator(".gap-fill").click();
    await waitFor(async () => (await held(page)) === 19_900, {
      message: "the whole gap loaded",
      timeoutMs: 30_000,
    });
    const all = (await page.evaluate(() => window.__livetrail.lineTexts(100_000))).map((t) => t?.slice(-5));
    expect(all).toEqual(Array.from({ length: 19_900 }, (_, i) => pad(100 + i)));
    await waitFor(async () => !(await page.locator("#notice").textContent())?.startsWith("Loading"));
    // The fill alone may take the 30 s its wait allows on a loaded machine; the test's own limit is above that.
  }, 60_000);

  // From `GET /api/streams/:name/count`; a server without it (404) leaves the row saying "Lines not loaded".
  it("says how many lines and errors a gap hides and over what time, from the server's count", async () => {
    // A tail of 5,000 (3,000-7,999); the jump loads 100-1,099: the gap hides 1,100-2,999.
    const s = await stack(entries(8000));
    const page = await open(s.url);
    await waitFor(async () => (await held(page)) === 5000, { message: "the tail" });
    const gap = await jumpLeavingGap(page);
    await waitFor(async () => (await gap.textContent())?.includes("1,900 lines"), {
      message: "the gap's count",
    });
    expect(await gap.locator(".gap-label").textContent()).toBe(
      "1,900 lines (190 errors) not loaded · 2025-01-01 00:18:20 – 00:49:59",
    );
  });

  it("counts what the page holds: a quiet log's first lines, and the last of a run of small batches", async () => {
    const s = await stack(["one", "two", "three"]);
    const page = await open(s.url);
    const counter = page.locator("#match-count");
    // Nothing arrives after the first tail: the count must still say it.
    await waitFor(async () => (await counter.textContent()) === "3 lines", {
      message: '"3 lines" without another line arriving',
    });
    for (let i = 0; i < 6; i++) await append(s.file, `batch ${i}`);
    await waitFor(async () => (await held(page)) === 9, { message: "the six batches" });
    await waitFor(async () => (await counter.textContent()) === "9 lines", {
      message: "the counter to catch up with the last batch",
    });
  });

  it("goes from the live bottom to the newest match first", async () => {
    const lines = Array.from({ length: 300 }, (_, i) => `entry ${pad(i)}${i % 3 === 0 ? " needle" : " hay"}`);
    const s = await stack(lines);
    const page = await open(s.url);
    await waitFor(async () => (await countText(page, "entry")) === 300);
    await page.fill("#search", "needle");
    await waitFor(async () => (await page.locator("#match-count").textContent())?.startsWith("100 matches"));
    await page.click("#match-next");
    await waitFor(async () => (await page.locator("#detail-text").textContent())?.includes("entry 00297"), {
      message: "the newest match selected",
    });
    // Then down finds nothing later; up goes to the one before.
    await page.click("#match-prev");
    await waitFor(async () => (await page.locator("#detail-text").textContent())?.includes("entry 00294"));
  });

  it("keeps a selected line's panel through a filter change, with the new filter's highlight only", async () => {
    const s = await stack(["first hay", "last alpha beta"]);
    const page = await open(s.url);
    await waitFor(async () => (await countText(page, "alpha")) === 1);
    await page.locator("#log .row", { hasText: "last alpha beta" }).click();
    await page.fill("#search", "alpha");
    await waitFor(async () => (await page.locator("#detail-text mark").allTextContents()).join() === "alpha");
    await page.fill("#search", "beta");
    await waitFor(async () => (await page.locator("#detail-text mark").allTextContents()).join() === "beta", {
      message: "only the new filter's highlight in the detail panel",
    });
  });
});
