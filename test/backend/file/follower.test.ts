import { spawn } from "node:child_process";
import { readdirSync, readlinkSync } from "node:fs";
import { appendFile, copyFile, mkdir, open, rename, rm, truncate, unlink, writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor } from "../../../src/backend/file/file-cursor.js";
import { Follower } from "../../../src/backend/file/follower.js";
import { CursorError } from "../../../src/core/cursor.js";
import { useClosers } from "../../helpers/closer.js";
import { useTempDirs } from "../../helpers/temp-dir.js";
import { waitFor } from "../../helpers/wait-for.js";
import { followFile } from "./follower-harness.js";

const tempDir = useTempDirs("livetrail-follower-");
const track = useClosers();

describe("Follower: partial writes and decoding", () => {
  it("holds a line written in two parts until its newline arrives", async () => {
    const file = (await tempDir()).file("a.log");
    await writeFile(file, "");
    const h = await followFile(file, { start: { from: "start" } }, track);
    await appendFile(file, "hello ");
    // The follower has read the first part (proved by its read offset) and emitted nothing.
    await waitFor(() => h.follower.stats.readOffset === 6, { message: "first part read" });
    expect(h.lines()).toEqual([]);
    await appendFile(file, "world\n");
    const lines = await h.waitForLines(1);
    // A line serialises as exactly the Line fields (its cursor included, nothing internal).
    expect(JSON.parse(JSON.stringify(lines))).toEqual([
      { seq: 1, text: "hello world", start: 0, end: 12, cursor: lines[0]?.cursor },
    ]);
    expect("truncatedFrom" in (lines[0] as object)).toBe(false);
    expect(decodeCursor(lines[0]?.cursor as string).offset).toBe(12);
  });

  it("delivers a multibyte character split across writes intact", async () => {
    const file = (await tempDir()).file("a.log");
    await writeFile(file, "");
    const h = await followFile(file, { start: { from: "start" } }, track);
    const bytes = Buffer.from("€ and 😀\n");
    // Split inside the 3-byte euro sign, then inside the 4-byte emoji.
    await appendFile(file, bytes.subarray(0, 1));
    await waitFor(() => h.follower.stats.readOffset === 1);
    await appendFile(file, bytes.subarray(1, 9));
    await waitFor(() => h.follower.stats.readOffset === 9);
    await appendFile(file, bytes.subarray(9));
    await h.waitForLines(1);
    expect(h.texts()).toEqual(["€ and 😀"]);
    expect(h.lines()[0]?.end).toBe(bytes.length);
  });

  it("strips CRLF terminators but keeps offsets exact, and shows invalid UTF-8 as U+FFFD", async () => {
    const file = (await tempDir()).file("a.log");
    await writeFile(
      file,
      Buffer.concat([Buffer.from("one\r\ntwo\r"), Buffer.from("\nbad \xff\xfe end\n", "latin1")]),
    );
    const h = await followFile(file, { start: { from: "start" } }, track);
    expect(h.texts()).toEqual(["one", "two", "bad \ufffd\ufffd end"]);
    expect(h.lines().map((l) => [l.start, l.end])).toEqual([
      [0, 5],
      [5, 10],
      [10, 21],
    ]);
  });

  it("keeps NUL bytes as they are", async () => {
    const file = (await tempDir()).file("a.log");
    await writeFile(file, "a\0b\n\0\0\0\n");
    const h = await followFile(file, { start: { from: "start" } }, track);
    expect(h.texts()).toEqual(["a\0b", "\0\0\0"]);
  });

  it("truncates a 1 MB line to the 64 KiB default and reports its real length", async () => {
    const file = (await tempDir()).file("a.log");
    await writeFile(file, "");
    const h = await followFile(file, { start: { from: "start" }, readChunkBytes: 100_000 }, track);
    const big = "x".repeat(1024 * 1024);
    await appendFile(file, `${big}\nafter\n`);
    await h.waitForLines(2);
    const [long, after] = h.lines();
    expect(long?.text).toBe("x".repeat(65_536));
    expect(long?.truncatedFrom).toBe(1024 * 1024);
    expect(long?.end).toBe(1024 * 1024 + 1);
    expect(after).toMatchObject({ text: "after", seq: 2, start: 1024 * 1024 + 1 });
    expect(after?.truncatedFrom).toBeUndefined();
  });
});

