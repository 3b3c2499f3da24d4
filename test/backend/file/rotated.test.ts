import { writeFile } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import type { FeedEvent } from "../../../src/backend/backend.js";
import { FileBackend } from "../../../src/backend/file/file-backend.js";
import { listRotated } from "../../../src/backend/file/rotated-set.js";
import { useTempDirs } from "../../helpers/temp-dir.js";
import { waitFor } from "../../helpers/wait-for.js";

const tempDir = useTempDirs("livetrail-rotated-");

/** `[time] message n` lines, one second apart from `t0`. */
function entries(from: number, count: number, t0 = Date.UTC(2026, 0, 1)): string {
  let out = "";
  for (let i = from; i < from + count; i++) {
    out += `[${new Date(t0 + i * 1000).toISOString().slice(0, 19)}Z] message ${i}\n`;
  }
  return out;
}

/** A rotated set: audit.log.3.gz (0..99), audit.log.2.gz (100..199), audit.log.1 (200..299), audit.log (300..349). */
async function rotatedSet() {
  const dir = await tempDir();
  const file = dir.file("audit.log");
  await writeFile(`${file}.3.gz`, gzipSync(entries(0, 100)));
  await writeFile(`${file}.2.gz`, gzipSync(entries(100, 100)));
  await writeFile(`${file}.1`, entries(200, 100));
  await writeFile(file, entries(300, 50));
  return { dir, file, backend: new FileBackend("audit", file, { pollIntervalMs: 50 }) };
}

const numberOf = (text: string) => Number(/message (\d+)$/.exec(text)?.[1]);

describe("rotated set", () => {
  it("lists numbered and dated rotations oldest first, a plain file before its half-written .gz twin", async () => {
    const dir = await tempDir();
    const file = dir.file("x.log");
    for (const name of [
      "x.log.1",
      "x.log.2.gz",
      "x.log.10.gz",
      "x.log.3",
      "x.log.3.gz",
      "x.log.bak",
      "x.logs",
    ]) {
      await writeFile(dir.file(name), "");
    }
    expect((await listRotated(file)).map((f) => f.path.slice(dir.path.length + 1))).toEqual([
      "x.log.10.gz",
      "x.log.3",
      "x.log.2.gz",
      "x.log.1",
    ]);
    const dated = await tempDir();
    for (const name of ["y.log-20260102.gz", "y.log-20260101.gz", "y.log-20260103"]) {
      await writeFile(dated.file(name), "");
    }
    expect((await listRotated(dated.file("y.log"))).map((f) => f.path.slice(dated.path.length + 1))).toEqual([
      "y.log-20260101.gz",
      "y.log-20260102.gz",
      "y.log-20260103",
    ]);
  });
});

