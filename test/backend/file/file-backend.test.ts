import { appendFile, rename, truncate, unlink, writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { type FeedEvent, SourceMissingError } from "../../../src/backend/backend.js";
import { FileBackend } from "../../../src/backend/file/file-backend.js";
import { makeTempDir, useTempDirs } from "../../helpers/temp-dir.js";
import { waitFor } from "../../helpers/wait-for.js";
import { numbered, streamBackendContract } from "../contract/stream-backend.contract.js";

const toText = (lines: string[]) => (lines.length === 0 ? "" : `${lines.join("\n")}\n`);

streamBackendContract("FileBackend", async (initial) => {
  const dir = await makeTempDir("livetrail-backend-");
  const file = dir.file("stream.log");
  await writeFile(file, toText(initial));
  return {
    backend: new FileBackend("stream", file, { pollIntervalMs: 50 }),
    append: (lines) => appendFile(file, toText(lines)),
    reopen: async () => new FileBackend("stream", file, { pollIntervalMs: 50 }),
    close: () => dir.remove(),
  };
});

const tempDir = useTempDirs("livetrail-file-backend-");

/** What only a file source does: another file at the path, a file that is gone, copytruncate, a young head. */
describe("FileBackend: file sources", () => {
  const setup = async (lines: string[]) => {
    const dir = await tempDir();
    const file = dir.file("a.log");
    await writeFile(file, toText(lines));
    return { file, backend: new FileBackend("a", file, { pollIntervalMs: 50 }) };
  };

  it("a cursor of a file renamed away resumes with a file-changed gap to the start of the file at the path", async () => {
    // Renamed to a name that is not a rotation (NAME.N is history: rotated.test.ts).
    const { file, backend } = await setup(numbered(0, 5));
    const old = (await backend.tail(1)).cursor;
    await rename(file, `${file}.old`);
    await writeFile(file, toText(numbered(100, 3)));
    const plan = await backend.resumeFrom(old, null);
    expect(plan).toMatchObject({ kind: "gap", reason: "file-changed" });
    const to = (plan as { to: string }).to;
    expect((await backend.readAfter(to, 10)).lines.map((l) => l.text)).toEqual(numbered(100, 3));
    await expect(backend.readAfter(old, 1)).rejects.toMatchObject({ reason: "file-changed" });
  });

  it("while the followed file is no longer at the path, a foreign cursor gets a gap to what memory holds (to: null)", async () => {
    const { file, backend } = await setup(numbered(0, 5));
    const old = (await backend.tail(1)).cursor;
    const followed = old;
    await rename(file, `${file}.old`);
    await writeFile(file, toText(numbered(100, 3)));
    const other = (await backend.tail(1)).cursor;
    await rename(file, `${file}.older`);
    await writeFile(file, "");
    // `followed` names the file now at .old; `other` the one at .older; the path holds a third.
    expect(await backend.resumeFrom(other, followed)).toMatchObject({
      kind: "gap",
      reason: "file-changed",
      to: null,
    });
  });

  it("a cursor ahead of the follower (the path holds a newer file, not yet followed) is told to wait", async () => {
    const { file, backend } = await setup(numbered(0, 5));
    const followed = (await backend.tail(1)).cursor;
    await rename(file, `${file}.1`);
    await writeFile(file, toText(numbered(100, 3)));
    const newer = (await backend.tail(1)).cursor;
    expect(await backend.resumeFrom(newer, followed)).toEqual({ kind: "wait" });
  });

  it("copytruncate: continue while the follower has not seen it (memory may hold the rest), then a truncated gap to the start", async () => {
    const { file, backend } = await setup(numbered(0, 50));
    const cursor = (await backend.tail(1)).cursor;
    // The first 30 lines stay: the same head, so the same file, now shorter than the cursor.
    await truncate(file, Buffer.byteLength(toText(numbered(0, 30))));
    // The follower still at the old end: it has not seen the truncation yet; the stream is still the old content.
    expect(await backend.resumeFrom(cursor, cursor)).toEqual({ kind: "continue", from: cursor });
    const restarted = (await backend.tailCursor(100)) as string;
    expect(await backend.resumeFrom(cursor, restarted)).toMatchObject({ kind: "gap", reason: "truncated" });
  });

  it("a gone file: missing, and reads say there is no source", async () => {
    const { file, backend } = await setup(numbered(0, 3));
    const cursor = (await backend.tail(1)).cursor;
    await unlink(file);
    expect(await backend.resumeFrom(cursor, null)).toEqual({ kind: "missing" });
    expect(await backend.tailCursor(5)).toBeNull();
    await expect(backend.tail(5)).rejects.toBeInstanceOf(SourceMissingError);
    expect((await backend.info(null)).exists).toBe(false);
    expect(await backend.openRaw()).toBeNull();
  });

  it("a cursor made while the file was young (shorter fingerprint) still continues on the grown file", async () => {
    const { file, backend } = await setup(numbered(0, 2));
    const young = (await backend.tail(1)).cursor;
    await appendFile(file, toText(numbered(2, 20)));
    const grown = (await backend.tail(1)).cursor;
    expect(young.split(".")[1]).not.toBe(grown.split(".")[1]);
    expect(await backend.resumeFrom(young, grown)).toEqual({ kind: "continue", from: young });
  });

  it("the feed reports rotation and copytruncate as resets, in source-neutral words", async () => {
    const { file, backend } = await setup(numbered(0, 3));
    const events: FeedEvent[] = [];
    const feed = await backend.follow({ tail: 0 }, (e) => events.push(e));
    try {
      await truncate(file, 0);
      await waitFor(() => events.some((e) => e.type === "reset"), { message: "truncation" });
      await rename(file, `${file}.1`);
      await writeFile(file, toText(numbered(9, 1)));
      await waitFor(() => events.filter((e) => e.type === "reset").length === 2, { message: "rotation" });
      const resets = events.filter((e) => e.type === "reset").map((e) => e.type === "reset" && e.reason);
      expect(resets).toEqual(["truncated", "rotated"]);
    } finally {
      await feed.close();
    }
  });
});
