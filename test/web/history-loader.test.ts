import { describe, expect, it } from "vitest";
import { samePosition } from "../../src/protocol/lines-frame.js";
import type { LinesPage, RangeCount } from "../../src/protocol/messages.js";
import type { HttpContext } from "../../src/web/history-api.js";
import { HistoryLoader } from "../../src/web/history-loader.js";
import { type GapInfo, StreamStore } from "../../src/web/store.js";
import { useClosers } from "../helpers/closer.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { startServer, writeLines } from "../server/harness.js";

const tempDir = useTempDirs("livetrail-history-loader-");
const T0 = Date.UTC(2025, 0, 1);
const pad = (i: number) => String(i).padStart(4, "0");
/** One line a second; every 10th an error. */
const entry = (i: number) =>
  `[${new Date(T0 + i * 1000).toISOString()}] entry ${pad(i)}${i % 10 === 0 ? " failed" : " ok"}`;

/** The fetch a page would use, aimed at a real server. */
function realHttp(url: string): HttpContext {
  return { fetch: globalThis.fetch, base: `${url}/` };
}

/**
 * The real server for everything, and an answer to `GET /count` worked out from the server's own pages (this
 * branch's server has no count endpoint yet): the lines strictly after `after`, through the line ending at
 * `before`.
 */
function countingHttp(url: string, asked: string[]): HttpContext {
  const real = realHttp(url);
  const fetchCounting = async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
    const u = new URL(String(input));
    if (!u.pathname.endsWith("/count")) return real.fetch(input, init);
    asked.push(u.search);
    const after = u.searchParams.get("after") ?? "start";
    const before = u.searchParams.get("before");
    const name = u.pathname.split("/")[3] as string;
    const r = await real.fetch(
      `${url}/api/streams/${name}/lines?after=${encodeURIComponent(after)}&limit=5000`,
    );
    const page = (await r.json()) as LinesPage;
    const end =
      before === null ? page.lines.length - 1 : page.lines.findIndex((l) => samePosition(l.c, before));
    const lines = page.lines.slice(0, end + 1);
    const body: RangeCount = {
      lines: lines.length,
      errors: lines.filter((l) => l.text.includes("failed")).length,
      warnings: 0,
      firstTime: lines[0]?.ts ?? null,
      lastTime: lines[lines.length - 1]?.ts ?? null,
      exact: true,
    };
    return new Response(JSON.stringify(body), { headers: { "content-type": "application/json" } });
  };
  return { fetch: fetchCounting as typeof fetch, base: real.base };
}

