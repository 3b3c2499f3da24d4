import { appendFile, rename, writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import type { FeedEvent } from "../../../src/backend/backend.js";
import { JsonLogBackend } from "../../../src/backend/docker/json-log-backend.js";
import type { Line } from "../../../src/core/line.js";
import { makeTempDir, useTempDirs } from "../../helpers/temp-dir.js";
import { waitFor } from "../../helpers/wait-for.js";
import { streamBackendContract } from "../contract/stream-backend.contract.js";
import { PART_BYTES, record, recordsOf, toJsonLog } from "./json-file.js";

// Every line a Docker record (the contract's entry stamps are also the records' times, for seek).
streamBackendContract(
  "JsonLogBackend",
  async (initial) => {
    const dir = await makeTempDir("livetrail-docker-backend-");
    const file = dir.file("c-json.log");
    await writeFile(file, toJsonLog(initial));
    return {
      backend: new JsonLogBackend("stream", file, { pollIntervalMs: 50 }),
      append: (lines) => appendFile(file, toJsonLog(lines)),
      reopen: async () => new JsonLogBackend("stream", file, { pollIntervalMs: 50 }),
      close: () => dir.remove(),
    };
  },
  { rawIsText: false },
);

const tempDir = useTempDirs("livetrail-docker-");
const texts = (lines: readonly Line[]) => lines.map((l) => l.text);
const long = (tag: string, bytes: number) => `${tag}:${"x".repeat(bytes - tag.length - 1)}`;

describe("JsonLogBackend: what Docker's records add", () => {
  const setup = async (content: string, maxLineBytes?: number) => {
    const dir = await tempDir();
    const file = dir.file("abc-json.log");
    await writeFile(file, content);
    const backend = new JsonLogBackend("c", file, {
      pollIntervalMs: 50,
      ...(maxLineBytes === undefined ? {} : { maxLineBytes }),
    });
    return { file, backend };
  };

  it("joins the partial records of a line over 16 KiB; its span is the records' bytes, so paging resumes exactly", async () => {
    const big = long("big", PART_BYTES * 2 + 100);
    const content = toJsonLog(["one"]) + recordsOf(big, "stderr") + toJsonLog(["two", "three"]);
    const { backend } = await setup(content);
    expect(recordsOf(big).split("\n").length - 1).toBe(3);
    const all = await backend.readAfter(null, 10);
    expect(texts(all.lines)).toEqual(["one", big, "two", "three"]);
    expect(all.lines.map((l) => l.seq)).toEqual([1, 2, 3, 4]);
    expect(all.lines[1]?.channel).toBe("stderr");
    expect(all.lines[0]?.channel).toBeUndefined();
    expect(all.lines[1]?.time).toBe("2026-12-04T12:00:00.123456789Z");
    // Spans tile the file: each line starts where the one before ended, the last ends at the file's end.
    for (let i = 1; i < all.lines.length; i++) expect(all.lines[i]?.start).toBe(all.lines[i - 1]?.end);
    expect(all.lines[3]?.end).toBe(Buffer.byteLength(content));
    // One line per page: the joined line comes whole, and the next page goes on after it.
    const p1 = await backend.readAfter(null, 1);
    const p2 = await backend.readAfter(p1.cursor, 1);
    const p3 = await backend.readAfter(p2.cursor, 1);
    expect([...texts(p1.lines), ...texts(p2.lines), ...texts(p3.lines)]).toEqual(["one", big, "two"]);
    // Backwards from the end, one line at a time, never starting inside the joined line.
    const b1 = await backend.readBefore(all.cursor, 2);
    expect(texts(b1.lines)).toEqual(["two", "three"]);
    const b2 = await backend.readBefore(b1.cursor, 1);
    expect(texts(b2.lines)).toEqual([big]);
    expect(b2.lines[0]?.seq).toBe(2);
    const b3 = await backend.readBefore(b2.cursor, 5);
    expect(texts(b3.lines)).toEqual(["one"]);
    expect(b3.more).toBe(false);
    // The tail counts lines, not records.
    expect(texts((await backend.tail(2)).lines)).toEqual(["two", "three"]);
    expect(texts((await backend.tail(3)).lines)).toEqual([big, "two", "three"]);
  });

  it("a line still being written (partial records at the end) is left out of pages and followed live when it ends", async () => {
    const big = long("live", PART_BYTES + 10);
    const parts = recordsOf(big).split("\n");
    const { file, backend } = await setup(`${toJsonLog(["a", "b"])}${parts[0]}\n`);
    const tail = await backend.tail(5);
    expect(texts(tail.lines)).toEqual(["a", "b"]);
    const page = await backend.readAfter(null, 10);
    expect(texts(page.lines)).toEqual(["a", "b"]);
    expect(page.more).toBe(false);
    const seen: Line[] = [];
    const feed = await backend.follow({ tail: 1 }, (e: FeedEvent) => {
      if (e.type === "lines") seen.push(...e.lines);
    });
    try {
      expect(texts(seen)).toEqual(["b"]);
      // The feed's cursor stays before the held part: a client resuming from it gets the whole line.
      expect(feed.cursor).toBe(seen[0]?.cursor);
      await appendFile(file, `${parts[1]}\n${toJsonLog(["c"])}`);
      await waitFor(() => seen.length === 3, { message: "the joined line and c" });
      expect(texts(seen)).toEqual(["b", big, "c"]);
      expect(seen.map((l) => l.seq)).toEqual([1, 2, 3]);
      expect(backend.continues(seen[0] as Line, seen[1] as Line)).toBe(true);
      expect(texts((await backend.readAfter(seen[0]?.cursor as string, 5)).lines)).toEqual([big, "c"]);
    } finally {
      await feed.close();
    }
  });

  it("a joined line longer than maxLineBytes keeps its head and its real length", async () => {
    const big = long("cut", PART_BYTES * 3);
    const { backend } = await setup(recordsOf(big) + toJsonLog(["next"]), 20_000);
    const { lines } = await backend.readAfter(null, 5);
    expect(lines[0]?.text).toBe(big.slice(0, 20_000));
    expect(lines[0]?.truncatedFrom).toBe(PART_BYTES * 3);
    expect(lines[1]?.text).toBe("next");
  });

  it("a malformed record is shown as its raw text; a record of the other stream ends a partial line", async () => {
    const parts = recordsOf(long("p", PART_BYTES + 5)).split("\n");
    const content = `${toJsonLog(["ok"])}not json at all\n{"log":42}\n${parts[0]}\n${toJsonLog(["err"], "stderr")}`;
    const { backend } = await setup(content);
    const { lines } = await backend.readAfter(null, 10);
    expect(texts(lines)).toEqual([
      "ok",
      "not json at all",
      '{"log":42}',
      "p:".padEnd(PART_BYTES, "x"),
      "err",
    ]);
    expect(lines.map((l) => l.channel ?? "stdout")).toEqual([
      "stdout",
      "stdout",
      "stdout",
      "stdout",
      "stderr",
    ]);
  });

  it("follows a rotation to .1 (rename, new file) without losing or repeating a line", async () => {
    const { file, backend } = await setup(toJsonLog(["a1", "a2"]));
    const events: FeedEvent[] = [];
    const seen: string[] = [];
    const feed = await backend.follow({ tail: 10 }, (e) => {
      events.push(e);
      if (e.type === "lines") seen.push(...texts(e.lines));
    });
    try {
      await appendFile(file, toJsonLog(["a3"]));
      await waitFor(() => seen.length === 3, { message: "a3" });
      // Docker's rotation: the file is renamed to .1 and a new one is created for the next records.
      await appendFile(file, toJsonLog(["a4"]));
      await rename(file, `${file}.1`);
      await writeFile(file, toJsonLog(["b1", "b2"]));
      await waitFor(() => seen.length === 6, { message: "the new file's lines" });
      expect(seen).toEqual(["a1", "a2", "a3", "a4", "b1", "b2"]);
      expect(events.some((e) => e.type === "reset" && e.reason === "rotated")).toBe(true);
      // History from the start begins in the rotated .1 (rotated history), then the new file.
      expect(texts((await backend.readAfter(null, 10)).lines)).toEqual(["a1", "a2", "a3", "a4", "b1", "b2"]);
    } finally {
      await feed.close();
    }
  });

  it("seek uses the records' own time, not the text; search matches the decoded text, not the JSON", async () => {
    const content =
      record('first "quoted" <tag>\n', "stdout", "2026-12-04T10:00:00.000000001Z") +
      record("second\n", "stderr", "2026-12-04T10:00:05.5Z") +
      recordsOf(long("needle-far", PART_BYTES * 2), "stdout", "2026-12-04T10:00:09Z") +
      record("third\n", "stdout", "2026-12-04T10:00:10Z");
    const { backend } = await setup(content);
    const at = await backend.seek(Date.parse("2026-12-04T10:00:05Z"), 2);
    expect(texts(at.lines)).toEqual(["second", long("needle-far", PART_BYTES * 2)]);
    const later = await backend.seek(Date.parse("2026-12-04T10:00:09.5Z"), 5);
    expect(texts(later.lines)).toEqual(["third"]);
    const q = { regex: false, caseSensitive: true, limit: 10, timeoutMs: 10_000 };
    // In the file these are \"quoted\" and \u003ctag\u003e.
    expect(texts((await backend.search({ ...q, q: '"quoted" <tag>' })).matches)).toEqual([
      'first "quoted" <tag>',
    ]);
    expect((await backend.search({ ...q, q: "stream" })).matches).toEqual([]);
    // A match across the parts of a joined line (the text at the boundary of two records).
    const boundary = "x".repeat(20);
    const hit = await backend.search({ ...q, q: `needle-far:${boundary}` });
    expect(hit.matches.map((m) => m.seq)).toEqual([3]);
    const whole = await backend.readBefore(hit.matches[0]?.cursor as string, 1);
    expect(whole.lines[0]?.text).toBe(long("needle-far", PART_BYTES * 2));
    const err = await backend.search({ ...q, q: "SECOND", caseSensitive: false });
    expect(err.matches[0]).toMatchObject({
      text: "second",
      channel: "stderr",
      time: "2026-12-04T10:00:05.5Z",
    });
    expect((await backend.readBefore(err.matches[0]?.cursor as string, 1)).lines[0]?.text).toBe("second");
  });
});
