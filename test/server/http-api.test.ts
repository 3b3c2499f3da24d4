import { rename } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import type { LinesPage, SearchResult, StreamSummary } from "../../src/protocol/messages.js";
import { useClosers } from "../helpers/closer.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { startServer, writeLines } from "./harness.js";

const track = useClosers();
const tempDir = useTempDirs("livetrail-http-");

const START_MS = Date.parse("2025-12-17T00:00:00Z");
/** Line i (1-based) is stamped START + i seconds; every 7th line has a continuation line without a stamp. */
function timedLines(count: number): string[] {
  const out: string[] = [];
  for (let i = 1; i <= count; i++) {
    out.push(`[${new Date(START_MS + i * 1000).toISOString().replace(".000Z", "Z")}] entry ${i} done`);
    if (i % 7 === 0) out.push(`  continuation of ${i}`);
  }
  return out;
}

async function get<T>(url: string): Promise<{ status: number; body: T }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as T };
}

async function setup(lines: string[], options = {}) {
  const dir = await tempDir();
  const file = dir.file("audit.log");
  await writeLines(file, lines);
  const started = track(await startServer([{ name: "audit", file }], options));
  return { ...started, file, api: `${started.url}/api/streams/audit` };
}

describe("history paging", () => {
  it("pages backwards from the end and forwards from the start, covering every line once", async () => {
    const all = timedLines(1000);
    const { api } = await setup(all);

    const backwards: string[][] = [];
    let page = (await get<LinesPage>(`${api}/lines?limit=150`)).body;
    expect(page.lines.map((l) => l.text)).toEqual(all.slice(-150));
    backwards.unshift(page.lines.map((l) => l.text));
    while (page.more) {
      expect(page.before).not.toBeNull();
      page = (
        await get<LinesPage>(`${api}/lines?before=${encodeURIComponent(page.before as string)}&limit=150`)
      ).body;
      backwards.unshift(page.lines.map((l) => l.text));
    }
    expect(page.before).toBeNull();
    expect(backwards.flat()).toEqual(all);

    const forwards: string[] = [];
    let next = "start";
    for (;;) {
      const p = (await get<LinesPage>(`${api}/lines?after=${encodeURIComponent(next)}&limit=400`)).body;
      forwards.push(...p.lines.map((l) => l.text));
      next = p.after as string;
      if (!p.more) break;
    }
    expect(forwards).toEqual(all);
    // Paging on from the end cursor gives nothing (until the file grows).
    const end = (await get<LinesPage>(`${api}/lines?after=${encodeURIComponent(next)}`)).body;
    expect(end.lines).toEqual([]);
    expect(end.more).toBe(false);
  });

  it("at= jumps to the first line at or after a time", async () => {
    const all = timedLines(1000);
    const { api } = await setup(all);
    const at = (ms: number) =>
      get<LinesPage>(`${api}/lines?at=${encodeURIComponent(new Date(ms).toISOString())}&limit=3`);

    const exact = (await at(START_MS + 500 * 1000)).body;
    expect(exact.lines[0]?.text).toContain("entry 500 done");
    const between = (await at(START_MS + 500 * 1000 + 400)).body;
    expect(between.lines[0]?.text).toContain("entry 501 done");
    // 700 is a multiple of 7: its continuation line follows it.
    const withContinuation = (await at(START_MS + 700 * 1000)).body;
    expect(withContinuation.lines.map((l) => l.text)).toEqual([
      all[all.indexOf(all.find((t) => t.includes("entry 700 done")) as string)],
      "  continuation of 700",
      all.find((t) => t.includes("entry 701 done")),
    ]);
    const beforeAll = (await at(START_MS - 3600_000)).body;
    expect(beforeAll.lines[0]?.text).toBe(all[0]);
    expect(beforeAll.before).toBeNull();
    const afterAll = (await at(START_MS + 5000 * 1000)).body;
    expect(afterAll.lines).toEqual([]);
    // Paging back from a seek result works.
    const back = (
      await get<LinesPage>(`${api}/lines?before=${encodeURIComponent(exact.before as string)}&limit=1`)
    ).body;
    expect(back.lines[0]?.text).toContain("entry 499 done");
  });

  it("answers bad requests with clear errors", async () => {
    const { url, api, file } = await setup(timedLines(20));
    const cases: [string, number, string][] = [
      [`${api}/lines?before=garbage`, 400, "bad_cursor"],
      [`${api}/lines?after=1.zz.0.0.0`, 400, "bad_cursor"],
      [`${api}/lines?at=yesterday-ish`, 400, "bad_time"],
      [`${api}/lines?limit=0`, 400, "bad_request"],
      [`${api}/lines?limit=abc`, 400, "bad_request"],
      [`${api}/lines?before=x&after=y`, 400, "bad_request"],
      [`${url}/api/streams/nope/lines`, 404, "unknown_stream"],
      [`${api}/search`, 400, "bad_query"],
      [`${api}/search?q=x&regex=maybe`, 400, "bad_request"],
      [`${api}/search?q=a&q=b`, 400, "bad_query"],
    ];
    for (const [target, status, code] of cases) {
      const { status: got, body } = await get<{ error: string; message: string }>(target);
      expect([target, got, body.error]).toEqual([target, status, code]);
      expect(body.message.length).toBeGreaterThan(0);
    }
    const page = (await get<LinesPage>(`${api}/lines?limit=5`)).body;
    await rename(file, `${file}.old`);
    await writeLines(file, ["[2025-12-17T00:00:00Z] fresh"]);
    const stale = await get<{ error: string }>(
      `${api}/lines?before=${encodeURIComponent(page.before as string)}`,
    );
    expect(stale.status).toBe(410);
    expect(stale.body.error).toBe("stale_cursor");
  });

  it("lists the streams with size and line counts", async () => {
    const { url, file } = await setup(timedLines(10));
    const { body } = await get<StreamSummary[]>(`${url}/api/streams`);
    const { stat } = await import("node:fs/promises");
    expect(body).toEqual([
      expect.objectContaining({ name: "audit", default: true, size: (await stat(file)).size, clients: 0 }),
    ]);
    expect(body[0]?.lines).toBe(11);
  });
});

