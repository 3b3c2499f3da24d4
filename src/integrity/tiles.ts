/**
 * Where the tree's hashes live: the C2SP tlog-tiles layout (tile height 8). Level L, index i is the hash of the
 * complete subtree of 256^L leaves starting at leaf i·256^L; level 0 holds the leaf hashes. A tile is 256
 * consecutive hashes of one level, so the stored levels are exactly what a static tlog-tiles server serves.
 */
import { IntegrityError } from "./integrity-error.js";

export const HASH_SIZE = 32;
export const TILE_HEIGHT = 8;
export const TILE_WIDTH = 256;

/** Stored hashes by level (the sealer keeps one append-only file per level, 32 bytes a hash). */
export interface HashStore {
  /** `count` hashes of level `level` from index `start`, concatenated (count·32 bytes). */
  readHashes(level: number, start: number, count: number): Promise<Buffer>;
}

/** One tile: level, index within the level, width (256 when full, 1..255 when partial). */
export interface Tile {
  level: number;
  index: number;
  width: number;
}

/** The stored hashes that make up an aligned power-of-two subtree: a run within one tile of one level. */
export interface StoredRun {
  level: number;
  start: number;
  count: number;
}

/** How many hashes level `level` holds for a tree of `size` leaves: one per complete 256^level subtree. */
export function storedCount(level: number, size: number): number {
  return Math.floor(size / TILE_WIDTH ** level);
}

/**
 * The stored hashes whose Merkle tree hash is the subtree of `size` leaves from `start`. `size` must be a
 * power of two and `start` a multiple of it; the run is at most 128 hashes and never crosses a tile (a subtree
 * of 256^L leaves is one hash at level L).
 */
export function storedRun(start: number, size: number): StoredRun {
  const height = Math.log2(size);
  if (!Number.isInteger(height) || start % size !== 0) {
    throw new RangeError(`not an aligned power-of-two subtree: ${start}+${size}`);
  }
  const level = Math.floor(height / TILE_HEIGHT);
  const unit = TILE_WIDTH ** level;
  return { level, start: start / unit, count: size / unit };
}

/** Every tile (full, then the partial one) of every level for a tree of `size` leaves, lowest level first. */
export function tilesForSize(size: number): Tile[] {
  const tiles: Tile[] = [];
  for (let level = 0; storedCount(level, size) > 0; level++) {
    const count = storedCount(level, size);
    const full = Math.floor(count / TILE_WIDTH);
    for (let index = 0; index < full; index++) tiles.push({ level, index, width: TILE_WIDTH });
    if (count % TILE_WIDTH > 0) tiles.push({ level, index: full, width: count % TILE_WIDTH });
  }
  return tiles;
}

/** `tile/<L>/<N>[.p/<W>]`, N in 3-digit groups with all but the last prefixed `x` (1234067 → x001/x234/067). */
export function tilePath(tile: Tile): string {
  if (!isTile(tile)) throw new RangeError(`not a tile: ${JSON.stringify(tile)}`);
  let digits = String(tile.index);
  digits = digits.padStart(Math.ceil(digits.length / 3) * 3, "0");
  const groups = digits.match(/\d{3}/g) ?? [];
  const n = groups.map((g, i) => (i < groups.length - 1 ? `x${g}` : g)).join("/");
  return `tile/${tile.level}/${n}${tile.width < TILE_WIDTH ? `.p/${tile.width}` : ""}`;
}

const TILE_PATH = /^tile\/(0|[1-9]\d?)\/((?:x\d{3}\/)*)(\d{3})(?:\.p\/([1-9]\d{0,2}))?$/;

/** The tile a tlog-tiles path names; rejects every other spelling (leading zeros, stray `x`, partial width ≥ 256). */
export function parseTilePath(path: string): Tile {
  const m = TILE_PATH.exec(path);
  const width = m?.[4] === undefined ? TILE_WIDTH : Number(m[4]);
  const level = Number(m?.[1]);
  const digits = `${(m?.[2] ?? "").replace(/[x/]/g, "")}${m?.[3] ?? ""}`;
  // One spelling per index: no leading all-zero group (x000/001 is 1, spelled 001).
  if (
    !m ||
    level > 63 ||
    (m[4] !== undefined && width >= TILE_WIDTH) ||
    (digits.length > 3 && digits.startsWith("000"))
  ) {
    throw new IntegrityError("malformed-path", `not a tile path: ${JSON.stringify(path.slice(0, 100))}`);
  }
  const index = Number(digits);
  if (!Number.isSafeInteger(index)) throw new IntegrityError("out-of-range", `tile index too large: ${path}`);
  return { level, index, width };
}

function isTile(t: Tile): boolean {
  return (
    Number.isInteger(t.level) &&
    t.level >= 0 &&
    t.level <= 63 &&
    Number.isSafeInteger(t.index) &&
    t.index >= 0 &&
    Number.isInteger(t.width) &&
    t.width >= 1 &&
    t.width <= TILE_WIDTH
  );
}

/** A tile's bytes as tlog-tiles serves them: its `width` hashes. */
export function readTile(store: HashStore, tile: Tile): Promise<Buffer> {
  return store.readHashes(tile.level, tile.index * TILE_WIDTH, tile.width);
}

/**
 * Reads stored hashes a whole tile at a time (clipped to the tree's size) and keeps the tiles it read, so one
 * proof touches each tile it needs once. Lives for one proof or one root: the tree may grow after.
 */
export class TileReader {
  readonly #tiles = new Map<string, Promise<Buffer>>();

  constructor(
    private readonly store: HashStore,
    private readonly size: number,
  ) {}

  /** Hashes `[start, start+count)` of `level`, which must lie within one tile and the tree's size. */
  async hashes(level: number, start: number, count: number): Promise<Buffer> {
    const index = Math.floor(start / TILE_WIDTH);
    const from = start - index * TILE_WIDTH;
    if (from + count > TILE_WIDTH || start + count > storedCount(level, this.size)) {
      throw new RangeError(`hashes ${level}/${start}+${count} not within one tile of a tree of ${this.size}`);
    }
    const key = `${level}/${index}`;
    let tile = this.#tiles.get(key);
    if (tile === undefined) {
      const width = Math.min(TILE_WIDTH, storedCount(level, this.size) - index * TILE_WIDTH);
      tile = this.store.readHashes(level, index * TILE_WIDTH, width);
      this.#tiles.set(key, tile);
    }
    const bytes = await tile;
    if (bytes.length < (from + count) * HASH_SIZE) {
      throw new RangeError(`store returned ${bytes.length} bytes for tile ${key} of a tree of ${this.size}`);
    }
    return bytes.subarray(from * HASH_SIZE, (from + count) * HASH_SIZE);
  }
}
