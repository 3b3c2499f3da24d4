import { type Browser, chromium } from "playwright-core";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { CHROMIUM_ARGS } from "../e2e/dashboard-harness.js";
import { useClosers } from "../helpers/closer.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { request } from "./http-client.js";
import { READ, startSecured } from "./security-harness.js";

/**
 * Open redirects after sign-in: whatever `next` the sign-in page is given, the browser ends up on this server.
 * Every value below either points at another site or is a way to make a browser (or a lax check) believe a
 * path is another site: scheme-relative `//`, backslashes, tabs and newlines the URL parser drops, dot segments
 * (plain and percent-encoded) that leave `//` at the start of the path, absolute URLs and script URLs.
 */
const HOSTILE = [
  "//evil.example/phish",
  "/.//evil.example/phish",
  "/%2e%2e//evil.example/",
  "/%2E%2E//evil.example/",
  "/..//evil.example/",
  "/./..//./evil.example/",
  "/a/../..//evil.example/",
  "///evil.example/",
  "////evil.example/phish",
  "/\\evil.example/",
  "\\\\evil.example/",
  "\\/evil.example/",
  "/\\/evil.example/",
  "/\\\\evil.example",
  "/\t/evil.example/",
  "/\n/evil.example/",
  "/\r\n/evil.example/",
  "\t//evil.example/",
  " //evil.example/",
  "\r\nLocation: http://evil.example/",
  "/%2F/evil.example/",
  "/%5C/evil.example/",
  "%2F%2Fevil.example/",
  "/%2f%2fevil.example",
  "/%09/evil.example/",
  "//%65vil.example/",
  "http://evil.example/phish",
  "https://evil.example/phish",
  "HTTP://evil.example/",
  "http:\\\\evil.example/",
  "http:/\\evil.example/",
  "ht\ttp://evil.example/",
  "//evil.example@127.0.0.1/",
  "javascript:alert(document.domain)",
  "JaVaScRiPt:alert(1)",
  "java\tscript:alert(1)",
  "data:text/html,<script>alert(1)</script>",
  "vbscript:msgbox(1)",
  '/"><script>alert(1)</script>',
  "/$`$'$&",
  `/${"a".repeat(5000)}`,
];

const BENIGN = "/streams?x=1#y";
const FORM = { "content-type": "application/x-www-form-urlencoded" };

const tempDir = useTempDirs("livetrail-redirect-");
const track = useClosers();

/** A redirect target must be a path on this server: one leading "/", nothing the browser could read as a host. */
function expectOnOrigin(location: string | undefined, serverUrl: string, what: string): void {
  expect(location, what).toBeDefined();
  const target = location as string;
  expect(target, what).toMatch(/^\/(?![/\\])/);
  expect(target, what).not.toMatch(/[\s\\]/);
  expect(new URL(target, serverUrl).origin, what).toBe(new URL(serverUrl).origin);
}

/** The `next` the sign-in page carries in its form (HTML-unescaped), or undefined when it has none. */
function formNext(html: string): string | undefined {
  const input = /<input[^>]*\bname="next"[^>]*>/.exec(html)?.[0];
  const value = input === undefined ? undefined : /\bvalue="([^"]*)"/.exec(input)?.[1];
  return value
    ?.replaceAll("&quot;", '"')
    .replaceAll("&#39;", "'")
    .replaceAll("&lt;", "<")
    .replaceAll("&gt;", ">")
    .replaceAll("&amp;", "&");
}

async function signedInServer() {
  return track(await startSecured(await tempDir(), { readTokens: [READ], loginPerMinute: 100_000 }));
}

