import { appendFile } from "node:fs/promises";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { parseAlertsConfig } from "../../src/server/alerts-config.js";
import { useClosers } from "../helpers/closer.js";
import { waitFor } from "../helpers/wait-for.js";
import { append, openDashboard, startStack, useBuiltDashboard } from "./dashboard-harness.js";

/** The dashboard's alerts in headless Chromium: banner, title, favicon, panel, evidence links, hostile text. */
const shared = useBuiltDashboard("livetrail-alerts-e2e-");

const RULES = parseAlertsConfig({
  rules: [{ name: "disk-full", kind: "match", pattern: "DISK FULL", severity: "critical", evidence: 3 }],
});

describe("dashboard alerts", () => {
  const track = useClosers();
  const open = async (url: string): Promise<Page> => {
    const page = await openDashboard(shared.browser, url);
    track({ close: () => page.context().close() });
    return page;
  };

  it("a firing rule shows a banner, the count in the title and favicon, and its evidence in the panel", async () => {
    // Past 256 bytes from the start: a file's cursors name its first 256 bytes, so a line's cursor taken while
    // the file was shorter differs from the one history gives later and the page cannot match them (see the report).
    const initial = Array.from({ length: 10 }, (_, i) => `service started, step ${i} of the warm-up`);
    const stack = track(await startStack(shared.web.path, initial, { alerts: RULES }));
    // A small cap, so the matching line has left the page's memory by the time it is clicked.
    const page = await open(`${stack.url}?cap=200`);
    await waitFor(() => page.evaluate(() => window.__livetrail.live()));
    expect(await page.locator("#alert-banner").isHidden()).toBe(true);
    expect(await page.title()).toBe("livetrail");
    // The alerts stream is a tab like any other.
    await waitFor(() => page.locator("#tabs button", { hasText: "alerts" }).count());

    // A raw line as any writer could put it there: markup and a bidi override.
    const hostile = `[${new Date().toISOString().slice(0, 19)}Z] ERROR: DISK FULL <img src=x onerror="window.__pwned=1"> user=\u202eadmin`;
    await appendFile(stack.file, `${hostile}\n`);
    await page.locator("#alert-banner").waitFor({ state: "visible" });
    expect(await page.locator("#alert-banner").textContent()).toContain("1 alert firing · disk-full:");
    expect(await page.locator("#alert-banner").getAttribute("data-severity")).toBe("critical");
    await waitFor(async () => (await page.title()) === "(1) livetrail", {
      message: "the count in the title",
    });
    const icon = await page.locator('link[rel="icon"]').getAttribute("href");
    expect(icon?.startsWith("data:image/png;base64,")).toBe(true);

    // Push the line out of the page's memory (cap 200), and look at another stream meanwhile.
    await append(stack.file, ...Array.from({ length: 400 }, (_, i) => `filler ${i}`));
    await waitFor(() => page.evaluate(() => window.__livetrail.countText("filler 399") === 1));
    expect(await page.evaluate(() => window.__livetrail.countText("DISK FULL"))).toBe(0);
    await page.locator("#tabs button", { hasText: "deploys" }).click();

    await page.locator("#alert-banner").click();
    const evidence = page.locator("#alerts-panel .evidence-line");
    await evidence.first().waitFor({ state: "visible" });
    expect(await evidence.count()).toBe(1);
    // Shown as text: the markup literally, the override as its escape; nothing ran, no element was made.
    const shown = (await evidence.first().textContent()) ?? "";
    expect(shown).toContain('<img src=x onerror="window.__pwned=1">');
    expect(shown).toContain("user=\\u202eadmin");
    expect(await page.locator("#alerts-panel img").count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();

    // The link opens the audit stream at that line, loaded from history.
    await evidence.first().click();
    await waitFor(
      () => page.evaluate(() => (window.__livetrail as unknown as { stream(): string }).stream() === "audit"),
      { message: "the audit stream to be shown" },
    );
    await waitFor(
      async () => ((await page.locator("#detail-text").textContent()) ?? "").includes("DISK FULL"),
      {
        message: "the evidence line to be selected",
      },
    );
    expect(await page.locator("#detail").isVisible()).toBe(true);
    expect(await page.evaluate(() => location.hash)).toContain("stream=audit");
  });

  it("a dashboard opened while an alert fires shows it at once; the notify button asks only when clicked", async () => {
    const stack = track(await startStack(shared.web.path, [], { alerts: RULES }));
    await append(stack.file, "DISK FULL on /srv");
    await waitFor(() => (stack.server.alerts?.snapshot().firing.length ?? 0) === 1);
    const page = await open(stack.url);
    await page.locator("#alert-banner").waitFor({ state: "visible" });
    expect(await page.title()).toBe("(1) livetrail");
    await page.locator("#alerts-toggle").click();
    expect(await page.locator("#alerts-panel .alert-item.is-firing .alert-rule").textContent()).toBe(
      "disk-full",
    );
    // Headless Chromium's permission starts as "default": the button is offered, nothing was asked.
    const permission = await page.evaluate(() => Notification.permission);
    expect(await page.locator("#alerts-notify").isVisible()).toBe(permission === "default");
  });
});
