import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { parseAlertsConfig } from "../../src/server/alerts-config.js";
import { startReceiver } from "../alerts/delivery/receiver.js";
import { useClosers } from "../helpers/closer.js";
import { waitFor } from "../helpers/wait-for.js";
import { append, openDashboard, startStack, useBuiltDashboard } from "./dashboard-harness.js";

/** Webhook delivery in the dashboard, headless Chromium: a real server posting to a real receiver that fails. */
const shared = useBuiltDashboard("livetrail-alert-delivery-e2e-");

describe("dashboard webhook delivery", () => {
  const track = useClosers();
  const open = async (url: string): Promise<Page> => {
    const page = await openDashboard(shared.browser, url);
    track({ close: () => page.context().close() });
    return page;
  };

  it("a target answering 500 marks the alerts button and shows in the panel in red, its answer as text", async () => {
    const receiver = track(await startReceiver());
    // Both attempts (the first and its one retry) fail, with markup and a bidi override in the answer.
    const hostile = `<img src=x onerror="window.__pwned=1"> oops \u202eadmin`;
    receiver.answers.push({ status: 500, body: hostile }, { status: 500, body: hostile });
    const alerts = {
      ...parseAlertsConfig({
        rules: [
          { name: "disk-full", kind: "match", pattern: "DISK FULL", severity: "critical" },
          { name: "door-open", kind: "match", pattern: "DOOR OPEN", severity: "warning" },
        ],
        targets: [{ name: "pager", url: receiver.url, format: "json" }],
      }),
      // The retry waits 3–6 s (half fixed, half random): past the request 2 s after the alert message, which
      // sees the notification still queued, so the mark comes from the follow-up request.
      retry: { maxAttempts: 2, baseDelayMs: 6_000, maxDelayMs: 6_000 },
    };
    const stack = track(await startStack(shared.web.path, [], { alerts }));
    const page = await open(stack.url);
    const mark = page.locator("#alerts-delivery-mark");
    await page.locator("#alerts-toggle").waitFor({ state: "visible" });
    expect(await mark.isHidden()).toBe(true);

    await append(stack.file, "DISK FULL on /srv");
    await page.locator("#alert-banner").waitFor({ state: "visible" });
    await waitFor(() => receiver.requests.length === 2, {
      message: "the first attempt and its retry",
      timeoutMs: 15_000,
    });
    // The mark comes from the requests made after the alert message, with the panel closed.
    await mark.waitFor({ state: "visible", timeout: 20_000 });
    expect(await page.locator("#alerts-panel").isHidden()).toBe(true);

    await page.locator("#alerts-toggle").click();
    const item = page.locator('#alerts-targets .delivery-target[data-target="pager"]');
    await item.waitFor({ state: "visible" });
    expect(await item.getAttribute("class")).toContain("is-failing");
    expect(await item.locator(".delivery-host").textContent()).toBe(new URL(receiver.url).host);
    expect(await item.locator(".delivery-counts").textContent()).toBe("0 sent · 1 failed · 0 dropped");
    const error = (await item.locator(".delivery-error").textContent()) ?? "";
    expect(error).toMatch(/^status 500 at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC: HTTP 500/);
    // In red (the theme's --error), and as text: the markup literally, the override as its escape, nothing ran.
    const red = await page.evaluate(() => {
      const probe = document.createElement("span");
      probe.style.color = "var(--error)";
      document.body.append(probe);
      const colour = getComputedStyle(probe).color;
      probe.remove();
      return colour;
    });
    expect(await item.locator(".delivery-error").evaluate((el) => getComputedStyle(el).color)).toBe(red);
    expect(error).toContain('<img src=x onerror="window.__pwned=1"> oops \\u202eadmin');
    expect(await page.locator("#alerts-panel img").count()).toBe(0);
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();

    // The next notification is delivered (the receiver's default answer is 200); the open panel's polling shows
    // the target recovered and the mark goes away, while the last error stays listed.
    await append(stack.file, "DOOR OPEN in hall B");
    await waitFor(() => receiver.requests.length === 3, { message: "the second alert's delivery" });
    await waitFor(async () => ((await item.getAttribute("class")) ?? "").includes("is-ok"), {
      message: "the target shown as recovered",
      timeoutMs: 15_000,
    });
    expect(await item.locator(".delivery-counts").textContent()).toBe("1 sent · 1 failed · 0 dropped");
    expect(await item.locator(".delivery-error").textContent()).toContain("status 500");
    await waitFor(() => mark.isHidden(), { message: "the mark to go away" });
  });
});
