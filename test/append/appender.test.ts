import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
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

  it("appends after a foreign unterminated last line as it is, without repairing it", async () => {
    // Documented: the appender does not repair a foreign partial line; verify reports such a file.
    const dir = await tempDir();
    const file = dir.file("a.log");
    await writeFile(file, "partial");
    await appendEntries(file, ["x"], { now });
    expect(await readFile(file, "utf8")).toBe("partial[2025-12-17T17:40:37Z] x\n");
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
      code: expect.stringMatching(/^(ENOTDIR|EEXIST)$/),
    });
  });
});