describe("FileBackend: rotated and compressed history", () => {
  it("pages backwards from the tail across audit.log, .1, .2.gz and .3.gz to the very start", async () => {
    const { backend } = await rotatedSet();
    const tail = await backend.tail(30);
    expect(tail.atStart).toBe(false);
    const seen = tail.lines.map((l) => numberOf(l.text));
    let cursor = backend.cursorBefore(tail.lines[0] as never);
    for (let pages = 0; pages < 100; pages++) {
      const page = await backend.readBefore(cursor, 40);
      seen.unshift(...page.lines.map((l) => numberOf(l.text)));
      if (!page.more) break;
      cursor = page.cursor;
    }
    expect(seen).toEqual(Array.from({ length: 350 }, (_, i) => i));
  });

  it("pages forwards from the start of the oldest .gz through every file to the end", async () => {
    const { backend } = await rotatedSet();
    const seen: number[] = [];
    let page = await backend.readAfter(null, 33);
    expect(page.atStart).toBe(true);
    seen.push(...page.lines.map((l) => numberOf(l.text)));
    for (let pages = 0; page.more && pages < 100; pages++) {
      page = await backend.readAfter(page.cursor, 33);
      expect(page.atStart).toBe(false);
      seen.push(...page.lines.map((l) => numberOf(l.text)));
    }
    expect(seen).toEqual(Array.from({ length: 350 }, (_, i) => i));
    // Sequence numbers run on across the files.
    expect(page.lines.at(-1)?.seq).toBe(350);
  });

  it("a time seek lands in the rotated file that holds the time, compressed or not", async () => {
    const { backend } = await rotatedSet();
    const t0 = Date.UTC(2026, 0, 1);
    for (const n of [0, 42, 100, 150, 250, 299, 300, 320]) {
      const page = await backend.seek(t0 + n * 1000, 3);
      expect(page.lines.map((l) => numberOf(l.text))).toEqual([n, n + 1, n + 2]);
      // What the seek found pages on exactly.
      const next = await backend.readAfter(page.cursor, 1);
      expect(next.lines.map((l) => numberOf(l.text))).toEqual([n + 3]);
    }
    expect((await backend.seek(t0 - 5000, 1)).lines.map((l) => numberOf(l.text))).toEqual([0]);
    expect((await backend.seek(t0 + 10_000_000, 1)).lines).toEqual([]);
  });

  it("search goes over the whole set in order, and its cursors resume and page from there", async () => {
    const { backend } = await rotatedSet();
    const query = { regex: true, caseSensitive: true, limit: 100, timeoutMs: 10_000 };
    const outcome = await backend.search({ ...query, q: "message \\d*7$" });
    expect(outcome.matches.map((l) => numberOf(l.text))).toEqual(
      Array.from({ length: 35 }, (_, i) => i * 10 + 7),
    );
    expect(outcome.limited).toBe(false);
    // Every mode of the scan reads the .gz files too (literal bytes, any-case literal).
    const literal = await backend.search({ ...query, q: "message 17", caseSensitive: true, regex: false });
    expect(literal.matches.map((l) => numberOf(l.text))).toEqual([
      17, 170, 171, 172, 173, 174, 175, 176, 177, 178, 179,
    ]);
    const anyCase = await backend.search({ ...query, q: "MESSAGE 117", caseSensitive: false, regex: false });
    expect(anyCase.matches.map((l) => numberOf(l.text))).toEqual([117]);
    // The limit is shared by the files: the first matches in order.
    const limited = await backend.search({ ...query, q: "message", limit: 150 });
    expect(limited.limited).toBe(true);
    expect(limited.matches.map((l) => numberOf(l.text))).toEqual(Array.from({ length: 150 }, (_, i) => i));
    // A match in a .gz, in .1 and in the current file: reading after it goes on with the next line, before it
    // gives the line itself.
    for (const n of [57, 157, 257, 347]) {
      const match = outcome.matches.find((l) => numberOf(l.text) === n);
      expect(match).toBeDefined();
      const after = await backend.readAfter(match?.cursor as string, 2);
      expect(after.lines.map((l) => numberOf(l.text))).toEqual(n === 347 ? [348, 349] : [n + 1, n + 2]);
      const before = await backend.readBefore(match?.cursor as string, 1);
      expect(before.lines.map((l) => numberOf(l.text))).toEqual([n]);
    }
  });

  it("a damaged .gz is reported on the feed and the rest of the history still reads", async () => {
    const { file, backend } = await rotatedSet();
    const good = gzipSync(entries(100, 100));
    // Cut short: the first part inflates, the rest is missing.
    await writeFile(`${file}.2.gz`, good.subarray(0, Math.floor(good.length / 2)));
    // Not gzip at all.
    await writeFile(`${file}.3.gz`, "this is not gzip data\n");
    const events: FeedEvent[] = [];
    const feed = await backend.follow({ tail: 0 }, (e) => events.push(e));
    try {
      const seen: number[] = [];
      let page = await backend.readAfter(null, 1000);
      seen.push(...page.lines.map((l) => numberOf(l.text)));
      while (page.more) {
        page = await backend.readAfter(page.cursor, 1000);
        seen.push(...page.lines.map((l) => numberOf(l.text)));
      }
      const cut = seen.findIndex((n) => n >= 200);
      expect(cut).toBeGreaterThan(0);
      // A prefix of .2.gz's lines, then all of .1 and the current file.
      expect(seen.slice(0, cut)).toEqual(Array.from({ length: cut }, (_, i) => 100 + i));
      expect(seen.slice(cut)).toEqual(Array.from({ length: 150 }, (_, i) => 200 + i));
      const found = await backend.search({
        q: "message",
        regex: false,
        caseSensitive: true,
        limit: 1000,
        timeoutMs: 10_000,
      });
      expect(found.matches.length).toBe(cut + 150);
      await waitFor(() =>
        events.some((e) => e.type === "error" && /audit\.log\.2\.gz.*damaged/.test(e.error.message)),
      );
      expect(events.some((e) => e.type === "error" && /audit\.log\.3\.gz/.test(e.error.message))).toBe(true);
    } finally {
      await feed.close();
    }
  });
});
