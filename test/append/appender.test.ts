import { appendFile, mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { appendEntries } from "../../src/append/appender.js";
import { EntryError } from "../../src/append/entry-format.js";
import { useTempDirs } from "../helpers/temp-dir.js";

const tempDir = useTempDirs();
const now = new Date("2025-12-17T17:40:37Z");

describe("appendEntries", () => {
  it("creates missing parent directories and appends after existing content", async () => {
    const dir = await tempDir();
    const file = dir.file("status/deep/AUTO_REPAIR_AUDIT.log");
    await appendEntries(file, ["first"], { now });
    const result = await appendEntries(file, ["second", "third"], { now, level: "warn" });
    const added = "[2025-12-17T17:40:37Z] WARN: second\n[2025-12-17T17:40:37Z] WARN: third\n";
    expect(result).toEqual({ entries: 2, bytes: Buffer.byteLength(added) });
    expect(await readFile(file, "utf8")).toBe(`[2025-12-17T17:40:37Z] first\n${added}`);
  });

  it("starts every entry on its own line after a foreign unterminated last line", async () => {
    const dir = await tempDir();
    const file = dir.file("a.log");
    await writeFile(file, "partial");
    const first = await appendEntries(file, ["x"], { now });
    expect(await readFile(file, "utf8")).toBe("partial\n[2025-12-17T17:40:37Z] x\n");
    // The newline that ends the foreign line is one of the bytes written.
    expect(first).toEqual({ entries: 1, bytes: 1 + Buffer.byteLength("[2025-12-17T17:40:37Z] x\n") });
    // A file that ends with a newline gets none, and neither does an empty one.
    await appendEntries(file, ["y", "z"], { now });
    expect(await readFile(file, "utf8")).toBe(
      "partial\n[2025-12-17T17:40:37Z] x\n[2025-12-17T17:40:37Z] y\n[2025-12-17T17:40:37Z] z\n",
    );
    await writeFile(dir.file("empty.log"), "");
    await appendEntries(dir.file("empty.log"), ["e"], { now });
    expect(await readFile(dir.file("empty.log"), "utf8")).toBe("[2025-12-17T17:40:37Z] e\n");
  });

  it("ends a foreign partial line that is a multibyte character cut in half, or a lone CR", async () => {
    const dir = await tempDir();
    for (const [name, tail] of [
      ["cut-utf8.log", Buffer.from([0x61, 0xe2, 0x82])],
      ["cr.log", Buffer.from("line\r")],
    ] as const) {
      await writeFile(dir.file(name), tail);
      await appendEntries(dir.file(name), ["x"], { now });
      const bytes = await readFile(dir.file(name));
      expect(bytes.subarray(0, tail.length)).toEqual(tail);
      expect(bytes.subarray(tail.length).toString()).toBe("\n[2025-12-17T17:40:37Z] x\n");
    }
  });

  it("waits for an unterminated line that starts like an entry: a write paused in the middle is not cut", async () => {
    // One write(2) grows the file page by page, and a writer can be paused between two pages (descheduled,
    // dirty-page throttling). A writer that completes its line 300 ms later stands in for that pause here.
    const dir = await tempDir();
    const file = dir.file("a.log");
    await writeFile(file, "[2025-12-17T17:40:30Z] whole\n[2025-12-17T17:40:36Z] first half");
    const completes = new Promise<void>((resolve, reject) => {
      setTimeout(() => appendFile(file, ", second half\n").then(resolve, reject), 300);
    });
    await appendEntries(file, ["x"], { now });
    await completes;
    expect(await readFile(file, "utf8")).toBe(
      "[2025-12-17T17:40:30Z] whole\n[2025-12-17T17:40:36Z] first half, second half\n[2025-12-17T17:40:37Z] x\n",
    );
  });

  it("ends an unterminated entry-like line that stays so (a cut entry) after waiting a second", async () => {
    const dir = await tempDir();
    const file = dir.file("a.log");
    await writeFile(file, "[2025-12-17T17:40:36Z] cut");
    const began = Date.now();
    await appendEntries(file, ["x"], { now });
    expect(Date.now() - began).toBeGreaterThanOrEqual(900);
    expect(await readFile(file, "utf8")).toBe("[2025-12-17T17:40:36Z] cut\n[2025-12-17T17:40:37Z] x\n");
  });

  it("writes to a character device without looking at it", async () => {
    expect(await appendEntries("/dev/null", ["x"], { now })).toEqual({ entries: 1, bytes: 25 });
  });

  it("takes a level, category and time per entry", async () => {
    const dir = await tempDir();
    const file = dir.file("a.log");
    await appendEntries(
      file,
      [
        { message: "old", time: new Date("2025-12-17T08:00:00Z") },
        { message: "bad", level: "error", category: "db" },
        "plain",
      ],
      { now, category: "ops" },
    );
    expect(await readFile(file, "utf8")).toBe(
      "[2025-12-17T08:00:00Z] ops: old\n[2025-12-17T17:40:37Z] ERROR: db: bad\n[2025-12-17T17:40:37Z] ops: plain\n",
    );
  });

  it("writes nothing, not even the file, when any entry of the call is rejected", async () => {
    const dir = await tempDir();
    const file = dir.file("new/a.log");
    await expect(appendEntries(file, ["fine", "  ", "fine too"])).rejects.toThrow(EntryError);
    await expect(stat(dir.file("new"))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("writes nothing for an empty list", async () => {
    const dir = await tempDir();
    expect(await appendEntries(dir.file("a.log"), [])).toEqual({ entries: 0, bytes: 0 });
    await expect(stat(dir.file("a.log"))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("writes a batch larger than one write (2.4 MB) whole and in order", async () => {
    const dir = await tempDir();
    const file = dir.file("a.log");
    const messages = Array.from(
      { length: 40 },
      (_, i) => `${String(i).padStart(2, "0")} ${"é".repeat(30_000)}`,
    );
    await appendEntries(file, messages, { now });
    const expected = messages.map((m) => `[2025-12-17T17:40:37Z] ${m}\n`).join("");
    expect(await readFile(file, "utf8")).toBe(expected);
  });

  it("reports file system errors with their code and path", async () => {
    const dir = await tempDir();
    await mkdir(dir.file("a-directory"));
    await expect(appendEntries(dir.file("a-directory"), ["x"])).rejects.toMatchObject({ code: "EISDIR" });
    await writeFile(dir.file("plain-file"), "");
    await expect(appendEntries(dir.file("plain-file/child.log"), ["x"])).rejects.toMatchObject({
      code: "ENOTDIR",
      path: dir.file("plain-file/child.log"),
    });
  });
});
