import { appendFile, open, rm, truncate, writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor } from "../../../src/backend/file/file-cursor.js";
import { readAfter, readBefore, readTail } from "../../../src/backend/file/history.js";
import { CursorError, StaleCursorError } from "../../../src/core/cursor.js";
import type { Line } from "../../../src/core/line.js";
import { useClosers } from "../../helpers/closer.js";
import { processBytesRead } from "../../helpers/read-bytes.js";
import { useTempDirs } from "../../helpers/temp-dir.js";
import { followFile } from "./follower-harness.js";

const tempDir = useTempDirs("livetrail-history-");
const track = useClosers();

const N = 53;
const content = Array.from({ length: N }, (_, i) => `line ${i} ${"ü".repeat(i % 5)}\n`).join("");
const texts = Array.from({ length: N }, (_, i) => `line ${i} ${"ü".repeat(i % 5)}`);

async function fileWith(text: string | Buffer): Promise<string> {
  const file = (await tempDir()).file("h.log");
  await writeFile(file, text);
  return file;
}

describe("readAfter", () => {
  it("pages through the whole file with no gap and no duplicate, numbering from 1", async () => {
    const file = await fileWith(`${content}partial`);
    const got: Line[] = [];
    let cursor: string | null = null;
    for (;;) {
      const page = await readAfter(file, cursor, 7, { readChunkBytes: 50 });
      got.push(...page.lines);
      cursor = page.cursor;
      if (!page.more) break;
      expect(page.lines.length).toBe(7);
    }
    expect(got.map((l) => l.text)).toEqual(texts);
    expect(got.map((l) => l.seq)).toEqual(texts.map((_, i) => i + 1));
    // The partial last line is not history yet: the final cursor sits after the last complete line.
    expect(decodeCursor(cursor as string).offset).toBe(Buffer.byteLength(content));
    expect((await readAfter(file, cursor, 10)).lines).toEqual([]);
  });

  it("continues from a follower's cursor with the follower's numbering", async () => {
    const file = await fileWith(content);
    const h = await followFile(file, { start: { from: "start" } }, track);
    const tenth = h.lines()[9] as Line;
    const page = await readAfter(file, tenth.cursor, 3);
    expect(page.lines.map((l) => [l.seq, l.text])).toEqual([
      [11, texts[10]],
      [12, texts[11]],
      [13, texts[12]],
    ]);
    expect(page.more).toBe(true);
  });

  it("cuts over-long lines and reports their real length", async () => {
    const file = await fileWith(`${"é".repeat(100)}\nshort\n`);
    const page = await readAfter(file, null, 10, { maxLineBytes: 11 });
    // 11 bytes would end inside a 2-byte character: the cut falls on a character boundary.
    expect(page.lines.map((l) => [l.text, l.truncatedFrom])).toEqual([
      ["é".repeat(5), 200],
      ["short", undefined],
    ]);
  });
});

describe("readBefore", () => {
  it("pages backwards from the end to the start, in file order, seq counting down", async () => {
    const file = await fileWith(`${content}partial`);
    const end = await readTail(file, 0);
    const endSeq = 1000;
    let cursor = encodeCursor({ ...decodeCursor(end.cursor), seq: endSeq });
    const pages: Line[][] = [];
    for (;;) {
      const page = await readBefore(file, cursor, 10, { readChunkBytes: 64 });
      pages.unshift(page.lines);
      cursor = page.cursor;
      if (!page.more) break;
    }
    const got = pages.flat();
    expect(got.map((l) => l.text)).toEqual(texts);
    expect(got.map((l) => l.seq)).toEqual(texts.map((_, i) => endSeq - N + 1 + i));
    expect(decodeCursor(cursor)).toMatchObject({ offset: 0, seq: endSeq - N });
    // Each line's cursor resumes exactly after it.
    const after = await readAfter(file, got[20]?.cursor as string, 1);
    expect(after.lines[0]).toMatchObject({ text: texts[21], seq: got[21]?.seq });
  });

  it("returns nothing before the start of the file", async () => {
    const file = await fileWith(content);
    const first = await readAfter(file, null, 0);
    const page = await readBefore(file, first.cursor, 5);
    expect(page).toEqual({ lines: [], cursor: first.cursor, more: false });
  });
});

