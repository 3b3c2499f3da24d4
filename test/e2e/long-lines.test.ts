import { appendFile } from "node:fs/promises";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { useClosers } from "../helpers/closer.js";
import { waitFor } from "../helpers/wait-for.js";
import {
  countText,
  openDashboard,
  readDownload,
  type Stack,
  startStack,
  useBuiltDashboard,
} from "./dashboard-harness.js";

/**
 * Issue 15: `/ws` frames and history pages carry a long line's first 64 KiB (with `trunc` = its real length);
 * the dashboard marks such rows and loads them whole for the detail panel, Copy line and export.
 */

const shared = useBuiltDashboard("livetrail-web-long-");

/** A ~300 KiB line whose every part is distinct, so a cut anywhere shows. */
function longLine(): string {
  const parts: string[] = ["[2025-12-17T17:40:38Z] big payload="];
  for (let k = 0; k < 30_000; k++) parts.push(`${k.toString(36).padStart(4, "0")}-abcde,`);
  parts.push("END-OF-THE-LONG-LINE");
  return parts.join("");
}

describe("lines longer than 64 KiB in the dashboard", () => {
  const track = useClosers();
  const open = async (url: string): Promise<Page> => {
    const page = await openDashboard(shared.browser, url);
    track({ close: () => page.context().close() });
    return page;
  };
  const detailText = (page: Page) =>
    page.evaluate(() => document.getElementById("detail-text")?.textContent ?? "");

  async function stackWithLongLine(): Promise<{ s: Stack; long: string }> {
    const s = track(await startStack(shared.web.path, ["before the long line"]));
    const long = longLine();
    expect(long.length).toBeGreaterThan(300_000);
    await appendFile(s.file, `${long}\n[2025-12-17T17:40:39Z] after the long line\n`);
    return { s, long };
  }

  it("marks the cut row, shows and copies it whole, and exports it whole", async () => {
    const { s, long } = await stackWithLongLine();
    const page = await open(s.url);
    await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
    await waitFor(async () => (await countText(page, "after the long line")) === 1, {
      message: "the lines after the long one",
    });

    // The row holds the head only, and says so with the line's real size.
    const row = page.locator("#log .row", { hasText: "big payload=" });
    await expect
      .poll(() => row.locator(".cut").textContent())
      .toBe(`cut · ${Math.round(long.length / 1024)} KiB`);
    expect(await row.textContent()).not.toContain("END-OF-THE-LONG-LINE");
    expect(await page.locator("#log .row .cut").count()).toBe(1);

    // Selected: the panel loads the whole line.
    await row.click();
    await waitFor(async () => (await detailText(page)).length === long.length, {
      message: "the whole line in the detail panel",
    });
    const shown = await detailText(page);
    expect(shown.endsWith(",END-OF-THE-LONG-LINE")).toBe(true);
    expect(shown).toBe(long);
    expect(await page.locator("#detail-status").isHidden()).toBe(true);

    // Copy line copies all of it.
    await page.click("#copy-line");
    await waitFor(async () => (await page.locator("#notice").textContent()) === "Line copied");
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    expect(copied.length).toBe(long.length);
    expect(copied).toBe(long);

    // The .log and .json exports hold the whole line.
    await page.click("#export-menu summary");
    const [log] = await Promise.all([page.waitForEvent("download"), page.click("#export-log")]);
    const lines = (await readDownload(await log.path())).trimEnd().split("\n");
    expect(lines).toHaveLength(3);
    expect(lines[0]).toMatch(/before the long line$/);
    expect(lines[1]).toBe(long);
    expect(lines[2]).toMatch(/after the long line$/);
    await page.click("#export-menu summary");
    const [json] = await Promise.all([page.waitForEvent("download"), page.click("#export-json")]);
    const entries = JSON.parse(await readDownload(await json.path())) as { text: string }[];
    expect(entries.map((e) => e.text.length)).toEqual([lines[0]?.length, long.length, lines[2]?.length]);
    expect(entries[1]?.text).toBe(long);
  });

  it("keeps the head and says why when the whole line cannot be loaded", async () => {
    const { s, long } = await stackWithLongLine();
    const page = await open(s.url);
    await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
    await page.route("**/api/streams/audit/line?**", (route) =>
      route.fulfill({
        status: 503,
        contentType: "application/json",
        body: JSON.stringify({ error: "busy", message: "server busy" }),
      }),
    );
    await waitFor(async () => (await countText(page, "after the long line")) === 1, {
      message: "the lines after the long one",
    });
    await page.locator("#log .row", { hasText: "big payload=" }).click();
    const status = page.locator("#detail-status");
    await waitFor(async () => (await status.textContent())?.startsWith("Could not load the whole line"), {
      message: "the failure in the panel",
    });
    expect(await status.textContent()).toContain("server busy");
    const head = await detailText(page);
    expect(head.length).toBeGreaterThan(60_000);
    expect(head.length).toBeLessThan(long.length);
    expect(long.startsWith(head)).toBe(true);
    // Copy line does not pass the head off as the line.
    await page.click("#copy-line");
    await waitFor(
      async () => (await page.locator("#notice").textContent())?.startsWith("Copy failed") === true,
    );
  });
});
