import { readFile } from "node:fs/promises";
import { createRequire } from "node:module";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { useClosers } from "../helpers/closer.js";
import { waitFor } from "../helpers/wait-for.js";
import { countText, startStack, useBuiltDashboard } from "./dashboard-harness.js";

/**
 * axe-core run inside the live page (its source injected with playwright-core), on desktop and phone, light and
 * dark, and with the shortcut help open: every rule axe runs by default, no violation allowed.
 */

const AXE_SOURCE = readFile(createRequire(import.meta.url).resolve("axe-core/axe.min.js"), "utf8");

interface AxeViolation {
  id: string;
  impact: string | null;
  help: string;
  nodes: { target: string[]; failureSummary?: string }[];
}

async function scan(page: Page): Promise<AxeViolation[]> {
  // Evaluated over the DevTools protocol: the page's CSP (script-src 'self') refuses an injected <script>.
  await page.evaluate(await AXE_SOURCE);
  return page.evaluate(async () => {
    const axe = (
      window as unknown as { axe: { run(ctx: Document): Promise<{ violations: AxeViolation[] }> } }
    ).axe;
    const r = await axe.run(document);
    return r.violations.map((v) => ({
      id: v.id,
      impact: v.impact,
      help: v.help,
      nodes: v.nodes.map((n) => ({ target: n.target, failureSummary: n.failureSummary })),
    }));
  });
}

/** Violations as readable lines, so a failure says what and where. */
function describeViolations(vs: AxeViolation[]): string[] {
  return vs.flatMap((v) => v.nodes.map((n) => `${v.impact} ${v.id} (${v.help}) at ${n.target.join(" ")}`));
}

const shared = useBuiltDashboard("livetrail-a11y-");

describe("accessibility (axe-core) of the live page", () => {
  const track = useClosers();
  const VIEWPORTS = [
    { name: "desktop", width: 1280, height: 800 },
    { name: "phone", width: 390, height: 844 },
  ] as const;
  // Enough lines for the log to scroll (a scrolling region must be reachable by keyboard), all three levels.
  const LINES = Array.from({ length: 300 }, (_, i) =>
    i % 10 === 3 ? `ERROR: job ${i} failed` : i % 10 === 6 ? `WARN: job ${i} slow` : `job ${i} done`,
  );

  for (const vp of VIEWPORTS)
    for (const scheme of ["light", "dark"] as const)
      it(`has no violations on ${vp.name}, ${scheme}: as loaded, a line selected, the shortcut help open`, async () => {
        const s = track(await startStack(shared.web.path, LINES));
        const context = await shared.browser.newContext({
          viewport: { width: vp.width, height: vp.height },
          colorScheme: scheme,
          hasTouch: vp.name === "phone",
        });
        track({ close: () => context.close() });
        const page = await context.newPage();
        await page.goto(s.url);
        await waitFor(() => page.evaluate(() => window.__livetrail?.connection().state === "open"));
        await waitFor(async () => (await countText(page, "job 299 done")) === 1);
        const log = await page.locator("#log").evaluate((el) => ({
          scrolls: el.scrollHeight > el.clientHeight,
          tabIndex: el.tabIndex,
        }));
        expect(log).toEqual({ scrolls: true, tabIndex: 0 });
        expect(describeViolations(await scan(page))).toEqual([]);

        // A filter typed (highlights, Only matches pressed), a line selected (the detail panel), the phone's tools open.
        await page.fill("#search", "job 29");
        // The filter's pass done (job 29, 290-299) before a row is clicked: a row clicked while the pass still
        // redraws the list may be replaced before its click selects it.
        await waitFor(
          async () => (await page.locator("#match-count").textContent()) === "11 matches in 300 lines",
        );
        await waitFor(async () => (await page.locator("#log mark").count()) > 0);
        await page.locator("#log .row").last().click();
        await waitFor(() => page.locator("#detail").isVisible());
        if (vp.name === "phone") await page.click("#tools-toggle");
        expect(describeViolations(await scan(page))).toEqual([]);

        await page.click("#help-open");
        await waitFor(() => page.locator("#help").isVisible());
        expect(describeViolations(await scan(page))).toEqual([]);
      });
});