describe("readTail", () => {
  it("returns the last n complete lines numbered 1..n and the cursor after them", async () => {
    const file = await fileWith(`${content}partial`);
    const tail = await readTail(file, 4);
    expect(tail.lines.map((l) => l.text)).toEqual(texts.slice(-4));
    expect(tail.lines.map((l) => l.seq)).toEqual([1, 2, 3, 4]);
    expect(decodeCursor(tail.cursor)).toMatchObject({ offset: Buffer.byteLength(content), seq: 4 });
    expect((await readTail(file, 10_000)).lines.map((l) => l.text)).toEqual(texts);
  });

  it("reads only the end of a 1 GB file", async () => {
    const bytesRead = processBytesRead();
    if (bytesRead === null) {
      expect.fail("/proc/self/io is needed to count bytes read (Linux)");
    }
    const file = (await tempDir()).file("big.log");
    // A sparse 1 GiB head of NUL bytes (no newline: a scan reaching it would read it all), then 20 lines.
    await writeFile(file, "");
    await truncate(file, 1024 ** 3);
    await appendFile(file, Array.from({ length: 20 }, (_, i) => `tail ${i}\n`).join(""));

    // The counter is sensitive: reading 8 MiB of the head shows up in it.
    const probeBefore = processBytesRead() as number;
    const handle = await open(file, "r");
    const probe = Buffer.alloc(8 * 1024 * 1024);
    await handle.read(probe, 0, probe.length, 0);
    await handle.close();
    expect((processBytesRead() as number) - probeBefore).toBeGreaterThanOrEqual(probe.length);

    const before = processBytesRead() as number;
    const tail = await readTail(file, 10);
    const used = (processBytesRead() as number) - before;
    expect(tail.lines.map((l) => l.text)).toEqual(Array.from({ length: 10 }, (_, i) => `tail ${i + 10}`));
    expect(used).toBeLessThan(1024 * 1024);

    const followerBefore = processBytesRead() as number;
    const h = await followFile(file, { start: { tail: 5 } }, track);
    const followerUsed = (processBytesRead() as number) - followerBefore;
    expect(h.texts()).toEqual(Array.from({ length: 5 }, (_, i) => `tail ${i + 15}`));
    expect(followerUsed).toBeLessThan(1024 * 1024);
  });
});

describe("cursor validation", () => {
  it("rejects malformed cursors and cursors off a line boundary with CursorError", async () => {
    const file = await fileWith(content);
    await expect(readAfter(file, "nope", 5)).rejects.toBeInstanceOf(CursorError);
    await expect(readBefore(file, "1.abc", 5)).rejects.toBeInstanceOf(CursorError);
    const start = decodeCursor((await readAfter(file, null, 0)).cursor);
    const offLine = encodeCursor({ ...start, offset: 3 });
    await expect(readAfter(file, offLine, 5)).rejects.toBeInstanceOf(CursorError);
  });

  it("rejects cursors of a replaced, deleted or truncated file with StaleCursorError", async () => {
    const file = await fileWith(content);
    const page = await readAfter(file, null, 30);
    await truncate(file, 300);
    await expect(readAfter(file, page.cursor, 5)).rejects.toMatchObject({
      name: "StaleCursorError",
      reason: "truncated",
    });
    await rm(file);
    await expect(readBefore(file, page.cursor, 5)).rejects.toMatchObject({ reason: "file-gone" });
    // A new file may get the recycled inode; its different first bytes still tell it apart.
    await writeFile(file, `another file\n${content}`);
    const error = await readAfter(file, page.cursor, 5).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(StaleCursorError);
    expect(error).toMatchObject({ reason: "file-changed" });
  });

  it("rejects a bad limit", async () => {
    const file = await fileWith(content);
    await expect(readAfter(file, null, -1)).rejects.toBeInstanceOf(RangeError);
    await expect(readTail(file, 1.5)).rejects.toBeInstanceOf(RangeError);
  });
});

describe("byte budget (maxBytes)", () => {
  const long = Array.from({ length: 40 }, (_, i) => `entry ${String(i).padStart(2, "0")} ${"x".repeat(90)}`);
  const text = `${long.join("\n")}\n`;
  const lineBytes = Buffer.byteLength(`${long[0]}\n`);
  const maxBytes = 10 * lineBytes + 5; // room for 10 whole lines

  it("pages forwards and backwards and tails within the budget, covering every line once", async () => {
    const file = await fileWith(text);
    const forward: string[] = [];
    let cursor: string | null = null;
    for (;;) {
      const page = await readAfter(file, cursor, 1000, { maxBytes });
      expect(page.lines.length).toBe(Math.min(10, long.length - forward.length));
      forward.push(...page.lines.map((l) => l.text));
      cursor = page.cursor;
      if (!page.more) break;
    }
    expect(forward).toEqual(long);

    const tail = await readTail(file, 1000, { maxBytes });
    expect(tail.lines.map((l) => l.text)).toEqual(long.slice(-10));
    expect(tail.lines.map((l) => l.seq)).toEqual(Array.from({ length: 10 }, (_, i) => i + 1));

    const backward: string[] = [];
    let before = tail.cursor;
    for (;;) {
      const page = await readBefore(file, before, 1000, { maxBytes });
      expect(page.lines.length).toBeLessThanOrEqual(10);
      backward.unshift(...page.lines.map((l) => l.text));
      before = page.cursor;
      if (!page.more) break;
    }
    expect(backward).toEqual(long);
  });

  it("returns one line even when that line alone is over the budget", async () => {
    const file = await fileWith(text);
    expect((await readAfter(file, null, 5, { maxBytes: 3 })).lines.map((l) => l.text)).toEqual([long[0]]);
    expect((await readTail(file, 5, { maxBytes: 3 })).lines.map((l) => l.text)).toEqual([long[39]]);
    const end = (await readTail(file, 0)).cursor;
    expect((await readBefore(file, end, 5, { maxBytes: 3 })).lines.map((l) => l.text)).toEqual([long[39]]);
  });
});
