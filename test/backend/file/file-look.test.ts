import { open, rename, writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { isLocalFileSystem, type Look, look } from "../../../src/backend/file/file-look.js";
import { useTempDirs } from "../../helpers/temp-dir.js";

const tempDir = useTempDirs("livetrail-look-");

/** The comparable parts of a look: identities, sizes and bytes. */
function summary(seen: Look, buffer: Buffer) {
  return {
    path: seen.pathStat && { ino: seen.pathStat.ino, size: seen.pathStat.size },
    file: { ino: seen.fileStat.ino, size: seen.fileStat.size, nlink: seen.fileStat.nlink },
    head: seen.head.toString(),
    read: buffer.subarray(0, seen.bytesRead).toString(),
  };
}

describe("look", () => {
  it("sees the same thing synchronously and through the threadpool", async () => {
    const dir = await tempDir();
    const path = dir.file("app.log");
    await writeFile(path, "first line\nsecond line\n");
    const handle = await open(path, "r");
    try {
      const cases = [
        { headLength: 5, offset: 11 },
        { headLength: 0, offset: 0 },
        { headLength: 256, offset: 23 },
        { headLength: 3, offset: 100 },
      ];
      for (const c of cases) {
        const a = Buffer.alloc(64);
        const b = Buffer.alloc(64);
        const sync = await look({ path, handle, buffer: a, sync: true, ...c });
        const threaded = await look({ path, handle, buffer: b, sync: false, ...c });
        expect(summary(sync, a)).toEqual(summary(threaded, b));
      }
      const sync = await look({
        path,
        handle,
        buffer: Buffer.alloc(64),
        headLength: 256,
        offset: 11,
        sync: true,
      });
      expect(sync.head.toString()).toBe("first line\nsecond line\n");
      expect(sync.bytesRead).toBe(12);
      expect(sync.pathStat?.ino).toBe(sync.fileStat.ino);

      // Renamed away: the path names nothing, the open file is still there.
      await rename(path, `${path}.1`);
      for (const mode of [true, false]) {
        const seen = await look({
          path,
          handle,
          buffer: Buffer.alloc(8),
          headLength: 5,
          offset: 0,
          sync: mode,
        });
        expect(seen.pathStat).toBeNull();
        expect(seen.fileStat.size).toBe(23n);
        expect(seen.head.toString()).toBe("first");
      }
    } finally {
      await handle.close();
    }
  });

  it("answers whether a path is on a local file system without throwing", async () => {
    const dir = await tempDir();
    expect(typeof (await isLocalFileSystem(dir.path))).toBe("boolean");
    expect(await isLocalFileSystem(dir.file("missing/nowhere"))).toBe(false);
  });
});