describe("Follower: pacing a burst", () => {
  it("asks before each further chunk and reads on only once the wait is over", async () => {
    const file = (await tempDir()).file("a.log");
    await writeFile(file, "");
    let asked = 0;
    let release: (() => void) | null = null;
    const pace = () => {
      asked++;
      return new Promise<void>((resolve) => {
        release = resolve;
      });
    };
    // 100 lines of 10 bytes ("line 0042\n"), read 100 bytes at a time: 10 lines per chunk.
    const h = await followFile(file, { start: { from: "start" }, readChunkBytes: 100, pace }, track);
    await appendFile(
      file,
      Array.from({ length: 100 }, (_, i) => `line ${String(i).padStart(4, "0")}\n`).join(""),
    );
    await h.waitForLines(10);
    await waitFor(() => asked === 1, { message: "the follower to ask before its second chunk" });
    // Held: nothing beyond the first chunk arrives while the wait lasts.
    await new Promise((resolve) => setTimeout(resolve, 200));
    expect(h.lines()).toHaveLength(10);
    for (let chunk = 1; chunk < 10; chunk++) {
      (release as unknown as () => void)();
      await h.waitForLines(10 * (chunk + 1));
      await waitFor(() => asked === chunk + 1, { message: `the follower to ask before chunk ${chunk + 2}` });
    }
    (release as unknown as () => void)();
    expect(h.texts()).toEqual(Array.from({ length: 100 }, (_, i) => `line ${String(i).padStart(4, "0")}`));
  });
});

describe("Follower: start positions", () => {
  it("from end skips existing lines but not a partial last line", async () => {
    const file = (await tempDir()).file("a.log");
    await writeFile(file, "old 1\nold 2\nhalf");
    const h = await followFile(file, { start: { from: "end" } }, track);
    expect(h.follower.stats.offset).toBe(12);
    await appendFile(file, " done\nnew\n");
    await h.waitForLines(2);
    expect(h.texts()).toEqual(["half done", "new"]);
    expect(h.lines()[0]?.seq).toBe(1);
  });

  it("tail emits the last N lines before start() resolves", async () => {
    const file = (await tempDir()).file("a.log");
    await writeFile(file, Array.from({ length: 100 }, (_, i) => `line ${i}\n`).join(""));
    const h = await followFile(file, { start: { tail: 3 } }, track);
    expect(h.texts()).toEqual(["line 97", "line 98", "line 99"]);
    expect(h.lines().map((l) => l.seq)).toEqual([1, 2, 3]);
  });

  it("waits for a path whose directory does not exist yet", async () => {
    const dir = await tempDir();
    const file = dir.file("later/sub/a.log");
    const h = await followFile(file, { start: { from: "end" }, pollIntervalMs: 20 }, track);
    expect(h.kinds()).toEqual(["missing"]);
    expect(h.follower.cursor).toBeNull();
    await mkdir(dir.file("later/sub"), { recursive: true });
    await writeFile(file, "first\n");
    await h.waitForLines(1);
    expect(h.kinds()).toEqual(["missing", "rotated", "lines"]);
    expect(h.texts()).toEqual(["first"]);
    await appendFile(file, "second\n");
    await h.waitForLines(2);
    expect(h.texts()).toEqual(["first", "second"]);
  });

  it("rejects a malformed cursor with CursorError", async () => {
    const file = (await tempDir()).file("a.log");
    await writeFile(file, "x\n");
    for (const cursor of [
      "",
      "garbage",
      "2.000000000000.0.0.0",
      "1.zzzzzzzzzzzz.0.0.0",
      "1.0123456789ab.0.-1.0",
    ]) {
      const follower = track(new Follower(file, { start: { cursor } }));
      await expect(follower.start()).rejects.toBeInstanceOf(CursorError);
    }
  });
});

