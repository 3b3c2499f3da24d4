import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import type { EntryInput } from "../../src/append/appender.js";
import { useClosers } from "../helpers/closer.js";
import { makeTempDir } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import {
  append,
  countText,
  openDashboard,
  readDownload,
  type Stack,
  startStack,
  useBuiltDashboard,
  visibleRowTexts,
} from "./dashboard-harness.js";

const CLI = fileURLToPath(new URL("../../dist/bin/main.js", import.meta.url));

const shared = useBuiltDashboard("livetrail-web-");

describe("dashboard in a real browser", () => {
  const track = useClosers();
  const stack = async (initial: (string | EntryInput)[] = []): Promise<Stack> =>
    track(await startStack(shared.web.path, initial));
  const open = async (url: string): Promise<Page> => {
    const page = await openDashboard(shared.browser, url);
    track({ close: () => page.context().close() });
    return page;
  };

  it("shows an entry written with `livetrail log` without reload, exactly once in each of two pages", async () => {
    const s = await stack(["first entry"]);
    const [a, b] = [await open(s.url), await open(s.url)];
    await waitFor(
      async () => (await countText(a, "first entry")) === 1 && (await countText(b, "first entry")) === 1,
    );
    await promisify(execFile)(process.execPath, [CLI, "log", "--file", s.file, "deploy finished on web-1"]);
    for (const page of [a, b]) {
      await waitFor(
        async () => (await visibleRowTexts(page)).some((t) => t.includes("deploy finished on web-1")),
        {
          message: "the new entry on screen",
        },
      );
    }
    // A later line proves delivery moved on; the entry is still held exactly once by both pages.
    await append(s.file, "marker after deploy");
    for (const page of [a, b]) {
      await waitFor(() => countText(page, "marker after deploy"));
      expect(await countText(page, "deploy finished on web-1")).toBe(1);
      expect(await countText(page, "first entry")).toBe(1);
    }
  });

  it("filters as you type, highlights matches, and highlights a new matching line", async () => {
    const s = await stack(["alpha needle one", "beta hay", "gamma NEEDLE two", "delta hay"]);
    const page = await open(s.url);
    await waitFor(async () => (await countText(page, "hay")) === 2);
    await page.fill("#search", "needle");
    await waitFor(async () => (await visibleRowTexts(page)).length === 2, { message: "only matching rows" });
    const texts = await visibleRowTexts(page);
    expect(texts.every((t) => /needle/i.test(t))).toBe(true);
    expect(await page.locator("#match-count").textContent()).toContain("2 matches");
    expect(await page.locator("#log mark").allTextContents()).toEqual(["needle", "NEEDLE"]);

    await append(s.file, "epsilon hay", "zeta needle three");
    await waitFor(async () => (await visibleRowTexts(page)).some((t) => t.includes("zeta needle three")));
    expect((await visibleRowTexts(page)).some((t) => t.includes("epsilon"))).toBe(false);
    const marks = await page.locator("#log .row", { hasText: "zeta" }).locator("mark").allTextContents();
    expect(marks).toEqual(["needle"]);

    // An invalid regex shows its error and leaves the page working.
    await page.click("#opt-regex");
    await page.fill("#search", "needle(");
    await waitFor(async () =>
      (await page.locator("#match-count").textContent())?.startsWith("Invalid regex"),
    );
    await page.fill("#search", "");
    await waitFor(async () => (await visibleRowTexts(page)).some((t) => t.includes("epsilon")));
  });

  it("keeps a scrolled-up view still as lines arrive and offers a new-lines button", async () => {
    const s = await stack(Array.from({ length: 300 }, (_, i) => `history line ${i}`));
    const page = await open(s.url);
    await waitFor(async () => (await countText(page, "history line")) === 300);
    await page.locator("#log").hover();
    await page.mouse.wheel(0, -2000);
    await waitFor(() => page.evaluate(() => !window.__livetrail.following()), {
      message: "view to stop following",
    });
    const before = await page.evaluate(() => document.getElementById("log")?.scrollTop);
    const topBefore = (await visibleRowTexts(page)).slice(0, 12);
    await append(s.file, "new while scrolled 1", "new while scrolled 2", "new while scrolled 3");
    await waitFor(async () => (await page.locator("#new-lines").textContent())?.includes("3 new lines"), {
      message: "the new-lines button",
    });
    expect(await page.locator("#new-lines").isVisible()).toBe(true);
    expect(await page.evaluate(() => document.getElementById("log")?.scrollTop)).toBe(before);
    expect((await visibleRowTexts(page)).slice(0, 12)).toEqual(topBefore);

    await page.click("#new-lines");
    await waitFor(async () => (await visibleRowTexts(page)).some((t) => t.includes("new while scrolled 3")));
    await waitFor(() => page.evaluate(() => window.__livetrail.following()));
    expect(await page.locator("#new-lines").isVisible()).toBe(false);
  });

  it("reconnects after a server restart and shows every line written meanwhile exactly once", async () => {
    const s = await stack(["before restart"]);
    const page = await open(s.url);
    await waitFor(() => countText(page, "before restart"));
    await s.restart(async () => {
      await waitFor(() => page.evaluate(() => window.__livetrail.connection().state !== "open"), {
        message: "the page to notice the server is gone",
      });
      await append(s.file, "while down 1", "while down 2");
    });
    await append(s.file, "after restart");
    await waitFor(async () => (await countText(page, "after restart")) === 1, {
      timeoutMs: 30_000,
      message: "the line written after the restart",
    });
    const texts = (await page.evaluate(() => window.__livetrail.lineTexts())).map((t) =>
      t?.replace(/^\[[^\]]*\] /, ""),
    );
    expect(texts).toEqual(["before restart", "while down 1", "while down 2", "after restart"]);
  }, 60_000);

  it("resumes a stream that was empty when subscribed after its cursor, not from its tail", async () => {
    // An empty file sends no line to resume after: the cursor comes with "live". Without it the reconnect asks
    // for the last 5,000 lines again, and the first of a bigger burst written meanwhile goes missing silently.
    const empty = await makeTempDir("livetrail-e2e-empty-");
    track({ close: () => empty.remove() });
    const file = empty.file("empty.log");
    await writeFile(file, "");
    const s = track(await startStack(shared.web.path, [], { streams: [{ name: "audit", file }] }));
    const page = await open(s.url);
    await waitFor(() => page.evaluate(() => window.__livetrail.live()), { message: "the empty stream live" });
    expect(await page.evaluate(() => window.__livetrail.lineCount())).toBe(0);
    const burst = Array.from({ length: 5001 }, (_, i) => `burst ${String(i).padStart(4, "0")}`);
    await s.restart(async () => {
      await waitFor(() => page.evaluate(() => window.__livetrail.connection().state !== "open"), {
        message: "the page to notice the server is gone",
      });
      await append(file, ...burst);
    });
    await append(file, "after restart");
    await waitFor(async () => (await countText(page, "after restart")) === 1, {
      timeoutMs: 30_000,
      message: "the line written after the restart",
    });
    const texts = (await page.evaluate(() => window.__livetrail.lineTexts())).map((t) =>
      t?.replace(/^\[[^\]]*\] /, ""),
    );
    expect(texts).toEqual([...burst, "after restart"]);
  }, 60_000);

  it("renders an HTML line as text and runs nothing", async () => {
    const s = await stack();
    const page = await open(s.url);
    let dialogs = 0;
    page.on("dialog", (d) => {
      dialogs++;
      void d.dismiss();
    });
    const evil = "<img src=x onerror=alert(1)><script>alert(2)</script>";
    await append(s.file, evil);
    await waitFor(async () => (await visibleRowTexts(page)).some((t) => t.includes(evil)), {
      message: "the HTML line shown as text",
    });
    expect(await page.locator("#log img, #log script").count()).toBe(0);
    // Selecting it shows the whole line as text in the detail panel too.
    await page.locator("#log .row", { hasText: "onerror" }).click();
    expect(await page.locator("#detail-text").textContent()).toContain(evil);
    expect(await page.locator("#detail img").count()).toBe(0);
    expect(dialogs).toBe(0);
  });

  it("pauses (Space) while counting arrivals, and shows them all on resume", async () => {
    const s = await stack(["start"]);
    const page = await open(s.url);
    await waitFor(() => countText(page, "start"));
    await page.locator("body").press("Space");
    await waitFor(() => page.evaluate(() => window.__livetrail.paused()));
    await append(s.file, "held 1", "held 2", "held 3");
    await waitFor(async () => (await page.locator("#pause").textContent()) === "Resume (3 new)", {
      message: "the pause button to count 3 new lines",
    });
    expect((await visibleRowTexts(page)).some((t) => t.includes("held"))).toBe(false);
    await page.click("#pause");
    await waitFor(async () => (await visibleRowTexts(page)).filter((t) => t.includes("held")).length === 3);
    expect(await page.locator("#pause").textContent()).toBe("Pause");
  });

  it("exports the filtered lines with their timestamps", async () => {
    const s = await stack(["keep: one", "drop: two", "keep: three"]);
    const page = await open(s.url);
    await waitFor(async () => (await countText(page, "keep:")) === 2);
    await page.fill("#search", "keep:");
    await waitFor(async () => (await visibleRowTexts(page)).length === 2);
    await page.click("#export-menu summary");
    const [log] = await Promise.all([page.waitForEvent("download"), page.click("#export-log")]);
    const text = await readDownload(await log.path());
    expect(log.suggestedFilename()).toMatch(/^audit-.*-filtered\.log$/);
    expect(text.trimEnd().split("\n")).toEqual([
      expect.stringMatching(/^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\] keep: one$/),
      expect.stringMatching(/^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\] keep: three$/),
    ]);
    await page.click("#export-menu summary");
    const [json] = await Promise.all([page.waitForEvent("download"), page.click("#export-json")]);
    const entries = JSON.parse(await readDownload(await json.path())) as { time: string; text: string }[];
    expect(entries.map((e) => e.text.replace(/^\[[^\]]*\] /, ""))).toEqual(["keep: one", "keep: three"]);
    expect(entries.every((e) => /^\d{4}-\d\d-\d\dT/.test(e.time))).toBe(true);
  });

  it("restores stream, filter and options from a shared URL, and links a selected line", async () => {
    const s = await stack(["Login alice", "login bob", "logout carol"]);
    const page = await open(`${s.url}#stream=audit&q=Login&case=1`);
    await waitFor(async () => (await countText(page, "logout carol")) === 1);
    await waitFor(async () => (await visibleRowTexts(page)).length === 1, {
      message: "the shared filter applied",
    });
    expect(await page.inputValue("#search")).toBe("Login");
    expect(await page.getAttribute("#opt-case", "aria-pressed")).toBe("true");
    expect((await visibleRowTexts(page))[0]).toContain("Login alice");

    // Selecting a line puts it in the URL; opening that URL selects it again.
    await page.locator("#log .row", { hasText: "Login alice" }).click();
    await waitFor(() => page.evaluate(() => location.hash.includes("line=")));
    const shared = page.url();
    const other = await open(shared);
    await waitFor(async () => (await other.locator("#detail-text").textContent())?.includes("Login alice"), {
      message: "the linked line selected",
    });
    expect(await other.locator("#log .row.selected").textContent()).toContain("Login alice");
  });

  it("pages back through history, jumps to an older time, and fills the hole it leaves", async () => {
    // One line a second; the page subscribes with a tail of 5,000, so the oldest 3,000 start on the server only.
    const t0 = Date.UTC(2025, 0, 1);
    const pad = (i: number) => String(i).padStart(4, "0");
    const s = await stack(
      Array.from({ length: 8000 }, (_, i) => ({ message: `entry ${pad(i)}`, time: new Date(t0 + i * 1000) })),
    );
    const page = await open(s.url);
    await waitFor(async () => (await page.evaluate(() => window.__livetrail.lineCount())) === 5000);
    expect(await countText(page, "entry 2999")).toBe(0);

    await page.click("#load-older");
    await waitFor(async () => (await countText(page, "entry 2000")) === 1, { message: "older lines loaded" });
    const texts = (await page.evaluate(() => window.__livetrail.lineTexts())).map((t) => t?.slice(-4));
    expect(texts).toEqual(Array.from({ length: 6000 }, (_, i) => pad(2000 + i)));

    // Entry 100's time is older than anything held: it is loaded by time, with a fillable gap after the block.
    await page.fill("#jump-time", "2025-01-01T00:01:40");
    await page.click("#jump-go");
    await waitFor(async () => (await page.locator("#detail-text").textContent())?.includes("entry 0100"), {
      message: "the line at that time selected",
    });
    expect(await page.locator("#log .row.selected").textContent()).toContain("entry 0100");
    const gap = page.locator("#log .row.gap");
    await page.evaluate(() => {
      const log = document.getElementById("log") as HTMLElement;
      log.scrollTop += 20 * 1000; // down to the end of the loaded block
    });
    await waitFor(() => gap.isVisible(), { message: "the gap row" });
    expect(await gap.textContent()).toContain("not loaded");
    // Each click loads one page (1,000 lines) of the 1,900 missing; a bounded number of clicks must do.
    for (let click = 0; click < 4 && (await countText(page, "entry 1999")) === 0; click++) {
      await gap.locator(".gap-fill").click();
      await waitFor(async () => !(await page.locator("#notice").textContent())?.startsWith("Loading"));
    }
    const all = (await page.evaluate(() => window.__livetrail.lineTexts(100_000))).map((t) => t?.slice(-4));
    expect(all).toEqual(Array.from({ length: 7900 }, (_, i) => pad(100 + i)));
  });

  it("keeps a position and a filter per stream tab", async () => {
    const s = await stack([...Array.from({ length: 300 }, (_, i) => `audit line ${i}`), "audit two"]);
    await append(s.second, "deploy alpha", "deploy beta");
    const page = await open(s.url);
    await waitFor(async () => (await countText(page, "audit two")) === 1);
    await page.locator("#log").hover();
    await page.mouse.wheel(0, -2000);
    await waitFor(() => page.evaluate(() => !window.__livetrail.following()));
    const topRows = (await visibleRowTexts(page)).slice(0, 10);

    await page.click('#tabs [data-stream="deploys"]');
    await waitFor(async () => (await countText(page, "deploy beta")) === 1, {
      message: "the deploys stream",
    });
    expect(await page.getAttribute('#tabs [data-stream="deploys"]', "aria-selected")).toBe("true");
    await page.fill("#search", "beta");
    await waitFor(async () => (await visibleRowTexts(page)).length === 1);
    expect((await visibleRowTexts(page))[0]).toContain("deploy beta");

    await page.click('#tabs [data-stream="audit"]');
    await waitFor(async () => (await page.inputValue("#search")) === "");
    await waitFor(
      async () => JSON.stringify((await visibleRowTexts(page)).slice(0, 10)) === JSON.stringify(topRows),
      {
        message: "the audit tab back where it was",
      },
    );
    await page.fill("#search", "two");
    await waitFor(async () => (await visibleRowTexts(page)).length === 1);
    expect(page.url()).toContain("stream=audit");
    expect(page.url()).toContain("q=two");

    await page.click('#tabs [data-stream="deploys"]');
    await waitFor(async () => (await page.inputValue("#search")) === "beta");
    // The filter box is restored before the tab's rows are drawn (the next frame): wait for the rows too.
    await waitFor(async () => (await visibleRowTexts(page))[0]?.includes("deploy beta") === true, {
      message: "the deploys tab's filtered row",
    });
  });

  it("answers the keyboard: / focuses the filter, Esc clears it, End jumps to the newest line", async () => {
    const s = await stack(Array.from({ length: 200 }, (_, i) => `keyboard line ${i}`));
    const page = await open(s.url);
    await waitFor(async () => (await countText(page, "keyboard line")) === 200);
    await page.locator("body").press("/");
    expect(await page.evaluate(() => document.activeElement?.id)).toBe("search");
    await page.keyboard.type("line 19");
    await waitFor(async () => (await visibleRowTexts(page)).length === 11); // 19, 190..199
    await page.keyboard.press("Escape");
    await waitFor(async () => (await visibleRowTexts(page)).length > 11);
    expect(await page.inputValue("#search")).toBe("");

    await page.locator("#log").hover();
    await page.mouse.wheel(0, -2000);
    await waitFor(() => page.evaluate(() => !window.__livetrail.following()));
    await page.locator("body").press("End");
    await waitFor(() => page.evaluate(() => window.__livetrail.following()), {
      message: "End to follow again",
    });
    await waitFor(async () => (await visibleRowTexts(page)).some((t) => t.includes("keyboard line 199")));
  });

  it("sends a signed-out page to the sign-in page and back to the same view", async () => {
    const token = "dashboard-e2e-read-token-0123456789";
    const s = track(
      await startStack(shared.web.path, ["secret entry"], { security: { readTokens: [token] } }),
    );
    const context = await shared.browser.newContext();
    track({ close: () => context.close() });
    const page = await context.newPage();
    await page.goto(s.url);
    await page.waitForURL(/\/login\?next=/);
    await page.fill("#token", token);
    await page.click("button[type=submit]");
    await waitFor(() => page.evaluate(() => window.__livetrail?.connection().state === "open"), {
      message: "the dashboard to connect after signing in",
    });
    await waitFor(async () => (await countText(page, "secret entry")) === 1);
    await page.fill("#search", "secret");
    await waitFor(() => page.evaluate(() => location.hash.includes("q=secret")));

    // A restart ends every session: the page cannot reconnect, finds out why, and asks to sign in again.
    await s.restart();
    await page.waitForURL(/\/login\?next=/, { timeout: 30_000 });
    expect(new URL(page.url()).searchParams.get("next")).toBe("/#stream=audit&q=secret");
    await page.fill("#token", token);
    await page.click("button[type=submit]");
    await waitFor(() => page.evaluate(() => window.__livetrail?.connection().state === "open"));
    expect(await page.inputValue("#search")).toBe("secret");
  }, 60_000);
});
