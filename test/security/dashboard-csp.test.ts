import { appendFile, writeFile } from "node:fs/promises";
import { describe, expect, test } from "vitest";
import { useBuiltDashboard } from "../e2e/dashboard-harness.js";
import { useClosers } from "../helpers/closer.js";
import { makeTempDir } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { startServer } from "../server/harness.js";
import { request } from "./http-client.js";
import { READ } from "./security-harness.js";

/**
 * The built dashboard and the sign-in page in headless Chromium under the real security headers: signing in,
 * live lines over the cookie-authenticated WebSocket, and not one Content-Security-Policy violation.
 */
const shared = useBuiltDashboard("livetrail-csp-web-");
const track = useClosers();

/** A server with a read token (so sign-in is required) serving the built dashboard over a file holding `content`. */
async function startSignedInServer(content: string) {
  const dir = await makeTempDir("livetrail-csp-");
  track({ close: () => dir.remove() });
  const file = dir.file("audit.log");
  await writeFile(file, content);
  const s = track(
    await startServer([{ name: "audit", file }], {
      staticDir: shared.web.path,
      security: { readTokens: [READ] },
    }),
  );
  return { file, s };
}

describe("dashboard under the strict CSP", () => {
  test("sign in, stream live lines with the chart, search the file: no CSP violation; injected inline script is blocked", async () => {
    const { file, s } = await startSignedInServer(
      "[2025-12-17T17:40:37Z] first line\n[2025-12-17T17:40:38Z] ERROR: second line\n",
    );

    const headers = (await request(`${s.url}/login`)).headers;
    const csp = String(headers["content-security-policy"]);
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("frame-ancestors 'none'");
    expect(csp).not.toContain("unsafe-inline");
    expect(headers["x-content-type-options"]).toBe("nosniff");

    const context = await shared.browser.newContext();
    track({ close: () => context.close() });
    // Injected by the browser before any page script (exempt from CSP): records every violation.
    await context.addInitScript(() => {
      const w = window as unknown as { __csp: string[] };
      w.__csp = [];
      document.addEventListener("securitypolicyviolation", (e) => {
        w.__csp.push(`${e.violatedDirective} ${e.blockedURI}`);
      });
    });
    const page = await context.newPage();
    const consoleErrors: string[] = [];
    page.on("console", (m) => {
      if (/Content.Security.Policy|Refused to/i.test(m.text())) consoleErrors.push(m.text());
    });
    const violations = async () => page.evaluate(() => (window as unknown as { __csp: string[] }).__csp);

    await page.goto(`${s.url}/`);
    expect(new URL(page.url()).pathname).toBe("/login");
    // A `next` pointing at another site is ignored, also one the browser only resolves to another site (it drops
    // tabs: "/\t/evil.example" is "//evil.example"): after signing in the browser stays on this server.
    await page.goto(`${s.url}/login?next=${encodeURIComponent("/\t/evil.example/")}`);
    await page.fill("#token", "not-the-token-at-all");
    await page.click("button[type=submit]");
    await waitFor(async () => (await page.textContent("#message"))?.includes("not valid"), {
      message: "the error",
    });
    expect(await violations()).toEqual([]);

    await page.fill("#token", READ);
    await page.click("button[type=submit]");
    await page.waitForURL(`${s.url}/`);
    await waitFor(() => page.evaluate(() => window.__livetrail?.connection().state === "open"), {
      message: "the dashboard to connect over the cookie",
    });
    await appendFile(file, "[2025-12-17T17:40:39Z] arrived live\n");
    await waitFor(() => page.evaluate(() => window.__livetrail.countText("arrived live") > 0), {
      message: "the live line",
    });
    await page.fill("#search", "second");
    await page.click("#search-file");
    await waitFor(async () => (await page.textContent("#results-summary"))?.trim(), {
      message: "search results",
    });
    // A regular expression filter runs in the filter worker: a same-origin script, which the policy allows.
    await page.click("#results-close");
    await page.click("#opt-regex");
    await page.fill("#search", "sec.nd|arr.ved");
    await waitFor(async () => (await page.textContent("#match-count"))?.startsWith("2 matches"), {
      message: "the regex filter's matches (from its worker)",
    });
    // The count comes with the filter's rows; the marks are drawn when its highlights arrive, which can be later.
    await waitFor(
      async () => (await page.locator("#log mark").allTextContents()).join() === "second,arrived",
      {
        message: "the matches marked in the rows",
      },
    );

    expect(await violations()).toEqual([]);
    expect(consoleErrors).toEqual([]);

    // The policy is really enforced: an inline handler smuggled into the DOM does not run.
    await page.evaluate(() => {
      document.body.insertAdjacentHTML("beforeend", '<img src="data:," onerror="window.__pwned = 1">');
    });
    await waitFor(async () => (await violations()).length > 0, { message: "the blocked inline handler" });
    expect(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned)).toBeUndefined();
  }, 90_000);

  test("a shared link opened without a session keeps its view (the URL fragment) through the sign-in", async () => {
    const { s } = await startSignedInServer("[2025-12-17T17:40:37Z] first line\n");
    const context = await shared.browser.newContext();
    track({ close: () => context.close() });
    const page = await context.newPage();
    await page.goto(`${s.url}/#q=first`);
    expect(new URL(page.url()).pathname).toBe("/login");
    await page.fill("#token", READ);
    await page.click("button[type=submit]");
    await page.waitForURL(`${s.url}/#q=first`);
    expect(await page.inputValue("#search")).toBe("first");
  }, 90_000);
});