describe("Follower: rotation", () => {
  it("copytruncate: emits truncated and restarts at 0", async () => {
    const dir = await tempDir();
    const file = dir.file("a.log");
    await writeFile(file, "a\nb\n");
    const h = await followFile(file, { start: { from: "start" } }, track);
    await copyFile(file, dir.file("a.log.1"));
    await truncate(file, 0);
    await h.waitForEvent("truncated");
    await appendFile(file, "c\n");
    await h.waitForLines(3);
    expect(h.texts()).toEqual(["a", "b", "c"]);
    expect(h.kinds()).toEqual(["lines", "truncated", "lines"]);
    const truncated = h.events.find((e) => e.type === "truncated");
    expect(truncated).toMatchObject({ previousSize: 4 });
    expect(h.lines()[2]).toMatchObject({ seq: 3, start: 0, end: 2 });
  });

  it("copytruncate noticed even when the file regrew past the old offset before the follower looked", async () => {
    const dir = await tempDir();
    const file = dir.file("a.log");
    await writeFile(file, "[10:00] first\n");
    // Polling only, slowly: the truncation and the rewrite land between two looks (or, rarely, not; same result).
    const h = await followFile(file, { start: { from: "start" }, watch: false, pollIntervalMs: 200 }, track);
    await copyFile(file, dir.file("a.log.1"));
    await truncate(file, 0);
    await appendFile(file, "[10:05] after the rotation, longer than before\n");
    await h.waitForLines(2);
    expect(h.kinds()).toEqual(["lines", "truncated", "lines"]);
    expect(h.texts()).toEqual(["[10:00] first", "[10:05] after the rotation, longer than before"]);
  });

  it("rename rotation: drains lines written to the old file after the rename, then follows the new file", async () => {
    const dir = await tempDir();
    const file = dir.file("a.log");
    const writer = await open(file, "a");
    await writer.write("old 1\n");
    const h = await followFile(file, { start: { from: "start" } }, track);
    await rename(file, dir.file("a.log.1"));
    await writer.write("old 2\n");
    await writer.write("old 3 partial");
    await writer.close();
    await writeFile(file, "new 1\n");
    await h.waitForLines(4);
    expect(h.texts()).toEqual(["old 1", "old 2", "old 3 partial", "new 1"]);
    expect(h.lines()[2]).toMatchObject({ unterminated: true, start: 12, end: 25 });
    // Whether "missing" shows between the rename and the new file depends on when the follower looked.
    const kinds = h.kinds().filter((k) => k !== "missing");
    expect(kinds.filter((k, i) => k !== kinds[i - 1])).toEqual(["lines", "rotated", "lines"]);
    const rotated = h.events.find((e) => e.type === "rotated");
    expect(rotated?.type === "rotated" && decodeCursor(rotated.cursor)).toMatchObject({ offset: 0, seq: 3 });
    expect(h.lines().map((l) => l.seq)).toEqual([1, 2, 3, 4]);
  });

  it("logrotate create: lines the writer appends to the old file until it reopens still arrive, in order", async () => {
    const dir = await tempDir();
    const file = dir.file("a.log");
    const writer = await open(file, "a");
    await writer.write("before rotation\n");
    const h = await followFile(file, { start: { from: "start" } }, track);
    // Rename, and an empty new file at once (logrotate "create"); the writer has not been told yet.
    await rename(file, dir.file("a.log.1"));
    await writeFile(file, "");
    await writer.write("still to the old file\n");
    await h.waitForLines(2);
    // The writer reopens and writes to the new file: only now does the follower move to it.
    await writer.close();
    await appendFile(file, "to the new file\n");
    await h.waitForLines(3);
    expect(h.texts()).toEqual(["before rotation", "still to the old file", "to the new file"]);
    const kinds = h.kinds().filter((k) => k !== "missing");
    expect(kinds.filter((k, i) => k !== kinds[i - 1])).toEqual(["lines", "rotated", "lines"]);
  });

  it("delete: the rest of the deleted file is drained (a partial last line marked) before missing", async () => {
    const file = (await tempDir()).file("a.log");
    await writeFile(file, "");
    const h = await followFile(file, { start: { from: "start" } }, track);
    await appendFile(file, "written\nthen deleted at once");
    await unlink(file);
    await h.waitForEvent("missing");
    expect(h.kinds()).toEqual(["lines", "missing"]);
    expect(h.lines()).toMatchObject([
      { text: "written" },
      { text: "then deleted at once", unterminated: true },
    ]);
  });

  it("delete then recreate: missing, then rotated", async () => {
    const file = (await tempDir()).file("a.log");
    await writeFile(file, "a\n");
    const h = await followFile(file, { start: { from: "start" } }, track);
    await unlink(file);
    await h.waitForEvent("missing");
    await writeFile(file, "b\n");
    await h.waitForLines(2);
    expect(h.kinds()).toEqual(["lines", "missing", "rotated", "lines"]);
    expect(h.texts()).toEqual(["a", "b"]);
  });
});

