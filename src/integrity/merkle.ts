/**
 * The RFC 6962 / RFC 9162 Merkle tree over a stream's lines, in stream order: leaf = SHA-256(0x00 ‖ line),
 * node = SHA-256(0x01 ‖ left ‖ right). `TreeBuilder` grows the tree one leaf at a time, keeping only the right
 * frontier (one hash per set bit of the size), and reports the hashes the tlog-tiles levels gain.
 */
import { hash } from "node:crypto";
import { IntegrityError } from "./integrity-error.js";
import { HASH_SIZE, type HashStore, storedRun, TILE_HEIGHT, TileReader } from "./tiles.js";

/** MTH of the empty tree: SHA-256 of nothing. */
export const EMPTY_ROOT: Buffer = hash("sha256", Buffer.alloc(0), "buffer");

// One-shot `crypto.hash` over a reused scratch buffer takes ~1/3 less CPU than createHash().update().digest()
// (bench/integrity-hash.js); hashing is synchronous, so sharing the scratch is safe.
const NODE_SCRATCH = Buffer.alloc(1 + 2 * HASH_SIZE, 0x01);
const LEAF_SCRATCH = Buffer.alloc(16 * 1024);

export function leafHash(line: Uint8Array): Buffer {
  if (line.length >= LEAF_SCRATCH.length)
    return hash("sha256", Buffer.concat([Buffer.of(0), line]), "buffer");
  LEAF_SCRATCH[0] = 0x00;
  LEAF_SCRATCH.set(line, 1);
  return hash("sha256", LEAF_SCRATCH.subarray(0, line.length + 1), "buffer");
}

export function nodeHash(left: Uint8Array, right: Uint8Array): Buffer {
  NODE_SCRATCH.set(left, 1);
  NODE_SCRATCH.set(right, 1 + HASH_SIZE);
  return hash("sha256", NODE_SCRATCH, "buffer");
}

/** Merkle tree hash of a power-of-two run of adjacent subtree hashes (concatenated), hashed up pairwise. */
export function hashRun(hashes: Buffer): Buffer {
  let level: Buffer[] = [];
  for (let i = 0; i < hashes.length; i += HASH_SIZE) level.push(hashes.subarray(i, i + HASH_SIZE));
  if (level.length === 0 || (level.length & (level.length - 1)) !== 0) {
    throw new RangeError(`hashRun needs a power-of-two number of hashes, got ${level.length}`);
  }
  while (level.length > 1) {
    const up: Buffer[] = [];
    for (let i = 0; i < level.length; i += 2) up.push(nodeHash(level[i] as Buffer, level[i + 1] as Buffer));
    level = up;
  }
  return Buffer.from(level[0] as Buffer);
}

/** The largest power of two strictly below n (n > 1): where RFC 6962 splits a tree of n leaves. */
export function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

/**
 * MTH(D[start : start+size]) from stored hashes, following RFC 6962's split: a complete aligned subtree is one
 * stored run (within one tile), anything else splits at the largest power of two below its size.
 */
export async function subtreeHash(reader: TileReader, start: number, size: number): Promise<Buffer> {
  if (size === 0) return EMPTY_ROOT;
  if (Number.isInteger(Math.log2(size))) {
    const run = storedRun(start, size);
    const hashes = await reader.hashes(run.level, run.start, run.count);
    return run.count === 1 ? Buffer.from(hashes) : hashRun(hashes);
  }
  const k = splitPoint(size);
  return nodeHash(await subtreeHash(reader, start, k), await subtreeHash(reader, start + k, size - k));
}

function checkSize(size: number): void {
  if (!Number.isSafeInteger(size) || size < 0)
    throw new IntegrityError("out-of-range", `${size} is not a tree size`);
}

/** The root of the tree of `size` leaves, from a store holding at least that many. */
export async function rootAt(store: HashStore, size: number): Promise<Buffer> {
  checkSize(size);
  return subtreeHash(new TileReader(store, size), 0, size);
}

/** Hashes a level of the stored tree gained: append them to that level at `start`. */
export interface StoredHashes {
  level: number;
  start: number;
  hashes: Buffer;
}

export class TreeBuilder {
  /** Complete subtrees of the right frontier, largest (leftmost) first: one per set bit of the size. */
  readonly #frontier: Buffer[];
  #size: number;

  private constructor(size: number, frontier: Buffer[]) {
    this.#size = size;
    this.#frontier = frontier;
  }

  static empty(): TreeBuilder {
    return new TreeBuilder(0, []);
  }

  /** Continue a tree of `size` leaves whose hashes are in `store` (reads one run per set bit of the size). */
  static async fromStore(store: HashStore, size: number): Promise<TreeBuilder> {
    checkSize(size);
    const reader = new TileReader(store, size);
    const frontier: Buffer[] = [];
    let start = 0;
    for (let bit = 2 ** Math.floor(Math.log2(Math.max(size, 1))); bit >= 1; bit /= 2) {
      if (size - start >= bit) {
        frontier.push(await subtreeHash(reader, start, bit));
        start += bit;
      }
    }
    return new TreeBuilder(size, frontier);
  }

  get size(): number {
    return this.#size;
  }

  /**
   * Append leaf hashes. Returns what each stored level gained, lowest level first: level 0 gets every leaf
   * hash; level L > 0 gets one hash each time a subtree of 256^L leaves completes.
   */
  append(leafHashes: readonly Buffer[]): StoredHashes[] {
    if (leafHashes.length === 0) return [];
    const gained: Buffer[][] = [[]];
    const firstOfLevel: number[] = [this.#size];
    for (const leaf of leafHashes) {
      if (leaf.length !== HASH_SIZE)
        throw new RangeError(`a leaf hash is ${HASH_SIZE} bytes, got ${leaf.length}`);
      (gained[0] as Buffer[]).push(leaf);
      let h = leaf;
      let height = 0;
      // Each trailing one bit of the size is a complete subtree this leaf closes: merge with it.
      for (let n = this.#size; n % 2 === 1; n = (n - 1) / 2) {
        h = nodeHash(this.#frontier.pop() as Buffer, h);
        height++;
        if (height % TILE_HEIGHT === 0) {
          const level = height / TILE_HEIGHT;
          if (gained[level] === undefined) {
            gained[level] = [];
            firstOfLevel[level] = (this.#size + 1) / 2 ** height - 1;
          }
          (gained[level] as Buffer[]).push(h);
        }
      }
      // A leaf kept as it came is copied: the caller's buffer may be reused.
      this.#frontier.push(height === 0 ? Buffer.from(h) : h);
      this.#size++;
    }
    return gained.map((hashes, level) => ({
      level,
      start: firstOfLevel[level] as number,
      hashes: Buffer.concat(hashes),
    }));
  }

  /** MTH of the tree at its current size: the frontier folded right to left. */
  root(): Buffer {
    const f = this.#frontier;
    if (f.length === 0) return EMPTY_ROOT;
    let r = f[f.length - 1] as Buffer;
    for (let i = f.length - 2; i >= 0; i--) r = nodeHash(f[i] as Buffer, r);
    return Buffer.from(r);
  }
}
