import { appendFile, writeFile } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { useClosers } from "../helpers/closer.js";
import { makeTempDir } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import {
  openDashboard,
  readDownload,
  type Stack,
  startStack,
  useBuiltDashboard,
} from "./dashboard-harness.js";

/** How long a probe of the page may take before it counts as frozen. */
const PROBE_MS = 5000;

/** Any one character of a class written with `\\u` escapes (built at run time: the linter rejects control
 * characters in a regex literal, and here finding them is the point). */
const anyOf = (cls: string): RegExp => new RegExp(`[${cls}]`);

/**
 * What a foreign writer or a shared link can throw at a viewer: lines with bidi overrides and terminal controls,
 * and links whose regex backtracks catastrophically. The page must show the first visibly and survive the second.
 */
const shared = useBuiltDashboard("livetrail-hostile-");

describe("hostile lines and links", () => {
  const track = useClosers();
  const open = async (url: string): Promise<Page> => {
    const page = await openDashboard(shared.browser, url);
    track({ close: () => page.context().close() });
    return page;
  };
  /** A stack whose default stream holds exactly these raw lines (as any program could write them). */
  const rawStack = async (lines: string[]): Promise<Stack & { raw: string }> => {
    const dir = await makeTempDir("livetrail-hostile-log-");
    track({ close: () => dir.remove() });
    const raw = dir.file("raw.log");
    await writeFile(raw, lines.map((l) => `${l}\n`).join(""));
    const stack = track(await startStack(shared.web.path, [], { streams: [{ name: "audit", file: raw }] }));
    return Object.assign(stack, { raw });
  };

  /**
   * Opens a page without waiting on it (a page whose main thread hangs would never answer) and returns it with a
   * probe: does a trivial evaluate() come back within `ms`?
   */
  const openRaw = async (url: string) => {
    const context = await shared.browser.newContext({ viewport: { width: 1280, height: 800 } });
    track({ close: () => context.close() });
    const page = await context.newPage();
    await page.goto(url);
    return page;
  };
  /**
   * evaluate() that fails when the page does not answer within PROBE_MS. A main thread running one of these
   * patterns does not answer for minutes; a busy shared machine can delay a healthy answer by a second or two.
   */
  const ask = async <R>(page: Page, fn: (arg: string) => R, arg: string, what: string): Promise<R> => {
    const t0 = performance.now();
    const answer = await Promise.race([
      page.evaluate(fn, arg).then((value) => ({ value })),
      sleep(PROBE_MS).then(() => null),
    ]);
    if (answer === null || performance.now() - t0 > PROBE_MS)
      throw new Error(`the page did not answer within ${PROBE_MS} ms (${what})`);
    return answer.value as R;
  };
  /**
   * Keeps probing while waiting for `done(arg)` (evaluated in the page): every probe must be answered within
   * PROBE_MS. Returns the number of probes.
   */
  const staysResponsiveUntil = async (page: Page, what: string, done: (arg: string) => boolean, arg = "") => {
    const deadline = performance.now() + 20_000;
    let probes = 0;
    for (;;) {
      await ask(page, () => 1 + 1, "", `probe ${probes + 1}, waiting for ${what}`);
      probes++;
      if (await ask(page, done, arg, what)) break;
      if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await sleep(100);
    }
    return probes;
  };
  /** In the page: the match count starts with `text`. */
  const countIs = (text: string) =>
    (document.getElementById("match-count")?.textContent ?? "").startsWith(text);

  // Ordinary audit lines: a run of letters a backtracking engine would take exponential time over with the
  // patterns below, and a timestamp (digits) that `([a-z]+)*[0-9]` finds (a backtracking engine was slow on it
  // only when highlighting). The filter runs them on re2js (RE2, linear time): they apply like any other.
  const AUDIT = Array.from(
    { length: 40 },
    (_, i) => `[2025-12-17T17:40:${String(i).padStart(2, "0")}Z] login aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!`,
  );
  /** Each pattern and the match count it shows once applied. */
  const CATASTROPHIC: [string, string][] = [
    ["(.*)*x", "0 matches in 40 lines"],
    ["(a+)+$", "0 matches in 40 lines"],
    ["(a|aa)+b", "0 matches in 40 lines"],
    ["([a-z]+)*[0-9]", "40 matches in 40 lines"],
  ];

  it("survives a shared link with a catastrophic regex: the page answers throughout and applies it (linear time)", async () => {
    const s = await rawStack(AUDIT);
    for (const [re, count] of CATASTROPHIC) {
      const page = await openRaw(`${s.url}#q=${encodeURIComponent(re)}&re=1`);
      await staysResponsiveUntil(page, `"${re}" applied`, countIs, count);
      expect(await page.inputValue("#search")).toBe(re);
      expect(await page.getAttribute("#opt-regex", "aria-pressed")).toBe("true");
      expect(await page.getAttribute("#search", "aria-invalid")).toBe("false");
      await page.fill("#search", "login a+!$");
      await staysResponsiveUntil(page, `a fine regex after "${re}"`, countIs, "40 matches in 40 lines");
      expect(await page.getAttribute("#search", "aria-invalid")).toBe("false");
      await page.context().close();
    }
  }, 120_000);

  it("applies a typed catastrophic regex, also to a newly arrived line it would have backtracked on", async () => {
    const s = await rawStack(AUDIT);
    const page = await openRaw(s.url);
    await staysResponsiveUntil(page, "the lines loaded", () => window.__livetrail?.lineCount() === 40);
    await page.click("#opt-regex");
    await page.fill("#search", "(a+)+$");
    await staysResponsiveUntil(page, "the typed pattern applied", countIs, "0 matches in 40 lines");

    await page.fill("#search", "(b+)+!$");
    await staysResponsiveUntil(page, "the b pattern applied", countIs, "0 matches in 40 lines");
    await appendFile(s.raw, `[2025-12-17T17:41:00Z] login ${"b".repeat(40)}!\n`);
    await staysResponsiveUntil(page, "the new line matched", countIs, "1 matches in 41 lines");
    expect(await page.evaluate(() => window.__livetrail.lineCount())).toBe(41);
    // Not RE2 (lookahead): reported invalid, not run.
    await page.fill("#search", "a(?=!)");
    await staysResponsiveUntil(
      page,
      "lookahead reported invalid",
      () => document.getElementById("search")?.getAttribute("aria-invalid") === "true",
    );
  }, 60_000);

  it("shows bidi and control characters from a foreign writer as escapes, in rows, detail, copies and exports", async () => {
    const s = await rawStack([
      "[2025-12-17T17:40:37Z] ordinary line",
      "[2025-12-17T17:40:38Z] login user=\u202Eadmin\u202C ok",
      "[2025-12-17T17:40:39Z] \u001b[2J\u001b[31mcleared\u0007 \u2066iso\u2069 \u200Fmark\u200E \u061Calm \u0085next\u009b1m del\u007f tab\there",
    ]);
    const page = await open(s.url);
    await page.context().grantPermissions(["clipboard-read", "clipboard-write"]);
    await waitFor(() => page.evaluate(() => window.__livetrail.countText("tab") === 1), {
      message: "the lines loaded",
    });
    const row = page.locator("#log .row", { hasText: "login user=" });
    // textContent is the logical text: with the override live it would hold U+202E and show as "nimda".
    await waitFor(async () => (await row.textContent())?.includes("user=\\u202eadmin\\u202c ok"), {
      message: "the override shown as an escape",
    });
    const rowText = (await row.textContent()) ?? "";
    expect(rowText).not.toMatch(/[\u202a-\u202e]/);
    // What is painted: the escape is its own element, in left-to-right order, not reordered text.
    const esc = await row.locator(".esc").allTextContents();
    expect(esc).toEqual(["\\u202e", "\\u202c"]);

    const ctl = page.locator("#log .row", { hasText: "cleared" });
    const ctlText = (await ctl.textContent()) ?? "";
    expect(ctlText).toContain(
      "\\x1b[2J\\x1b[31mcleared\\x07 \\u2066iso\\u2069 \\u200fmark\\u200e \\u061calm \\u0085next\\u009b1m del\\x7f tab\\there",
    );
    expect(ctlText).not.toMatch(anyOf("\\u0000-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u2066-\\u2069"));

    // The detail panel and Copy line show the same escapes.
    await row.click();
    await waitFor(async () => (await page.locator("#detail-text").textContent())?.includes("\\u202e"), {
      message: "the detail panel",
    });
    expect(await page.locator("#detail-text").textContent()).toBe(
      "[2025-12-17T17:40:38Z] login user=\\u202eadmin\\u202c ok",
    );
    await page.click("#copy-line");
    await waitFor(async () => (await page.locator("#notice").textContent()) === "Line copied");
    expect(await page.evaluate(() => navigator.clipboard.readText())).toBe(
      "[2025-12-17T17:40:38Z] login user=\\u202eadmin\\u202c ok",
    );
    await page.click("#copy-link");
    await waitFor(async () => (await page.locator("#notice").textContent()) === "Link copied");
    const link = await page.evaluate(() => navigator.clipboard.readText());
    expect(link).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#stream=audit&line=/);
    expect(link).not.toMatch(anyOf("\\u0000-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069"));

    // Filtering still matches the original text (the override character itself), and highlights it.
    await page.fill("#search", "\u202Eadmin");
    await waitFor(async () => (await page.locator("#match-count").textContent())?.startsWith("1 matches"), {
      message: "the filter on the original text",
    });
    // The marks can be drawn after the count (when the highlights arrive).
    await waitFor(async () => (await page.locator("#log mark").allTextContents()).join() === "\\u202eadmin", {
      message: "the match marked in the row",
    });
    await page.fill("#search", "");
    await waitFor(async () => (await page.locator("#match-count").textContent()) === "3 lines");

    // The .log export is safe to cat: controls (but tab) and bidi escaped; .json keeps the text, escaped as JSON.
    await page.click("#export-menu summary");
    const [log] = await Promise.all([page.waitForEvent("download"), page.click("#export-log")]);
    const exported = await readDownload(await log.path());
    expect(exported).toContain("login user=\\u202eadmin\\u202c ok\n");
    expect(exported).toContain("\\x1b[2J\\x1b[31mcleared\\x07 \\u2066iso\\u2069");
    expect(exported).toContain("del\\x7f tab\there\n");
    expect(exported).not.toMatch(
      anyOf(
        "\\u0000-\\u0008\\u000b-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069",
      ),
    );
    await page.click("#export-menu summary");
    const [json] = await Promise.all([page.waitForEvent("download"), page.click("#export-json")]);
    const raw = await readDownload(await json.path());
    expect(raw).not.toMatch(
      anyOf(
        "\\u0000-\\u0009\\u000b-\\u001f\\u007f-\\u009f\\u061c\\u200e\\u200f\\u202a-\\u202e\\u2066-\\u2069",
      ),
    );
    // ...and the exact original text once parsed.
    const texts = (JSON.parse(raw) as { text: string }[]).map((e) => e.text);
    expect(texts[1]).toBe("[2025-12-17T17:40:38Z] login user=\u202Eadmin\u202C ok");
    expect(texts[2]).toContain("\u001b[2J\u001b[31mcleared\u0007 \u2066iso\u2069");

    // A line arriving live goes the same way.
    await appendFile(s.raw, "[2025-12-17T17:40:40Z] live \u202Egnp.exe\n");
    const live = page.locator("#log .row", { hasText: "live " });
    await waitFor(async () => (await live.textContent())?.includes("live \\u202egnp.exe"), {
      message: "the live line escaped",
    });
  });
});
