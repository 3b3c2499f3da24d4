import { readFile, rm, truncate } from "node:fs/promises";
import type { Page } from "playwright-core";
import { describe, expect, it } from "vitest";
import { appendEntries } from "../../src/append/appender.js";
import { generateKey } from "../../src/integrity/note.js";
import { sealFile } from "../../src/integrity/seal-file.js";
import { sealKeyFromString } from "../../src/integrity/seal-key.js";
import { useClosers } from "../helpers/closer.js";
import { waitFor } from "../helpers/wait-for.js";
import { openDashboard, startStack, useBuiltDashboard } from "./dashboard-harness.js";

/**
 * Integrity in the dashboard (issue 13): each stream's tab says how far it is sealed and verified, and the
 * browser, a witness, remembers the newest checkpoint in localStorage and raises a red alarm when the server
 * later shows a history that does not extend it.
 */

const shared = useBuiltDashboard("livetrail-web-integrity-");

const badge = (page: Page, stream = "audit") =>
  page.evaluate(
    (s) => document.querySelector(`#tabs [data-stream="${s}"] .integrity`)?.textContent ?? null,
    stream,
  );
const alarm = (page: Page) =>
  page.evaluate(() => document.querySelector(".integrity-alarm")?.textContent ?? null);
const remembered = (page: Page) =>
  page.evaluate(() => {
    const key = Object.keys(localStorage).find(
      (k) => k.startsWith("livetrail.witness:") && k.endsWith(":audit"),
    );
    return key === undefined ? null : (JSON.parse(localStorage.getItem(key) as string) as { size: number });
  });

describe("integrity in the dashboard", () => {
  const track = useClosers();

  it("shows 'sealed · verified to line N', and a red alarm after a rollback from localStorage's old checkpoint", async () => {
    const key = sealKeyFromString(generateKey("livetrail.test/e2e").signerKey);
    const s = track(
      await startStack(shared.web.path, ["first"], {
        integrity: { sealKey: key, everyMs: 50, checkMs: 100 },
      }),
    );
    const page = await openDashboard(shared.browser, s.url);
    track({ close: () => page.context().close() });
    await waitFor(async () => (await badge(page)) === "sealed · verified to line 1", {
      message: "the badge at line 1",
    });

    await appendEntries(
      s.file,
      Array.from({ length: 300 }, (_, i) => `entry ${i + 2}`),
    );
    await waitFor(async () => (await badge(page)) === "sealed · verified to line 301", {
      message: "the badge at line 301",
    });
    // The browser checked the consistency proof from what it saw before and now remembers 301 lines.
    await waitFor(async () => (await remembered(page))?.size === 301, { message: "301 lines remembered" });
    expect(await alarm(page)).toBeNull();

    // Rollback: the server is stopped, the newest 201 lines deleted, the sidecar re-made with the same key.
    const text = await readFile(s.file, "utf8");
    const keep = text.split("\n").slice(0, 100).join("\n").length + 1;
    await s.restart(async () => {
      await rm(`${s.file}.seal`, { recursive: true });
      await truncate(s.file, keep);
      await sealFile(s.file, key);
    });
    const shown = await waitFor(() => alarm(page), { message: "the red alarm", timeoutMs: 20_000 });
    expect(shown).toContain('Integrity alarm on "audit": the log\'s history shrank');
    expect(shown).toMatch(/This browser saw 301 lines \(root \S+…\) at \S+; the server now shows 100 lines/);
    const color = await page.evaluate(
      () => getComputedStyle(document.querySelector(".integrity-alarm") as Element).backgroundColor,
    );
    expect(color).toBe("rgb(179, 38, 30)");
    // The old checkpoint is kept: a reload raises it again.
    await page.reload();
    await waitFor(() => alarm(page), { message: "the alarm after a reload", timeoutMs: 20_000 });
    expect((await remembered(page))?.size).toBe(301);
  });
});
