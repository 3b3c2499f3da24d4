import { rm, writeFile } from "node:fs/promises";
import type { BrowserContextOptions, Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { appendEntries } from "../../src/append/appender.js";
import { createServer } from "../../src/server/app.js";
import { SHORTCUTS } from "../../src/web/keyboard.js";
import { useClosers } from "../helpers/closer.js";
import { makeTempDir } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { append, countText, startStack, useBuiltDashboard } from "./dashboard-harness.js";

/**
 * What a new user meets first (issue 18, "rough edges"): an empty or missing file, the toolbar's button states,
 * the shortcut help, the theme, signing out, unread badges, and the page on a phone.
 */

const shared = useBuiltDashboard("livetrail-rough-");
const PHONE = { viewport: { width: 390, height: 844 }, hasTouch: true, isMobile: true } as const;
/** The pressed toggles' fill (styles.css --accent-fill). */
const ACCENT_FILL = "rgb(31, 111, 235)";

describe("rough edges a new user meets", () => {
  const track = useClosers();
  const open = async (url: string, options: BrowserContextOptions = {}): Promise<Page> => {
    const context = await shared.browser.newContext({ viewport: { width: 1280, height: 800 }, ...options });
    track({ close: () => context.close() });
    const page = await context.newPage();
    await page.goto(url);
    await waitFor(() => page.evaluate(() => window.__livetrail?.connection().state === "open"), {
      message: "the dashboard to connect",
    });
    return page;
  };
  /** A server following one stream "audit" on `file` (which may be empty or missing). */
  const serveFile = async (file: string): Promise<string> => {
    const server = createServer({
      streams: [{ name: "audit", file, host: "web-1" }],
      port: 0,
      staticDir: shared.web.path,
      pollIntervalMs: 100,
    });
    track(server);
    return `${(await server.listen()).url}/`;
  };
  const stateText = (page: Page) => page.locator("#stream-state").textContent();
  const stateShown = (page: Page) => page.locator("#stream-state").isVisible();

  it("an empty file says so and how to add to it; the first line replaces that", async () => {
    const dir = await makeTempDir("livetrail-rough-");
    track({ close: () => dir.remove() });
    const file = dir.file("audit.log");
    await writeFile(file, "");
    const page = await open(await serveFile(file));
    await waitFor(async () => (await stateText(page))?.includes("No entries yet"), {
      message: "the empty state",
    });
    expect(await stateText(page)).toContain("append with livetrail log …");
    expect(await page.locator("#stream-state code").textContent()).toBe("livetrail log …");
    expect(await page.locator("#status-label").textContent()).toBe("Live");

    await appendEntries(file, ["the first entry"]);
    await waitFor(async () => (await countText(page, "the first entry")) === 1);
    await waitFor(async () => !(await stateShown(page)), { message: "the empty state to go" });
  });

  it("a missing file: the status waits (no green Live), the notice names the stream, both go when lines flow", async () => {
    const dir = await makeTempDir("livetrail-rough-");
    track({ close: () => dir.remove() });
    const file = dir.file("not-yet.log");
    const page = await open(await serveFile(file));
    await waitFor(async () => (await stateText(page))?.includes("Waiting for the file"), {
      message: "the waiting notice",
    });
    expect(await page.locator("#stream-state .stream-state-title").textContent()).toBe(
      "Waiting for the file of stream “audit” on web-1 to appear",
    );
    expect(await page.locator("#status-label").textContent()).toBe("Waiting for file");
    expect(await page.locator("#status").getAttribute("data-state")).toBe("waiting");
    // The dot is amber (--warn), not the green of a live stream (--ok).
    const dot = () =>
      page.locator("#status .status-dot").evaluate((el) => getComputedStyle(el).backgroundColor);
    const colours = await page.evaluate(() => {
      const css = getComputedStyle(document.documentElement);
      return { warn: css.getPropertyValue("--warn").trim(), ok: css.getPropertyValue("--ok").trim() };
    });
    expect(colours).toEqual({ warn: "#9a6100", ok: "#1a7f37" });
    expect(await dot()).toBe("rgb(154, 97, 0)");
    expect(await page.locator("#notice").textContent()).toBe("");

    await appendEntries(file, ["the file appeared"]);
    await waitFor(async () => (await countText(page, "the file appeared")) === 1, {
      message: "the line from the new file",
    });
    await waitFor(async () => !(await stateShown(page)), { message: "the notice to go" });
    await waitFor(async () => (await page.locator("#status-label").textContent()) === "Live");
    expect(await dot()).toBe("rgb(26, 127, 55)");

    // Deleted while its lines are shown: a strip says so over them, and the status waits again.
    await rm(file);
    await waitFor(async () => (await page.locator("#stream-state").getAttribute("data-state")) === "gone", {
      message: "the file-gone strip",
    });
    expect(await stateText(page)).toContain("The file of stream “audit” on web-1 is not there now");
    expect(await page.locator("#status-label").textContent()).toBe("Waiting for file");
    expect(await countText(page, "the file appeared")).toBe(1);
  });

  it("toolbar: Only matches unpressed-looking until a filter, UTC|Local a two-state control, one short regex error", async () => {
    const s = track(await startStack(shared.web.path, ["alpha needle", "beta hay"]));
    const page = await open(s.url);
    await waitFor(async () => (await countText(page, "hay")) === 1);
    const only = page.locator("#opt-only");
    const fill = () => only.evaluate((el) => getComputedStyle(el).backgroundColor);
    expect(await only.getAttribute("aria-pressed")).toBe("true");
    expect(await fill()).not.toBe(ACCENT_FILL);
    expect(await only.evaluate((el) => getComputedStyle(el).borderTopStyle)).toBe("dashed");
    await page.fill("#search", "needle");
    await waitFor(async () => (await fill()) === ACCENT_FILL, { message: "Only matches to look pressed" });
    await page.fill("#search", "");
    await waitFor(async () => (await fill()) !== ACCENT_FILL);

    // UTC | Local: both named all the time, the one in use pressed, remembered.
    const utc = page.locator("#time-utc");
    const local = page.locator("#time-local");
    expect([await utc.textContent(), await local.textContent()]).toEqual(["UTC", "Local"]);
    expect([await utc.getAttribute("aria-pressed"), await local.getAttribute("aria-pressed")]).toEqual([
      "true",
      "false",
    ]);
    await local.click();
    expect([await utc.textContent(), await local.textContent()]).toEqual(["UTC", "Local"]);
    expect([await utc.getAttribute("aria-pressed"), await local.getAttribute("aria-pressed")]).toEqual([
      "false",
      "true",
    ]);
    expect(await page.evaluate(() => localStorage.getItem("livetrail.timeMode"))).toBe("local");
    await page.reload();
    await waitFor(async () => (await countText(page, "hay")) === 1);
    expect(await page.locator("#time-local").getAttribute("aria-pressed")).toBe("true");
    await page.click("#time-utc");
    expect(await page.locator("#time-utc").getAttribute("aria-pressed")).toBe("true");

    // An invalid regex: "Invalid regex" once, on one line, and the toolbar keeps its height.
    const toolbarHeight = () => page.locator("#toolbar").evaluate((el) => el.getBoundingClientRect().height);
    const before = await toolbarHeight();
    await page.click("#opt-regex");
    await page.fill("#search", "needle(((((((((((((((((((((((((((((((((((");
    const count = page.locator("#match-count");
    await waitFor(async () => (await count.textContent())?.startsWith("Invalid regex"), {
      message: "the regex error",
    });
    const text = (await count.textContent()) ?? "";
    expect(text.match(/invalid reg/gi)).toHaveLength(1);
    expect(text).not.toContain("needle(");
    expect(await toolbarHeight()).toBe(before);
    expect(await count.evaluate((el) => el.getBoundingClientRect().height)).toBeLessThan(24);
  });

  it("? opens the shortcut list drawn from keyboard.ts, Esc closes it; the ? button opens it too", async () => {
    const s = track(await startStack(shared.web.path, ["one"]));
    const page = await open(s.url);
    const help = page.locator("#help");
    expect(await help.isVisible()).toBe(false);
    await page.locator("body").press("?");
    await waitFor(() => help.isVisible(), { message: "the help overlay" });
    const listed = await page
      .locator("#help-list dt")
      .evaluateAll((dts) => dts.map((dt) => [...dt.querySelectorAll("kbd")].map((k) => k.textContent)));
    expect(listed).toEqual(SHORTCUTS.map((s) => [...s.keys]));
    expect(await page.locator("#help-list dd").allTextContents()).toEqual(
      SHORTCUTS.map((s) => (s.where ? `${s.does} (${s.where})` : s.does)),
    );
    await page.keyboard.press("Escape");
    await waitFor(async () => !(await help.isVisible()), { message: "Esc to close it" });

    // Typed into the filter box, ? is a character, not the shortcut.
    await page.fill("#search", "");
    await page.locator("#search").press("?");
    expect(await page.inputValue("#search")).toBe("?");
    expect(await help.isVisible()).toBe(false);

    await page.click("#help-open");
    await waitFor(() => help.isVisible());
    await page.click("#help-close");
    await waitFor(async () => !(await help.isVisible()));
  });

  it("the theme toggle overrides the system's scheme, is remembered, and System follows the system again", async () => {
    const s = track(await startStack(shared.web.path, ["one"]));
    const page = await open(s.url, { colorScheme: "light" });
    const bg = () => page.evaluate(() => getComputedStyle(document.body).backgroundColor);
    expect(await page.inputValue("#theme")).toBe("system");
    expect(await bg()).toBe("rgb(255, 255, 255)");
    await page.selectOption("#theme", "dark");
    expect(await bg()).toBe("rgb(15, 18, 23)");
    expect(await page.evaluate(() => localStorage.getItem("livetrail.theme"))).toBe("dark");
    await page.reload();
    await waitFor(() => page.evaluate(() => window.__livetrail?.connection().state === "open"));
    expect(await page.inputValue("#theme")).toBe("dark");
    expect(await bg()).toBe("rgb(15, 18, 23)");

    // A dark system, the toggle on light: light wins; on System: dark again, and nothing stored.
    await page.emulateMedia({ colorScheme: "dark" });
    await page.selectOption("#theme", "light");
    expect(await bg()).toBe("rgb(255, 255, 255)");
    await page.selectOption("#theme", "system");
    expect(await bg()).toBe("rgb(15, 18, 23)");
    expect(await page.evaluate(() => localStorage.getItem("livetrail.theme"))).toBeNull();
  });

  it("Sign out shows only when the server signs browsers in, and ends the session", async () => {
    const open1 = track(await startStack(shared.web.path, ["open entry"]));
    const context1 = await shared.browser.newContext();
    track({ close: () => context1.close() });
    const plain = await context1.newPage();
    const asked = plain.waitForResponse((r) => r.url().endsWith("/healthz"));
    await plain.goto(open1.url);
    await asked;
    await waitFor(async () => (await countText(plain, "open entry")) === 1);
    expect(await plain.locator("#sign-out").isVisible()).toBe(false);

    const token = "rough-edges-read-token-0123456789";
    const s = track(
      await startStack(shared.web.path, ["secret entry"], { security: { readTokens: [token] } }),
    );
    const context = await shared.browser.newContext();
    track({ close: () => context.close() });
    const page = await context.newPage();
    await page.goto(`${s.url}#q=secret`);
    await page.waitForURL(/\/login\?next=/);
    await page.fill("#token", token);
    await page.click("button[type=submit]");
    await waitFor(async () => (await countText(page, "secret entry")) === 1);
    await waitFor(() => page.locator("#sign-out").isVisible(), { message: "the Sign out button" });
    await page.click("#sign-out");
    await page.waitForURL(/\/login\?next=/);
    expect(new URL(page.url()).searchParams.get("next")).toBe("/#stream=audit&q=secret");
    // The session is gone on the server too: the API refuses this browser now.
    const status = await page.evaluate(async () => (await fetch("/api/streams")).status);
    expect(status).toBe(401);
  });

  it("a background tab counts its unread lines and errors; showing it clears the badge", async () => {
    const s = track(await startStack(shared.web.path, ["audit one"]));
    const page = await open(s.url);
    await waitFor(async () => (await countText(page, "audit one")) === 1);
    const badge = page.locator('button[data-stream="deploys"] > .unread');
    await waitFor(() => page.evaluate(() => window.__livetrail.live()));
    await append(s.second, "deploy started", "ERROR: deploy failed");
    await waitFor(async () => (await badge.count()) === 1 && (await badge.textContent()) === "2 · 1 error", {
      message: "the unread badge on deploys",
    });
    expect(await page.locator('button[data-stream="audit"] > .unread').count()).toBe(0);
    await page.click('button[data-stream="deploys"]');
    await waitFor(async () => (await badge.count()) === 0, { message: "the badge to clear" });
  });

  it("on a phone: a collapsed toolbar, 44 px targets, the new-lines pill clear of Newest ↓, export on screen", async () => {
    const s = track(
      await startStack(
        shared.web.path,
        Array.from({ length: 300 }, (_, i) => `phone line ${i}`),
      ),
    );
    const page = await open(s.url, PHONE);
    await waitFor(async () => (await countText(page, "phone line 299")) === 1);
    const rect = (sel: string) => page.locator(sel).evaluate((el) => el.getBoundingClientRect().toJSON());
    const { height: toolbarH } = await rect("#toolbar");
    expect(toolbarH / 844).toBeLessThan(0.1);
    expect(await page.locator("#tools-toggle").isVisible()).toBe(true);
    expect(await page.locator("#pause").isVisible()).toBe(false);

    /** Every visible control outside the log's rows smaller than 44 × 44 px. */
    const small = () =>
      page.evaluate(() =>
        [...document.querySelectorAll<HTMLElement>("button, summary, select, input, a[href], [role=tab]")]
          .filter((el) => !el.closest("#log") && el.getClientRects().length > 0)
          .map((el) => ({ el, r: el.getBoundingClientRect() }))
          .filter(({ r }) => r.width > 0 && (r.width < 44 || r.height < 44))
          .map(
            ({ el, r }) =>
              `${el.id || el.textContent?.trim()} ${Math.round(r.width)}×${Math.round(r.height)}`,
          ),
      );
    expect(await small()).toEqual([]);
    await page.click("#tools-toggle");
    expect(await page.locator("#tools-toggle").getAttribute("aria-expanded")).toBe("true");
    expect(await page.locator("#pause").isVisible()).toBe(true);
    expect(await small()).toEqual([]);

    // Export's items open inside the viewport.
    await page.click("#export-menu summary");
    for (const id of ["#export-log", "#export-json"]) {
      const r = await rect(id);
      expect(r.left).toBeGreaterThanOrEqual(0);
      expect(r.top).toBeGreaterThanOrEqual(0);
      expect(r.right).toBeLessThanOrEqual(390);
      expect(r.bottom).toBeLessThanOrEqual(844);
    }
    await page.click("#export-menu summary");
    await page.click("#tools-toggle");
    expect(await page.locator("#pause").isVisible()).toBe(false);

    // Scrolled up, a new line: the pill and Newest ↓ both show, side by side.
    await page.locator("#log").evaluate((el) => {
      el.scrollTop = 0;
    });
    await waitFor(() => page.evaluate(() => !window.__livetrail.following()), {
      message: "to stop following",
    });
    await append(s.file, "phone line new");
    await waitFor(() => page.locator("#new-lines").isVisible(), { message: "the new-lines pill" });
    expect(await page.locator("#new-lines").textContent()).toBe("1 new line ↓");
    const pill = await rect("#new-lines");
    const end = await rect("#to-end");
    const apart =
      pill.right <= end.left || end.right <= pill.left || pill.bottom <= end.top || end.bottom <= pill.top;
    expect(apart, `pill ${JSON.stringify(pill)} / Newest ${JSON.stringify(end)}`).toBe(true);
    expect(pill.left).toBeGreaterThanOrEqual(0);
    expect(end.right).toBeLessThanOrEqual(390);
    expect(await small()).toEqual([]);
  });
});
