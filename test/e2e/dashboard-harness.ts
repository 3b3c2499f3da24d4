import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { type Browser, chromium, type Page } from "playwright-core";
import { build } from "vite";
import { afterAll, beforeAll } from "vitest";
import { appendEntries, type EntryInput } from "../../src/append/appender.js";
import { createServer, type LivetrailServer } from "../../src/server/app.js";
import type { ServerOptions } from "../../src/server/options.js";
import { makeTempDir, type TempDir } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";

/**
 * Real parts for the dashboard's browser tests: the web app built by Vite from the current source (into a temp
 * dir, so dist/ is left alone), a real server on 127.0.0.1, a real log file, and Debian's headless Chromium.
 */

const ROOT = fileURLToPath(new URL("../../", import.meta.url));

export const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];

/** What a dashboard test file shares: the built web app and one running Chromium. */
export interface BuiltDashboard {
  /** The dashboard built into a temp dir (the production build, as `npm run build` makes it). */
  readonly web: TempDir;
  readonly browser: Browser;
}

/** Builds the dashboard and starts Chromium once for the calling test file; both go away after its tests. */
export function useBuiltDashboard(tempPrefix: string): BuiltDashboard {
  const shared = {} as { web: TempDir; browser: Browser };
  beforeAll(async () => {
    shared.web = await makeTempDir(tempPrefix);
    await build({
      configFile: join(ROOT, "vite.config.ts"),
      logLevel: "error",
      build: { outDir: shared.web.path, emptyOutDir: true, sourcemap: false },
    });
    shared.browser = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
  }, 120_000);
  afterAll(async () => {
    await shared.browser?.close();
    await shared.web?.remove();
  });
  return shared;
}

export interface Stack {
  dir: TempDir;
  /** The default stream's file ("audit"). */
  file: string;
  /** A second stream's file ("deploys"). */
  second: string;
  server: LivetrailServer;
  url: string;
  port: number;
  /** Stops the server (idempotent) and can start a new one on the same port. */
  restart(between?: () => Promise<void>): Promise<void>;
  close(): Promise<void>;
}

/**
 * A server following a fresh log file "audit" (with `initial` entries, the default stream) and a second one,
 * "deploys", and serving the built app from `webDir`.
 */
export async function startStack(
  webDir: string,
  initial: (string | EntryInput)[] = [],
  extra: Partial<ServerOptions> = {},
): Promise<Stack> {
  const dir = await makeTempDir("livetrail-e2e-");
  const file = dir.file("audit.log");
  if (initial.length > 0) await appendEntries(file, initial);
  else await appendEntries(file, ["dashboard test started"]);
  const second = dir.file("deploys.log");
  await appendEntries(second, ["deploys stream started"]);
  const make = (port: number) =>
    createServer({
      streams: [
        { name: "audit", file },
        { name: "deploys", file: second },
      ],
      port,
      staticDir: webDir,
      pollIntervalMs: 200,
      ...extra,
    });
  let server = make(0);
  const address = await server.listen();
  const stack: Stack = {
    dir,
    file,
    second,
    server,
    url: `${address.url}/`,
    port: address.port,
    async restart(between) {
      // Deadlines that name the step, so a hang says which part hung (not just "test timed out").
      await within(server.close(), 10_000, "server.close() before the restart");
      await between?.();
      server = make(address.port);
      stack.server = server;
      await within(server.listen(), 10_000, `listening again on port ${address.port}`);
    },
    async close() {
      await server.close();
      await dir.remove();
    },
  };
  return stack;
}

async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      // Name the sockets still open (Node's undocumented handle list): a hang in close() is usually one of them.
      const handles = (
        process as unknown as {
          _getActiveHandles(): {
            constructor: { name: string };
            remotePort?: number;
            localPort?: number;
            _httpMessage?: unknown;
            readyState?: string;
          }[];
        }
      )._getActiveHandles();
      const info = handles
        .filter((h) => h.constructor.name === "Socket")
        .map((h) => `${h.localPort}<-${h.remotePort} ${h.readyState} http:${h._httpMessage ? "y" : "n"}`);
      reject(new Error(`${what} did not finish within ${ms} ms; sockets: ${info.join(", ")}`));
    }, ms);
  });
  try {
    return await Promise.race([promise, deadline]);
  } finally {
    clearTimeout(timer);
  }
}

export function append(file: string, ...messages: string[]): Promise<unknown> {
  return appendEntries(file, messages);
}

/** Opens the dashboard and waits until it is connected and holds the file's lines. */
export async function openDashboard(browser: Browser, url: string): Promise<Page> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, acceptDownloads: true });
  const page = await context.newPage();
  await page.goto(url);
  await waitFor(() => page.evaluate(() => window.__livetrail?.connection().state === "open"), {
    message: "the dashboard to connect",
  });
  return page;
}

/** Rows of the shown stream containing `part` (from the page's store, not just what is in view). */
export function countText(page: Page, part: string): Promise<number> {
  return page.evaluate((p) => window.__livetrail.countText(p), part);
}

/** Texts of the row elements currently in the DOM, top to bottom. */
export function visibleRowTexts(page: Page): Promise<string[]> {
  return page.evaluate(() => {
    const rows = [...document.querySelectorAll<HTMLElement>("#log .row")].filter((r) => !r.hidden);
    const top = (r: HTMLElement) => new DOMMatrix(getComputedStyle(r).transform).m42;
    return rows.sort((a, b) => top(a) - top(b)).map((r) => r.textContent ?? "");
  });
}

export async function readDownload(path: string | null): Promise<string> {
  if (path === null) throw new Error("download failed");
  return readFile(path, "utf8");
}

declare global {
  interface Window {
    __livetrail: {
      lineCount(): number;
      domRowCount(): number;
      matchCount(): number;
      countText(part: string): number;
      lineTexts(limit?: number): (string | null)[];
      lastLine(): string | null;
      following(): boolean;
      live(): boolean;
      paused(): boolean;
      connection(): { state: string };
    };
  }
}
