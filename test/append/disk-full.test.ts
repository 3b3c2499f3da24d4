import { execFile } from "node:child_process";
import { readFile, writeFile } from "node:fs/promises";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { AppendError, appendEntries, ShortWriteError } from "../../src/append/appender.js";
import { canMount, PAGE, useTinyFs } from "./tiny-fs.js";

const tinyFs = useTinyFs();
const now = new Date("2025-12-17T17:40:37Z");
const line = (message: string) => `[2025-12-17T17:40:37Z] ${message}\n`;

/** Whole entry lines of `total` bytes (each line ends with "\n"). */
function wholeLines(total: number): string {
  let text = "";
  for (let i = 0; text.length + 200 <= total; i++) text += line(`entry ${i} `.padEnd(176, "."));
  return `${text}${"x".repeat(total - text.length - 1)}\n`;
}

// Real file systems filled to the last byte: a tmpfs mounted for each test (needs root; see tiny-fs.ts).
describe.skipIf(!canMount)("appendEntries on a full disk", () => {
  it("takes a write that stopped short out of the file again, and the next entry starts on its own line", async () => {
    const fs = await tinyFs("64k");
    const file = fs.file("audit.log");
    const before = wholeLines(PAGE - 100); // 100 bytes left in the file's page once the rest is taken
    await writeFile(file, before);
    await fs.fill();
    const message = `the cut one ${"y".repeat(200)}`;
    const error = await appendEntries(file, [message], { now }).then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ShortWriteError);
    expect(error).toMatchObject({
      errno: null,
      written: 100,
      expected: Buffer.byteLength(line(message)),
      entriesWritten: 0,
      outcome: "removed",
      diskFull: true,
    });
    expect((error as Error).message).toBe(
      `${file}: disk full or file size limit: only 100 of 236 bytes could be written; ` +
        "the cut entry was removed again, the file is as it was",
    );
    expect(await readFile(file, "utf8")).toBe(before);

    await fs.free();
    await appendEntries(file, ["after the space was freed"], { now });
    expect(await readFile(file, "utf8")).toBe(before + line("after the space was freed"));
  });

  it("reports ENOSPC when nothing could be written, and leaves the file as it was", async () => {
    const fs = await tinyFs("64k");
    const file = fs.file("audit.log");
    const before = wholeLines(PAGE); // the page is full
    await writeFile(file, before);
    await fs.fill();
    await expect(appendEntries(file, ["no room"], { now })).rejects.toMatchObject({
      name: "AppendError",
      errno: "ENOSPC",
      written: 0,
      outcome: "unchanged",
      diskFull: true,
      message: `${file}: no space left on device (ENOSPC); nothing was written`,
    });
    expect(await readFile(file, "utf8")).toBe(before);
  });

  it("keeps the whole 1 MiB batches written before the one that did not fit, and says how many", async () => {
    const fs = await tinyFs("1600k");
    const file = fs.file("audit.log");
    const messages = Array.from(
      { length: 30 },
      (_, i) => `${String(i).padStart(2, "0")} ${"z".repeat(60_000)}`,
    );
    const error = await appendEntries(file, messages, { now }).then(
      () => null,
      (e: unknown) => e,
    );
    // Batches of whole lines up to 1 MiB: entries 0-16 (1,020,459 bytes), then 17-29, which do not fit in the 614 kB left.
    expect(error).toBeInstanceOf(AppendError);
    expect(error).toMatchObject({ entriesWritten: 17, outcome: "removed", diskFull: true });
    expect((error as Error).message).toMatch(/\(17 entries of this call were written before\)$/);
    expect(await readFile(file, "utf8")).toBe(
      messages
        .slice(0, 17)
        .map((m) => line(m))
        .join(""),
    );
  });

  it("on an append-only file, where the cut cannot be taken back, the next entry still starts on its own line", async () => {
    const fs = await tinyFs("64k");
    const file = fs.file("audit.log");
    const before = wholeLines(PAGE - 50);
    await writeFile(file, before);
    await promisify(execFile)("chattr", ["+a", file]);
    await fs.fill();
    await expect(appendEntries(file, [`cut ${"c".repeat(100)}`], { now })).rejects.toMatchObject({
      written: 50,
      outcome: "cut",
    });
    const cut = line(`cut ${"c".repeat(100)}`).slice(0, 50);
    expect(await readFile(file, "utf8")).toBe(before + cut);

    await fs.free();
    await appendEntries(file, ["next"], { now });
    expect(await readFile(file, "utf8")).toBe(`${before}${cut}\n${line("next")}`);
  });
});