describe("HistoryLoader (no browser: a real server over HTTP)", () => {
  const track = useClosers();

  /** A server on a file of `n` lines, and a store holding its newest `tail` lines as a page would. */
  async function setup(n: number, tail: number, cap = 100_000) {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await writeLines(
      file,
      Array.from({ length: n }, (_, i) => entry(i)),
    );
    const server = track(await startServer([{ name: "audit", file }]));
    const res = await fetch(`${server.url}/api/streams/audit/lines?limit=${tail}`);
    const page = (await res.json()) as LinesPage;
    const store = new StreamStore({ cap });
    store.appendLive(page.lines);
    const texts = () => {
      const out: string[] = [];
      for (let i = 0; i < store.length; i++)
        out.push(store.isGap(i) ? "<gap>" : (/entry (\d{4})/.exec(store.text(i))?.[1] ?? "?"));
      return out;
    };
    return { server, store, texts };
  }

  it("pages back to the start of the file and then says so", async () => {
    const { server, store, texts } = await setup(250, 100);
    const loader = new HistoryLoader({ page: 100, http: realHttp(server.url) });
    expect(loader.atStart(store)).toBe(false);
    await loader.loadOlder("audit", store);
    await loader.loadOlder("audit", store);
    expect(store.length).toBe(250);
    expect(loader.atStart(store)).toBe(true);
    expect(texts()).toEqual(Array.from({ length: 250 }, (_, i) => pad(i)));
    await loader.loadOlder("audit", store); // nothing older: a no-op
    expect(store.length).toBe(250);
  });

  it("loads a time older than what is held as a block with a gap row, counts the gap, and streams it in page by page", async () => {
    const { server, store, texts } = await setup(3000, 500);
    const asked: string[] = [];
    const loader = new HistoryLoader({ page: 200, fillPage: 300, http: countingHttp(server.url, asked) });
    const row = await loader.loadAt("audit", store, T0 + 100_000);
    expect(row).not.toBeNull();
    expect(store.text(row as number)).toContain("entry 0100");
    const gapRow = texts().indexOf("<gap>");
    expect(gapRow).toBeGreaterThan(0);
    const info = store.gap(gapRow) as GapInfo;

    // The block is entries 100-299 (a page of 200 at that time), the tail 2500-2999: the gap hides 300-2499.
    expect(texts().slice(0, gapRow)).toEqual(Array.from({ length: 200 }, (_, i) => pad(100 + i)));
    expect(await loader.countGaps("audit", store)).toBe(true);
    expect(info.lines).toBe(2200);
    expect(info.errors).toBe(220);
    expect(info.firstTime).toBe(T0 + 300_000);
    expect(info.lastTime).toBe(T0 + 2_499_000);
    // Counted once: asking again sends nothing.
    expect(await loader.countGaps("audit", store)).toBe(false);
    expect(asked).toHaveLength(1);

    const progress: number[] = [];
    const total = info.lines as number;
    const end = await loader.fillGap("audit", store, info, { onProgress: (done) => progress.push(done) });
    expect(end).toBe("complete");
    expect(progress.length).toBe(Math.ceil(total / 300));
    expect(progress[progress.length - 1]).toBe(total);
    expect(texts()).toEqual(Array.from({ length: 2900 }, (_, i) => pad(100 + i)));
    expect(info.filling).toBeUndefined();
  });

  it("stops at the store's line budget and leaves the rest a gap, counted again", async () => {
    const { server, store, texts } = await setup(2000, 300, 800);
    const asked: string[] = [];
    const loader = new HistoryLoader({ page: 100, fillPage: 250, http: countingHttp(server.url, asked) });
    await loader.loadAt("audit", store, T0);
    const info = store.gap(texts().indexOf("<gap>")) as GapInfo;
    await loader.countGaps("audit", store);
    expect(info.lines).toBe(1600);
    const end = await loader.fillGap("audit", store, info);
    expect(end).toBe("budget");
    expect(store.length).toBe(800);
    // The rows before the gap run on without a hole; the newest 300 are still there after it.
    const t = texts();
    const at = t.indexOf("<gap>");
    expect(t.slice(0, at)).toEqual(Array.from({ length: at }, (_, i) => pad(i)));
    expect(t.slice(at + 1)).toEqual(Array.from({ length: 300 }, (_, i) => pad(1700 + i)));
    expect(info.lines).toBeUndefined();
    expect(await loader.countGaps("audit", store)).toBe(true);
    expect(info.lines).toBe(1700 - at);
  });

  it("stops when cancelled, keeping what came and the gap for the rest", async () => {
    const { server, store, texts } = await setup(2000, 300);
    const loader = new HistoryLoader({ page: 100, fillPage: 200, http: realHttp(server.url) });
    await loader.loadAt("audit", store, T0);
    const info = store.gap(texts().indexOf("<gap>")) as GapInfo;
    const stop = new AbortController();
    const end = await loader.fillGap("audit", store, info, {
      signal: stop.signal,
      onProgress: (done) => {
        if (done >= 400) stop.abort();
      },
    });
    expect(end).toBe("cancelled");
    const t = texts();
    expect(t.indexOf("<gap>")).toBe(100 + 400);
    expect(t.slice(0, 500)).toEqual(Array.from({ length: 500 }, (_, i) => pad(i)));
    // Then a second fill picks up where the first stopped.
    expect(await loader.fillGap("audit", store, info)).toBe("complete");
    expect(texts()).toEqual(Array.from({ length: 2000 }, (_, i) => pad(i)));
  });

  it("leaves a gap uncounted when the server has no count endpoint (404)", async () => {
    const { server, store, texts } = await setup(1000, 100);
    const seen: number[] = [];
    const http: HttpContext = {
      base: `${server.url}/`,
      fetch: (async (input: string | URL | Request, init?: RequestInit) => {
        const res = await globalThis.fetch(input, init);
        if (String(input).includes("/count")) seen.push(res.status);
        return res;
      }) as typeof fetch,
    };
    const loader = new HistoryLoader({ page: 100, http });
    await loader.loadAt("audit", store, T0);
    const info = store.gap(texts().indexOf("<gap>")) as GapInfo;
    const learned = await loader.countGaps("audit", store);
    if (seen[0] === 404) {
      expect(learned).toBe(false);
      expect(info.lines).toBeUndefined();
    } else {
      // The count endpoint exists (the timeline branch merged): then it must answer what the gap holds.
      expect(learned).toBe(true);
      expect(info.lines).toBe(800);
    }
  });
});
