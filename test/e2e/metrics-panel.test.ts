import { describe, expect, it } from "vitest";
import { appendEntries } from "../../src/append/appender.js";
import { useClosers } from "../helpers/closer.js";
import { waitFor } from "../helpers/wait-for.js";
import {
  countText,
  openDashboard,
  startStack,
  useBuiltDashboard,
  visibleRowTexts,
} from "./dashboard-harness.js";

const shared = useBuiltDashboard("livetrail-web-metrics-");

const lines = (tag: string, n: number) => Array.from({ length: n }, (_, i) => `${tag} ${i + 1}`);

describe("the metrics panel and unread badges in a real browser", () => {
  const track = useClosers();

  it("draws live host charts with the stream's errors over them, jumps the log on a click, badges background tabs", async () => {
    const stack = track(await startStack(shared.web.path, lines("old line", 400), { hostMetrics: {} }));
    const page = await openDashboard(shared.browser, stack.url);
    track({ close: () => page.context().close() });
    const consoleErrors: string[] = [];
    page.on("pageerror", (e) => consoleErrors.push(`page error: ${e.message}`));
    page.on("console", (m) => {
      if (m.type() === "error") consoleErrors.push(m.text());
    });
    await waitFor(() => countText(page, "old line 400").then((n) => n === 1), { message: "the tail" });

    // The server samples the host: the button is there; the panel opens beside the log and fills once a second.
    await page.locator("#metrics-toggle").waitFor({ state: "visible" });
    expect(await page.locator("#metrics-panel").isHidden()).toBe(true);
    await page.click("#metrics-toggle");
    const points = async (id: string) => Number((await page.getAttribute(`#${id}`, "data-points")) ?? 0);
    await waitFor(async () => (await points("metrics-cpu")) >= 3, {
      timeoutMs: 20_000,
      message: "3 samples drawn",
    });
    for (const id of ["metrics-cpu", "metrics-load", "metrics-net", "metrics-disk"]) {
      expect(await page.locator(`#${id} canvas`).count(), id).toBe(1);
      expect(await points(id), id).toBeGreaterThanOrEqual(3);
    }
    expect(await page.textContent("#metrics-now")).toMatch(/^CPU \d+\.\d % · memory .+ of .+ · load /);

    // Errors in the shown stream appear over the CPU chart; the lines after them push the view on.
    await appendEntries(stack.file, [
      { message: "metrics marker 1", level: "error" },
      { message: "metrics marker 2", level: "error" },
      ...lines("new line", 400),
    ]);
    await waitFor(() => countText(page, "new line 400").then((n) => n === 1), { message: "the new lines" });
    await waitFor(async () => Number(await page.getAttribute("#metrics-cpu", "data-errors")) >= 1, {
      message: "the errors drawn over the CPU chart",
    });
    expect(await page.evaluate(() => window.__livetrail.following())).toBe(true);

    // Background tab: its new lines are counted on its button, errors apart; showing it clears the badge.
    await appendEntries(stack.second, [
      { message: "deploy 1" },
      { message: "deploy 2 failed", level: "error" },
      { message: "deploy 3" },
      { message: "deploy 4 failed", level: "error" },
      { message: "deploy 5" },
    ]);
    const badge = page.locator('#tabs button[data-stream="deploys"] .unread');
    let shown: string | null = null;
    await waitFor(
      async () => {
        shown = (await badge.count()) === 1 ? await badge.textContent() : null;
        return shown === "5 · 2 errors";
      },
      { message: "the unread badge on deploys" },
    ).catch((e: Error) => {
      throw new Error(`${e.message} (it shows ${shown})`);
    });
    expect(await page.locator('#tabs button[data-stream="audit"] .unread').count()).toBe(0);
    await page.click('#tabs button[data-stream="deploys"]');
    await waitFor(async () => (await badge.count()) === 0, { message: "the badge cleared" });
    await page.click('#tabs button[data-stream="audit"]');
    await waitFor(() => page.evaluate(() => window.__livetrail.lineCount() >= 802), {
      message: "audit again",
    });

    // The oldest point of the CPU chart is before the markers: clicking it moves the log to the first line
    // at or after that time, the first marker, away from the newest lines.
    const over = page.locator("#metrics-cpu .u-over");
    const box = await over.boundingBox();
    if (box === null) throw new Error("the CPU chart has no plot area");
    await page.mouse.move(box.x + 1, box.y + box.height / 2);
    await page.mouse.click(box.x + 1, box.y + box.height / 2);
    await waitFor(async () => (await page.textContent("#detail-text"))?.includes("metrics marker 1"), {
      message: "the first marker selected",
    }).catch(async (e: Error) => {
      const detail = await page.textContent("#detail-text");
      throw new Error(`${e.message} (selected: ${JSON.stringify(detail)}; ${consoleErrors.join("; ")})`);
    });
    expect(await page.evaluate(() => window.__livetrail.following())).toBe(false);
    await waitFor(async () => (await visibleRowTexts(page)).some((t) => t.includes("metrics marker 1")), {
      message: "the first marker in view",
    });
    expect((await visibleRowTexts(page)).some((t) => t.includes("new line 400"))).toBe(false);

    // Closed again; nothing on the page broke the CSP or threw.
    await page.click("#metrics-toggle");
    expect(await page.locator("#metrics-panel").isHidden()).toBe(true);
    expect(consoleErrors).toEqual([]);
  }, 90_000);
});
