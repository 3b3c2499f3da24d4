import { type FileHandle, open } from "node:fs/promises";
import { join } from "node:path";
import { HASH_SIZE, type HashStore } from "../../integrity/tiles.js";

/**
 * The sidecar's hash levels (`level-<L>.bin`) as a read-only HashStore for serving proofs and tiles. Unlike
 * Sidecar it does not cache how many hashes a level holds: the sealer keeps appending while we serve, and every
 * read is bounded by a signed checkpoint's size (the proof code checks), so a short read is the only error.
 */
export class LevelFiles implements HashStore {
  private readonly handles = new Map<number, Promise<FileHandle>>();

  constructor(readonly dir: string) {}

  async readHashes(level: number, start: number, count: number): Promise<Buffer> {
    if (count === 0) return Buffer.alloc(0);
    let handle = this.handles.get(level);
    if (handle === undefined) {
      handle = open(join(this.dir, `level-${level}.bin`), "r");
      this.handles.set(level, handle);
      // A failed open is not kept: the level may appear with the next checkpoint.
      handle.catch(() => this.handles.delete(level));
    }
    const file = await handle;
    const out = Buffer.allocUnsafe(count * HASH_SIZE);
    let got = 0;
    while (got < out.length) {
      const { bytesRead } = await file.read(out, got, out.length - got, start * HASH_SIZE + got);
      if (bytesRead === 0) throw new Error(`level ${level} holds fewer than ${start + count} hashes`);
      got += bytesRead;
    }
    return out;
  }

  async close(): Promise<void> {
    const handles = [...this.handles.values()];
    this.handles.clear();
    await Promise.all(handles.map(async (h) => (await h.catch(() => null))?.close()));
  }
}