describe("Follower: volume and resume", () => {
  it("delivers 200,000 lines appended as fast as possible, each once, in order", async () => {
    const file = (await tempDir()).file("a.log");
    await writeFile(file, "");
    const h = await followFile(file, { start: { from: "start" } }, track);
    const count = 200_000;
    // A separate process writes in uneven chunks, so reads race the writes and lines straddle chunks.
    const script = `
      const fs = require("node:fs");
      const fd = fs.openSync(process.argv[1], "a");
      let pending = "";
      for (let i = 0; i < ${count}; i++) {
        pending += "line " + i + " " + "é".repeat(i % 7) + "\\n";
        if (pending.length > 1000 + (i % 3000)) { fs.writeSync(fd, pending.slice(0, 777)); pending = pending.slice(777); }
      }
      fs.writeSync(fd, pending);
      fs.closeSync(fd);`;
    const child = spawn(process.execPath, ["-e", script, file], { stdio: "inherit" });
    const exit = new Promise((resolve) => child.on("exit", resolve));
    expect(await exit).toBe(0);
    await h.waitForLines(count, { timeoutMs: 30_000 });
    const lines = h.lines();
    expect(lines.length).toBe(count);
    for (let i = 0; i < count; i++) {
      const line = lines[i];
      if (line?.text !== `line ${i} ${"é".repeat(i % 7)}` || line.seq !== i + 1) {
        expect.fail(`line ${i} is ${JSON.stringify(line)}`);
      }
    }
  });

  it("resuming from every tenth cursor of a run yields exactly the rest", async () => {
    const file = (await tempDir()).file("a.log");
    await writeFile(file, "");
    const h = await followFile(file, { start: { from: "start" } }, track);
    const total = 200;
    for (let i = 0; i < total; i += 7) {
      await appendFile(
        file,
        Array.from({ length: Math.min(7, total - i) }, (_, k) => `entry ${i + k}\n`).join(""),
      );
    }
    const lines = await h.waitForLines(total);
    for (let i = 9; i < total; i += 10) {
      const from = lines[i] as (typeof lines)[number];
      const resumed = track(new Follower(file, { start: { cursor: from.cursor } }));
      const got: string[] = [];
      const seqs: number[] = [];
      resumed.on((e) => {
        if (e.type !== "lines") return;
        for (const l of e.lines) {
          got.push(l.text);
          seqs.push(l.seq);
        }
      });
      await resumed.start();
      expect(got).toEqual(lines.slice(i + 1).map((l) => l.text));
      expect(seqs).toEqual(lines.slice(i + 1).map((l) => l.seq));
      await resumed.close();
    }
  });

  it("resuming with the cursor of a replaced file reports a gap and follows the new file from its start", async () => {
    const file = (await tempDir()).file("a.log");
    await writeFile(file, "one\ntwo\n");
    const first = await followFile(file, { start: { from: "start" } }, track);
    const cursor = first.follower.cursor as string;
    await first.follower.close();
    await rm(file);
    await writeFile(file, "fresh\n");
    const h = await followFile(file, { start: { cursor } }, track);
    expect(h.kinds()).toEqual(["gap", "lines"]);
    expect(h.events[0]).toMatchObject({ type: "gap", reason: "file-changed", from: cursor });
    expect(h.texts()).toEqual(["fresh"]);
    expect(h.lines()[0]?.seq).toBe(3);
  });

  it("polling only (watch: false) still delivers", async () => {
    const file = (await tempDir()).file("a.log");
    await writeFile(file, "");
    const h = await followFile(file, { start: { from: "start" }, watch: false, pollIntervalMs: 20 }, track);
    await appendFile(file, "polled\n");
    await h.waitForLines(1);
    expect(h.texts()).toEqual(["polled"]);
  });
});

