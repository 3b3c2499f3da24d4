import { appendFile } from "node:fs/promises";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { appendEntries } from "../../src/append/appender.js";
import { createServer } from "../../src/server/app.js";
import { useClosers } from "../helpers/closer.js";
import { makeTempDir } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { openDashboard, useBuiltDashboard, visibleRowTexts } from "./dashboard-harness.js";

const shared = useBuiltDashboard("livetrail-web-merge-");

/** The page's own view of the merged rows: text without its timestamp, and each row's stream. */
async function mergedRows(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const hook = window.__livetrail as unknown as { lineTexts(): (string | null)[]; rowStreams(): string[] };
    const streams = hook.rowStreams();
    return hook.lineTexts().map((t, i) => `${streams[i]}: ${(t ?? "GAP").replace(/^\[[^\]]*\] /, "")}`);
  });
}

describe("hosts and the merged view in a real browser", () => {
  const track = useClosers();

  it("groups tabs by host, merges file streams by time with their stream marked, live lines in their place", async () => {
    const dir = await makeTempDir("livetrail-e2e-merge-");
    track({ close: () => dir.remove() });
    const t0 = Math.floor(Date.now() / 1000) * 1000 - 60_000;
    const at = (s: number) => new Date(t0 + s * 1000);
    const web = dir.file("web.log");
    const app = dir.file("app.log");
    const db = dir.file("db.log");
    await appendEntries(web, [
      { message: "web boot", time: at(0) },
      { message: "web ready", time: at(2) },
    ]);
    await appendEntries(app, [{ message: "app start", time: at(1) }]);
    await appendEntries(db, [{ message: "db start", time: at(1) }]);
    // Written raw, not through the appender (which escapes): the page must show a real U+202E as an escape.
    await appendFile(
      db,
      `[${at(3).toISOString().slice(0, 19)}Z] db <b>bold</b> \u202eevil <img src=x onerror=alert(1)>\n`,
    );
    const server = createServer({
      streams: [
        { name: "web", file: web, host: "web-1" },
        { name: "app", file: app, host: "web-1" },
        { name: "db", file: db, host: "db-2 <i>x</i>" },
      ],
      port: 0,
      staticDir: shared.web.path,
      pollIntervalMs: 200,
    });
    track(server);
    const address = await server.listen();
    const page = await openDashboard(shared.browser, `${address.url}/`);
    track({ close: () => page.context().close() });

    // Tabs grouped by host: a header per host (text, not markup), its streams after it, then "All".
    await waitFor(async () => (await page.locator("#tabs > *").count()) === 6, { message: "the tab bar" });
    const bar = await page.$$eval("#tabs > *", (els) =>
      // A stream tab's name is its data-stream (its text also holds the integrity badge).
      els.map((e) => `${e.className || "tab"}:${(e as HTMLElement).dataset.stream ?? e.textContent}`),
    );
    expect(bar).toEqual([
      "tab-host:web-1",
      "tab:web",
      "tab:app",
      "tab-host:db-2 <i>x</i>",
      "tab:db",
      "tab-all:All",
    ]);
    expect(await page.locator("#tabs i").count()).toBe(0);

    await page.click("#tabs .tab-all");
    await waitFor(async () => (await mergedRows(page)).length === 5, { message: "the merged rows" });
    // By time; equal times (app start, db start at +1 s) by stream order.
    expect(await mergedRows(page)).toEqual([
      "web: web boot",
      "app: app start",
      "db: db start",
      "web: web ready",
      "db: db <b>bold</b> \u202eevil <img src=x onerror=alert(1)>",
    ]);
    expect(await page.evaluate(() => location.hash)).toBe("#merge=web%2Capp%2Cdb");

    // Each row shows its stream (and host: the merged streams come from two) on a chip, all as text.
    const rows = await page.$$eval("#log .row:not([hidden])", (els) =>
      els
        .map((e) => ({
          top: new DOMMatrix(getComputedStyle(e).transform).m42,
          chip: e.querySelector(".src")?.textContent ?? null,
          text: e.textContent ?? "",
        }))
        .sort((a, b) => a.top - b.top)
        .map(({ chip, text }) => ({ chip, text })),
    );
    expect(rows.map((r) => r.chip)).toEqual([
      "web-1 · web",
      "web-1 · app",
      "db-2 <i>x</i> · db",
      "web-1 · web",
      "db-2 <i>x</i> · db",
    ]);
    const hostile = rows[4]?.text ?? "";
    expect(hostile).toContain("<b>bold</b>");
    expect(hostile).toContain("\\u202e");
    expect(hostile).not.toContain("\u202e");
    expect(await page.locator("#log b, #log img, #log i").count()).toBe(0);

    // Live lines, merged as they arrive: db's line at +5 s first, then web's at +4 s, which goes before it.
    await appendEntries(db, [{ message: "db live", time: at(5) }]);
    await waitFor(async () => (await mergedRows(page)).includes("db: db live"), {
      message: "db's live line",
    });
    await appendEntries(web, [{ message: "web late", time: at(4) }]);
    await waitFor(async () => (await mergedRows(page)).length === 7, { message: "web's late line" });
    expect((await mergedRows(page)).slice(-3)).toEqual([
      "db: db <b>bold</b> \u202eevil <img src=x onerror=alert(1)>",
      "web: web late",
      "db: db live",
    ]);
    // Each stream kept its own tab and cursor: the merged view made none.
    expect(await page.evaluate(() => window.__livetrail.lineCount())).toBe(7);

    // The filter works on the merged list.
    await page.fill("#search", "live");
    await waitFor(async () => (await visibleRowTexts(page)).length === 1, {
      message: "only the matching row",
    });
    expect((await visibleRowTexts(page))[0]).toContain("db live");
    await page.fill("#search", "");
    await waitFor(async () => (await visibleRowTexts(page)).length === 7, { message: "every row again" });

    // The URL brings the merged view back; a host header merges that host's streams.
    const again = await openDashboard(shared.browser, `${address.url}/#merge=web%2Cdb`);
    track({ close: () => again.context().close() });
    await waitFor(async () => (await mergedRows(again)).length === 6, {
      message: "the merged view from the URL",
    });
    expect(await mergedRows(again)).toEqual([
      "web: web boot",
      "db: db start",
      "web: web ready",
      "db: db <b>bold</b> \u202eevil <img src=x onerror=alert(1)>",
      "web: web late",
      "db: db live",
    ]);
    await again.click("#tabs .tab-host >> nth=0");
    await waitFor(async () => (await mergedRows(again)).length === 4, { message: "web-1's streams merged" });
    expect(
      await again.evaluate(() => (window.__livetrail as unknown as { merged(): string[] }).merged()),
    ).toEqual(["web", "app"]);
    // A host with one stream: its header opens that stream's tab.
    await again.click("#tabs .tab-host >> nth=1");
    await waitFor(
      () =>
        again.evaluate(
          () => (window.__livetrail as unknown as { stream(): string | null }).stream() === "db",
        ),
      { message: "db's tab" },
    );
  }, 60_000);
  it("keeps a scrolled-up merged view still when a late line lands above it, and resumes each stream exactly after a restart", async () => {
    const dir = await makeTempDir("livetrail-e2e-merge-");
    track({ close: () => dir.remove() });
    const t0 = Math.floor(Date.now() / 1000) * 1000 - 3_600_000;
    const at = (s: number) => new Date(t0 + s * 1000);
    const a = dir.file("a.log");
    const b = dir.file("b.log");
    // a at even seconds, b at odd ones: 300 rows interleaved.
    await appendEntries(
      a,
      Array.from({ length: 150 }, (_, i) => ({ message: `a ${i}`, time: at(2 * i) })),
    );
    await appendEntries(
      b,
      Array.from({ length: 150 }, (_, i) => ({ message: `b ${i}`, time: at(2 * i + 1) })),
    );
    const make = (port: number) =>
      createServer({
        streams: [
          { name: "a", file: a, host: "h1" },
          { name: "b", file: b, host: "h2" },
        ],
        port,
        staticDir: shared.web.path,
        pollIntervalMs: 200,
      });
    let server = make(0);
    track({ close: () => server.close() });
    const address = await server.listen();
    const page = await openDashboard(shared.browser, `${address.url}/#merge=a%2Cb`);
    track({ close: () => page.context().close() });
    await waitFor(async () => (await mergedRows(page)).length === 300, { message: "300 merged rows" });

    await page.locator("#log").hover();
    await page.mouse.wheel(0, -2000);
    await waitFor(() => page.evaluate(() => !window.__livetrail.following()), {
      message: "the view to stop following",
    });
    // The wheel's scroll may still be moving: read the view once it has come to rest.
    let last = -1;
    await waitFor(
      async () => {
        const top = await page.evaluate(() => document.getElementById("log")?.scrollTop ?? 0);
        const still = top === last;
        last = top;
        return still;
      },
      { message: "the scroll to come to rest", intervalMs: 100 },
    );
    const before = await visibleRowTexts(page);
    const scrollTop = await page.evaluate(() => document.getElementById("log")?.scrollTop);
    // A late line of b, 20 s after the start: its place is far above what is in view.
    await appendEntries(b, [{ message: "b late", time: at(20) }]);
    await waitFor(async () => (await mergedRows(page)).includes("b: b late"), { message: "the late line" });
    const rows = await mergedRows(page);
    expect(rows.indexOf("b: b late")).toBe(rows.indexOf("a: a 10") + 1);
    // The rows in view are the same rows (the late one went above them, the view moved with them).
    await waitFor(async () => JSON.stringify(await visibleRowTexts(page)) === JSON.stringify(before), {
      message: "the same rows in view",
    });
    expect(await page.evaluate(() => document.getElementById("log")?.scrollTop)).toBe((scrollTop ?? 0) + 20);

    // A restart with lines written to both while the server is down: each stream resumes from its own cursor.
    await server.close();
    await waitFor(() => page.evaluate(() => window.__livetrail.connection().state !== "open"), {
      message: "the page to notice the server is gone",
    });
    await appendEntries(a, [{ message: "a down", time: at(400) }]);
    await appendEntries(b, [{ message: "b down", time: at(399) }]);
    server = make(address.port);
    await server.listen();
    await waitFor(async () => (await mergedRows(page)).length === 303, {
      timeoutMs: 30_000,
      message: "the lines written while down",
    });
    const after = await mergedRows(page);
    expect(after.slice(-2)).toEqual(["b: b down", "a: a down"]);
    expect(new Set(after).size).toBe(303);
  }, 90_000);
});
