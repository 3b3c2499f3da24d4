import { appendFile, writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { FileBackend } from "../../../src/backend/file/file-backend.js";
import { samePosition } from "../../../src/protocol/lines-frame.js";
import { useTempDirs } from "../../helpers/temp-dir.js";

const tempDir = useTempDirs("livetrail-young-");

describe("a cursor made while the file was under 256 bytes", () => {
  it("pages back to its own line once the file has grown (a link copied early still finds its line)", async () => {
    const dir = await tempDir();
    const file = dir.file("a.log");
    await writeFile(file, "[2026-01-01T00:00:00Z] first\n[2026-01-01T00:00:01Z] second\n");
    const backend = new FileBackend("a", file);
    const young = (await backend.tail(2)).lines[1]?.cursor as string;
    let more = "";
    for (let i = 0; i < 40; i++) more += `[2026-01-01T00:00:02Z] later line ${i}\n`;
    await appendFile(file, more);
    // What the dashboard does with a link: the page before the cursor must end with the linked line.
    const page = await backend.readBefore(young, 200);
    expect(page.lines.map((l) => l.text)).toEqual([
      "[2026-01-01T00:00:00Z] first",
      "[2026-01-01T00:00:01Z] second",
    ]);
    expect(samePosition(page.lines[1]?.cursor as string, young)).toBe(true);
    // Those cursors still name this file and resume exactly.
    const after = await backend.readAfter(page.lines[0]?.cursor as string, 2);
    expect(after.lines.map((l) => l.text)).toEqual([
      "[2026-01-01T00:00:01Z] second",
      "[2026-01-01T00:00:02Z] later line 0",
    ]);
  });
});