describe("sign-in redirects stay on this origin (form post, no JavaScript)", () => {
  test("the page's form carries only a safe next, and the post redirects only to this origin", async () => {
    const s = await signedInServer();
    for (const next of [...HOSTILE, BENIGN]) {
      const what = JSON.stringify(next.slice(0, 60));
      const page = await request(`${s.url}/login?next=${encodeURIComponent(next)}`);
      expect(page.status, what).toBe(200);
      // Nothing from `next` becomes markup: the page's only script is its own.
      expect(page.body.match(/<script/g), what).toHaveLength(1);
      const carried = formNext(page.body);
      expect(carried, what).toBeDefined();
      expectOnOrigin(carried, s.url, `${what} in the form`);

      // The flow as a browser without JavaScript runs it: the page's form, posted with the right token.
      const posted = await request(`${s.url}/auth/login`, {
        method: "POST",
        headers: FORM,
        body: new URLSearchParams({ token: READ, next: carried ?? "" }).toString(),
      });
      expect(posted.status, what).toBe(303);
      expectOnOrigin(posted.headers.location, s.url, `${what} after the form`);

      // A forged form (no page involved) gets the same check on the server.
      const forged = await request(`${s.url}/auth/login`, {
        method: "POST",
        headers: FORM,
        body: new URLSearchParams({ token: READ, next }).toString(),
      });
      expect(forged.status, what).toBe(303);
      expectOnOrigin(forged.headers.location, s.url, `${what} after a forged form`);
      if (next !== BENIGN) expect(forged.headers.location, what).toBe(posted.headers.location);

      // A wrong token sends the form back to the sign-in page, keeping only the safe next.
      const wrong = await request(`${s.url}/auth/login`, {
        method: "POST",
        headers: FORM,
        body: new URLSearchParams({ token: "not-the-token-at-all", next }).toString(),
      });
      expect(wrong.status, what).toBe(303);
      expectOnOrigin(wrong.headers.location, s.url, `${what} after a wrong token`);
      expect(new URL(wrong.headers.location ?? "", s.url).pathname, what).toBe("/login");
      const again = await request(new URL(wrong.headers.location ?? "", s.url).href);
      expect(formNext(again.body), what).toBe(carried);
    }
  });

  test("a benign next is kept with its query and fragment; none at all goes to /", async () => {
    const s = await signedInServer();
    const page = await request(`${s.url}/login?next=${encodeURIComponent(BENIGN)}`);
    expect(formNext(page.body)).toBe(BENIGN);
    const posted = await request(`${s.url}/auth/login`, {
      method: "POST",
      headers: FORM,
      body: new URLSearchParams({ token: READ, next: BENIGN }).toString(),
    });
    expect(posted.headers.location).toBe(BENIGN);
    const plain = await request(`${s.url}/auth/login`, {
      method: "POST",
      headers: FORM,
      body: new URLSearchParams({ token: READ }).toString(),
    });
    expect(plain.headers.location).toBe("/");
    // Past 8,192 characters a next is not followed at all.
    const long = await request(`${s.url}/login?next=/${"a".repeat(9000)}`);
    expect(formNext(long.body)).toBe("/");
    // An absolute URL of this very origin is reduced to its path, leading slashes collapsed.
    for (const [next, expected] of [
      [`${s.url}/streams?x=1`, "/streams?x=1"],
      [`${s.url}//evil.example/`, "/evil.example/"],
    ] as const) {
      const same = await request(`${s.url}/auth/login`, {
        method: "POST",
        headers: FORM,
        body: new URLSearchParams({ token: READ, next }).toString(),
      });
      expect(same.headers.location, next).toBe(expected);
    }
    // The JSON sign-in (the page's script) still answers 204 with no redirect of its own.
    const json = await request(`${s.url}/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: READ, next: "//evil.example/" }),
    });
    expect(json.status).toBe(204);
    expect(json.headers.location).toBeUndefined();
  });
});

describe("sign-in redirects stay on this origin (the page's script, in Chromium)", () => {
  let browser: Browser;
  beforeAll(async () => {
    browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
  }, 60_000);
  afterAll(async () => {
    await browser?.close();
  });

  test("after signing in (JSON, then location.replace) the browser never leaves the server", async () => {
    const s = await signedInServer();
    const origin = new URL(s.url).origin;
    const context = await browser.newContext();
    track({ close: () => context.close() });
    // Any request to another origin is recorded and answered here (no DNS, nothing leaves the machine).
    const foreign: string[] = [];
    await context.route(
      (url) => url.origin !== origin,
      (route) => {
        foreign.push(route.request().url());
        return route.fulfill({ status: 200, contentType: "text/html", body: "<p>phished</p>" });
      },
    );
    const page = await context.newPage();
    const dialogs: string[] = [];
    page.on("dialog", (dialog) => {
      dialogs.push(dialog.message());
      void dialog.dismiss();
    });

    for (const next of [...HOSTILE, BENIGN]) {
      const what = JSON.stringify(next.slice(0, 60));
      await page.goto(`${s.url}/login?next=${encodeURIComponent(next)}`);
      await page.fill("#token", READ);
      await Promise.all([
        page.waitForURL((url) => !(url.origin === origin && url.pathname === "/login"), {
          timeout: 10_000,
        }),
        page.click("button[type=submit]"),
      ]);
      const landed = new URL(page.url());
      expect(landed.origin, what).toBe(origin);
      if (next === BENIGN) expect(`${landed.pathname}${landed.search}${landed.hash}`).toBe(BENIGN);
      expect(foreign, what).toEqual([]);
      expect(dialogs, what).toEqual([]);
    }
  }, 120_000);

  test("the fragment of the page first asked for survives the sign-in", async () => {
    const s = await signedInServer();
    const context = await browser.newContext();
    track({ close: () => context.close() });
    const page = await context.newPage();
    await page.goto(`${s.url}/login?next=${encodeURIComponent("/streams?x=1")}#q=first`);
    await page.fill("#token", READ);
    await page.click("button[type=submit]");
    await page.waitForURL(`${s.url}/streams?x=1#q=first`);
  }, 60_000);
});