describe("Follower: resume edge cases", () => {
  it("cursors of a file that was empty when followed fingerprint their own bytes, so new content is told apart", async () => {
    const file = (await tempDir()).file("a.log");
    await writeFile(file, "");
    const first = await followFile(file, { start: { from: "start" } }, track);
    await appendFile(file, "old one\nold two\n");
    const [, second] = await first.waitForLines(2);
    const cursor = second?.cursor as string;
    // Every cursor's fingerprint covers at least the bytes before its offset (up to 256).
    expect(decodeCursor(cursor).fpLen).toBeGreaterThanOrEqual(decodeCursor(cursor).offset);
    await first.follower.close();
    // Rewritten in place (same inode) with other content that reaches past the cursor's offset.
    await writeFile(file, "new one\nnew two\nnew three\n");
    const h = await followFile(file, { start: { cursor } }, track);
    await h.waitForLines(3);
    expect(h.events[0]).toMatchObject({ type: "gap", reason: "file-changed", from: cursor });
    expect(h.texts()).toEqual(["new one", "new two", "new three"]);
  });

  it("a cursor whose file is missing waits, then reports file-gone when another file appears", async () => {
    const file = (await tempDir()).file("a.log");
    await writeFile(file, "one\n");
    const first = await followFile(file, { start: { from: "start" } }, track);
    const cursor = first.follower.cursor as string;
    await first.follower.close();
    await rm(file);
    const h = await followFile(file, { start: { cursor }, pollIntervalMs: 20 }, track);
    expect(h.kinds()).toEqual(["missing"]);
    expect(h.follower.cursor).toBe(cursor);
    await writeFile(file, "two\n");
    await h.waitForLines(1);
    expect(h.kinds()).toEqual(["missing", "gap", "lines"]);
    expect(h.events[1]).toMatchObject({ type: "gap", reason: "file-gone", from: cursor });
    expect(h.lines()[0]).toMatchObject({ text: "two", seq: 2 });
  });

  it("a cursor whose file was moved away and comes back continues without a gap", async () => {
    const dir = await tempDir();
    const file = dir.file("a.log");
    await writeFile(file, "one\n");
    const first = await followFile(file, { start: { from: "start" } }, track);
    const cursor = first.follower.cursor as string;
    await first.follower.close();
    await rename(file, dir.file("elsewhere"));
    const h = await followFile(file, { start: { cursor }, pollIntervalMs: 20 }, track);
    expect(h.kinds()).toEqual(["missing"]);
    await appendFile(dir.file("elsewhere"), "two\n");
    await rename(dir.file("elsewhere"), file);
    await h.waitForLines(1);
    expect(h.kinds()).toEqual(["missing", "lines"]);
    expect(h.lines()).toMatchObject([{ text: "two", seq: 2, start: 4 }]);
  });

  it("a cursor beyond the end of its (truncated) file reports a truncated gap", async () => {
    const file = (await tempDir()).file("a.log");
    const head = `${"h".repeat(300)}\n`;
    await writeFile(file, `${head}more\nand more\n`);
    const first = await followFile(file, { start: { from: "start" } }, track);
    const cursor = first.follower.cursor as string;
    await first.follower.close();
    await truncate(file, head.length);
    const h = await followFile(file, { start: { cursor } }, track);
    expect(h.kinds()).toEqual(["gap", "lines"]);
    expect(h.events[0]).toMatchObject({ type: "gap", reason: "truncated" });
    expect(h.lines()).toMatchObject([{ text: "h".repeat(300), seq: 4 }]);
  });

  it("rejects a well-formed cursor that does not point at a line boundary", async () => {
    const file = (await tempDir()).file("a.log");
    await writeFile(file, "abc\ndef\n");
    const first = await followFile(file, { start: { tail: 1 } }, track);
    const at = decodeCursor(first.follower.cursor as string);
    const follower = track(new Follower(file, { start: { cursor: encodeCursor({ ...at, offset: 2 }) } }));
    await expect(follower.start()).rejects.toThrow(/line boundary/);
  });

  it("resumes at the end with nothing new, then delivers new lines", async () => {
    const file = (await tempDir()).file("a.log");
    await writeFile(file, "a\nb\n");
    const first = await followFile(file, { start: { from: "start" } }, track);
    const cursor = first.follower.cursor as string;
    const h = await followFile(file, { start: { cursor } }, track);
    expect(h.events).toEqual([]);
    expect(h.follower.cursor).toBe(cursor);
    await appendFile(file, "c\n");
    await h.waitForLines(1);
    expect(h.lines()[0]).toMatchObject({ text: "c", seq: 3, start: 4 });
  });
});

