import type { StoredHashes } from "../../src/integrity/merkle.js";
import { HASH_SIZE, type HashStore } from "../../src/integrity/tiles.js";

/** A HashStore over in-memory level arrays, filled from what TreeBuilder.append reports; counts its reads. */
export class MemoryHashStore implements HashStore {
  readonly levels: Buffer[][] = [];
  readonly reads: { level: number; start: number; count: number }[] = [];

  add(gained: readonly StoredHashes[]): void {
    for (const g of gained) {
      this.levels[g.level] ??= [];
      const level = this.levels[g.level] as Buffer[];
      if (level.length !== g.start)
        throw new Error(`level ${g.level}: append at ${g.start}, have ${level.length}`);
      for (let i = 0; i < g.hashes.length; i += HASH_SIZE) level.push(g.hashes.subarray(i, i + HASH_SIZE));
    }
  }

  async readHashes(level: number, start: number, count: number): Promise<Buffer> {
    this.reads.push({ level, start, count });
    const hashes = this.levels[level] ?? [];
    if (start < 0 || count < 0 || start + count > hashes.length) {
      throw new Error(`level ${level} holds ${hashes.length} hashes, asked ${start}+${count}`);
    }
    return Buffer.concat(hashes.slice(start, start + count));
  }
}
