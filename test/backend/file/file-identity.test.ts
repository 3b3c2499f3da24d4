import { appendFile, open, rm, truncate, writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { identify, matches } from "../../../src/backend/file/file-identity.js";
import { useTempDirs } from "../../helpers/temp-dir.js";

const tempDir = useTempDirs("livetrail-identity-");

describe("file identity", () => {
  it("fingerprints min(size, 256) head bytes and stays the same as the file grows", async () => {
    const file = (await tempDir()).file("a.log");
    await writeFile(file, "abc\n");
    const small = await identify(file);
    expect(small.fpLen).toBe(4);
    expect(small.fileId).toMatch(/^[0-9a-f]{12}$/);
    await appendFile(file, "x".repeat(1000));
    const grown = await identify(file);
    expect(grown.fpLen).toBe(256);
    expect(grown.ino).toBe(small.ino);
    // Cursors made while the file was small still match: the fingerprint is recomputed with their fpLen.
    expect(await matches(file, { fileId: small.fileId, fpLen: 4, offset: 4, seq: 1 })).toBe("same");
    expect(await matches(file, { fileId: grown.fileId, fpLen: 256, offset: 4, seq: 1 })).toBe("same");
  });

  it("identifies an open handle the same as its path", async () => {
    const file = (await tempDir()).file("a.log");
    await writeFile(file, "hello\n");
    const handle = await open(file, "r");
    try {
      expect(await identify(handle)).toEqual(await identify(file));
    } finally {
      await handle.close();
    }
  });

  it("tells a replaced, rewritten or deleted file apart", async () => {
    const file = (await tempDir()).file("a.log");
    await writeFile(file, "first file\n");
    const before = await identify(file);
    const cursor = { fileId: before.fileId, fpLen: before.fpLen, offset: 0, seq: 0 };
    // Same inode, different head (copytruncate then new content).
    await truncate(file, 0);
    await writeFile(file, "other text\n");
    expect((await identify(file)).ino).toBe(before.ino);
    expect(await matches(file, cursor)).toBe("changed");
    // Shorter than the fingerprint.
    await truncate(file, 3);
    expect(await matches(file, cursor)).toBe("changed");
    await rm(file);
    expect(await matches(file, cursor)).toBe("gone");
    expect(await matches(`${file}/below-a-file`, cursor)).toBe("gone");
  });
});