describe("Follower: robustness", () => {
  it("splits a burst into batches of at most maxBatchLines", async () => {
    const file = (await tempDir()).file("a.log");
    await writeFile(file, "x\n".repeat(2500));
    const h = await followFile(file, { start: { from: "start" }, maxBatchLines: 1000 }, track);
    const sizes = h.events.map((e) => (e.type === "lines" ? e.lines.length : -1));
    expect(sizes).toEqual([1000, 1000, 500]);
  });

  it("reports an I/O error, keeps trying, and recovers", async () => {
    const dir = await tempDir();
    const file = dir.file("a.log");
    await mkdir(file); // a directory where the file should be: reads fail with EISDIR
    const h = await followFile(file, { start: { from: "start" }, pollIntervalMs: 20 }, track);
    expect(h.kinds()).toEqual(["error"]);
    await rm(file, { recursive: true });
    await writeFile(file, "finally\n");
    await h.waitForLines(1);
    expect(h.texts()).toEqual(["finally"]);
    // One error report per distinct problem, not one per poll.
    expect(h.events.filter((e) => e.type === "error").length).toBe(1);
  });

  it("a throwing listener does not stop delivery to the others", async () => {
    const file = (await tempDir()).file("a.log");
    await writeFile(file, "");
    const follower = track(new Follower(file, { start: { from: "start" } }));
    const seen: string[] = [];
    follower.on((e) => {
      if (e.type === "lines") throw new Error("listener bug");
    });
    follower.on((e) => {
      seen.push(e.type === "error" ? `error:${e.error.message}` : e.type);
    });
    await follower.start();
    await appendFile(file, "x\n");
    await waitFor(() => seen.length >= 2);
    expect(seen).toEqual(["lines", "error:listener bug"]);
  });

  it("close() is idempotent and leaves no timer, watcher or open file behind", async () => {
    const file = (await tempDir()).file("a.log");
    await writeFile(file, "");
    const before = liveResources();
    const follower = new Follower(file, { start: { from: "start" }, pollIntervalMs: 10 });
    const events: string[] = [];
    follower.on((e) => events.push(e.type));
    await follower.start();
    expect(liveResources()).toEqual({
      ...before,
      Timeout: (before.Timeout ?? 0) + 1,
      FSEventWrap: (before.FSEventWrap ?? 0) + 1,
    });
    expect(openDescriptorsOf(file)).toBe(1);
    await Promise.all([follower.close(), follower.close()]);
    await follower.close();
    expect(liveResources()).toEqual(before);
    expect(openDescriptorsOf(file)).toBe(0);
    // With nothing left to wake it, the closed follower cannot deliver this.
    await appendFile(file, "late\n");
    expect(events).toEqual([]);
  });

  it("rejects bad options", () => {
    expect(() => new Follower("/tmp/x", { start: { from: "end" }, readChunkBytes: 0 })).toThrow(RangeError);
    expect(() => new Follower("/tmp/x", { start: { from: "end" }, maxBatchLines: 1.5 })).toThrow(RangeError);
    expect(() => new Follower("/tmp/x", { start: { from: "end" }, pollIntervalMs: 0 })).toThrow(RangeError);
  });

  it("rejects a negative tail", async () => {
    const follower = track(new Follower("/tmp/x", { start: { tail: -1 } }));
    await expect(follower.start()).rejects.toBeInstanceOf(RangeError);
  });
});

/** Counts of the resource kinds a follower may hold: timers and fs.watch watchers. */
function liveResources(): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const kind of process.getActiveResourcesInfo()) {
    if (kind === "Timeout" || kind === "FSEventWrap") counts[kind] = (counts[kind] ?? 0) + 1;
  }
  return counts;
}

/** How many of this process's file descriptors point at path (Linux /proc/self/fd). */
function openDescriptorsOf(path: string): number {
  let count = 0;
  for (const fd of readdirSync("/proc/self/fd")) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`) === path) count++;
    } catch {
      // closed while we looked
    }
  }
  return count;
}