describe("search", () => {
  const all = timedLines(2000);
  const matching = (predicate: (text: string) => boolean) =>
    all.map((text, i) => ({ text, lineNo: i + 1 })).filter((x) => predicate(x.text));

  it("finds literal, case-insensitive and regex matches with line numbers and cursors", async () => {
    const { api } = await setup(all);
    const literal = (await get<SearchResult>(`${api}/search?q=${encodeURIComponent("entry 19")}&case=1`))
      .body;
    const expected = matching((t) => t.includes("entry 19"));
    expect(literal.matches.map((m) => [m.text, m.seq])).toEqual(expected.map((x) => [x.text, x.lineNo]));
    expect(literal.timedOut).toBe(false);
    expect(literal.limited).toBe(false);
    // A match's cursor pages on to the line after it.
    const first = literal.matches[0];
    const next = (
      await get<LinesPage>(`${api}/lines?after=${encodeURIComponent(first?.c as string)}&limit=1`)
    ).body;
    expect(next.lines[0]?.text).toBe(all[(expected[0]?.lineNo as number) + 0]);

    const insensitive = (await get<SearchResult>(`${api}/search?q=CONTINUATION%20OF%2014`)).body;
    expect(insensitive.matches.map((m) => m.text)).toEqual(
      matching((t) => t.toLowerCase().includes("continuation of 14")).map((x) => x.text),
    );
    const caseMiss = (await get<SearchResult>(`${api}/search?q=CONTINUATION&case=1`)).body;
    expect(caseMiss.matches).toEqual([]);

    const regex = (
      await get<SearchResult>(`${api}/search?q=${encodeURIComponent("entry 1\\d7 done$")}&regex=1`)
    ).body;
    expect(regex.matches.map((m) => m.text)).toEqual(
      matching((t) => /entry 1\d7 done$/.test(t)).map((x) => x.text),
    );

    const limited = (await get<SearchResult>(`${api}/search?q=entry&limit=10`)).body;
    expect(limited.matches).toHaveLength(10);
    expect(limited.limited).toBe(true);
  });

  it("rejects an invalid or non-RE2 regex with the reason and runs a catastrophic one in linear time", async () => {
    const evil = [...all.slice(0, 10), `${"a".repeat(5000)}!`, ...all.slice(10, 20)];
    const { url, api } = await setup(evil, { searchTimeoutMs: 500 });
    const bad = await get<{ error: string; message: string }>(
      `${api}/search?q=${encodeURIComponent("(")}&regex=1`,
    );
    expect(bad.status).toBe(400);
    expect(bad.body.error).toBe("bad_query");
    expect(bad.body.message).toMatch(/invalid regular expression/);
    // Lookaround and backreferences are not RE2: the same 400, saying so.
    for (const q of ["a(?=b)", "(a)\\1"]) {
      const res = await get<{ error: string; message: string }>(
        `${api}/search?q=${encodeURIComponent(q)}&regex=1`,
      );
      expect(res.status, q).toBe(400);
      expect(res.body.error).toBe("bad_query");
      expect(res.body.message).toMatch(/RE2 syntax: no lookaround or backreferences/);
    }

    // A backtracking engine would run past the 500 ms limit on the 5,000 a's; RE2 finishes the scan.
    const pending = get<SearchResult>(`${api}/search?q=${encodeURIComponent("^(a+)+$")}&regex=1`);
    const health = await get<{ status: string }>(`${url}/healthz`);
    expect(health.body.status).toBe("ok");
    const { status, body } = await pending;
    expect(status).toBe(200);
    expect(body.timedOut).toBe(false);
    expect(body.matches).toEqual([]);
    const hit = (await get<SearchResult>(`${api}/search?q=${encodeURIComponent("^(a+)+!$")}&regex=1`)).body;
    expect(hit.timedOut).toBe(false);
    expect(hit.matches.map((m) => m.text)).toEqual([`${"a".repeat(5000)}!`]);
  });
});
