import { appendFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { FileBackend } from "../../src/backend/file/file-backend.js";
import type { LinesPage, RangeCount } from "../../src/protocol/messages.js";
import { countRange } from "../../src/server/range-count.js";
import { useClosers } from "../helpers/closer.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { startServer, writeLines } from "./harness.js";

const track = useClosers();
const tempDir = useTempDirs("livetrail-count-");

const T0 = Date.parse("2025-12-17T00:00:00Z");
const stamp = (i: number) => new Date(T0 + i * 1000).toISOString().replace(".000Z", "Z");
/** Line i (1-based): every 10th an error, else every 15th a warning, stamped T0 + i s. */
function line(i: number): string {
  const label = i % 10 === 0 ? "ERROR: " : i % 15 === 0 ? "WARN: " : "";
  return `[${stamp(i)}] ${label}entry ${i}`;
}
const lines = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, k) => line(from + k));

/** What a count of lines from..to (1-based, inclusive) must say, counted from how they were written. */
function expected(from: number, to: number): RangeCount {
  let errors = 0;
  let warnings = 0;
  for (let i = from; i <= to; i++) {
    if (i % 10 === 0) errors++;
    else if (i % 15 === 0) warnings++;
  }
  return { lines: to - from + 1, errors, warnings, firstTime: stamp(from), lastTime: stamp(to), exact: true };
}

async function setup(count: number) {
  const dir = await tempDir();
  const file = dir.file("audit.log");
  await writeLines(file, lines(1, count));
  const started = track(await startServer([{ name: "audit", file }]));
  return { ...started, file, api: `${started.url}/api/streams/audit` };
}

/** The cursor after line n (1-based), from the lines API (pages of at most 5,000). */
async function cursorAfter(api: string, n: number): Promise<string> {
  let cursor = "start";
  for (let read = 0; read < n; ) {
    const limit = Math.min(5000, n - read);
    const page = (await (
      await fetch(`${api}/lines?after=${encodeURIComponent(cursor)}&limit=${limit}`)
    ).json()) as LinesPage;
    read += page.lines.length;
    if (read === n) expect(page.lines.at(-1)?.text).toBe(line(n));
    cursor = page.after as string;
  }
  return cursor;
}

const count = async (api: string, query: Record<string, string>) => {
  const res = await fetch(`${api}/count?${new URLSearchParams(query)}`);
  return { status: res.status, body: (await res.json()) as RangeCount & { error?: string } };
};

describe("GET /api/streams/:name/count", () => {
  it("counts the lines, errors and warnings strictly after one cursor and up to another, with their times", async () => {
    const { api } = await setup(30_000);
    const c1000 = await cursorAfter(api, 1000);
    const c25000 = await cursorAfter(api, 25_000);
    expect((await count(api, { after: c1000, before: c25000 })).body).toEqual(expected(1001, 25_000));
    expect((await count(api, { after: c1000 })).body).toEqual(expected(1001, 30_000));
    expect((await count(api, { before: c25000 })).body).toEqual(expected(1, 25_000));
    expect((await count(api, {})).body).toEqual(expected(1, 30_000));
    // An empty range: nothing between a cursor and itself.
    expect((await count(api, { after: c1000, before: c1000 })).body).toEqual({
      lines: 0,
      errors: 0,
      warnings: 0,
      firstTime: null,
      lastTime: null,
      exact: true,
    });
  });

  it("counts lines appended since", async () => {
    const { api, file } = await setup(100);
    const end = await cursorAfter(api, 100);
    await appendFile(file, `${lines(101, 130).join("\n")}\n`);
    expect((await count(api, { after: end })).body).toEqual(expected(101, 130));
  });

  it("answers bad cursors, repeated parameters and unknown streams with clear errors", async () => {
    const { api, url } = await setup(10);
    const bad = await count(api, { after: "not-a-cursor" });
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe("bad_cursor");
    const c = await cursorAfter(api, 5);
    const twice = await fetch(`${api}/count?after=${encodeURIComponent(c)}&after=${encodeURIComponent(c)}`);
    expect(twice.status).toBe(400);
    expect(((await twice.json()) as { error: string }).error).toBe("bad_request");
    const unknown = await fetch(`${url}/api/streams/nope/count`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: string }).error).toBe("unknown_stream");
  });
});

describe("countRange", () => {
  it("stops at its deadline with a lower bound (exact: false, no last time)", async () => {
    const dir = await tempDir();
    const file = dir.file("big.log");
    await writeLines(file, lines(1, 25_000));
    const backend = new FileBackend("big", file, { watch: false });
    // The clock passes the deadline after the first page has been counted (pages are 10,000 lines).
    let reads = 0;
    const cut = await countRange(backend, null, null, { deadline: 1, now: () => reads++ });
    expect(cut).toEqual({ ...expected(1, 10_000), lastTime: null, exact: false });
    const whole = await countRange(backend, null, null, { deadline: Number.POSITIVE_INFINITY });
    expect(whole).toEqual(expected(1, 25_000));
  });
});
