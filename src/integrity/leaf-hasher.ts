import { availableParallelism } from "node:os";
import { Worker } from "node:worker_threads";

/**
 * Hashes lines into Merkle leaves (and every complete 256-leaf tile within a job into its level-1 hash) on worker
 * threads, so `verify` uses every core. The bytes are in a SharedArrayBuffer the caller filled; a job names a run
 * of lines in it by their end offsets and the leaf index of its first line, so the tiles it hashes are the tree's
 * own (those cut by the job's edges are the caller's). The worker is plain JavaScript evaluated from a string,
 * so it runs the same from src and dist.
 */

const WORKER_SOURCE = `
const { parentPort } = require("node:worker_threads");
const { hash } = require("node:crypto");
const scratch = Buffer.alloc(1 << 16);
const node = Buffer.alloc(65, 1);
function leafHash(bytes, from, to) {
  const n = to - from;
  if (n + 1 > scratch.length) return hash("sha256", Buffer.concat([Buffer.of(0), bytes.subarray(from, to)]), "buffer");
  scratch[0] = 0;
  bytes.copy(scratch, 1, from, to);
  return hash("sha256", scratch.subarray(0, n + 1), "buffer");
}
function nodeHash(a, aAt, b, bAt) {
  a.copy(node, 1, aAt, aAt + 32);
  b.copy(node, 33, bAt, bAt + 32);
  return hash("sha256", node, "buffer");
}
// A tile's levels above its leaves (128 hashes, then 64, ..., then 1: the tile's hash), kept for the cuts.
function tileLevels(leaves, at) {
  const levels = [];
  let level = leaves.subarray(at, at + 256 * 32);
  for (let width = 256; width > 1; width /= 2) {
    const up = Buffer.allocUnsafe(width * 16);
    for (let i = 0; i < width; i += 2) nodeHash(level, i * 32, level, (i + 1) * 32).copy(up, i * 16);
    levels.push(up);
    level = up;
  }
  return levels;
}
function pairHash(left, right) {
  left.copy(node, 1);
  right.copy(node, 33);
  return hash("sha256", node, "buffer");
}
// MTH of a power-of-two run of leaves (width hashes from leaf index at).
function runHash(leaves, at, width) {
  if (width === 1) return leaves.subarray(at * 32, at * 32 + 32);
  return pairHash(runHash(leaves, at, width / 2), runHash(leaves, at + width / 2, width / 2));
}
parentPort.on("message", (job) => {
  const bytes = Buffer.from(job.buffer, 0, job.length);
  const ends = job.ends;
  const count = ends.length;
  const first = job.first;
  const leaves = Buffer.allocUnsafe(count * 32);
  let start = job.start;
  for (let i = 0; i < count; i++) {
    const end = ends[i];
    // The line without its LF (a CR before it stays); the unterminated last line of a file has none.
    const contentEnd = i === count - 1 && job.unterminated ? end : end - 1;
    leafHash(bytes, start, contentEnd).copy(leaves, i * 32);
    start = end;
  }
  // Tiles are the tree's: groups of 256 leaves whose first leaf index is a multiple of 256.
  const from = (256 - (first % 256)) % 256;
  const tiles = count > from ? Math.floor((count - from) / 256) : 0;
  const level1 = Buffer.allocUnsafe(tiles * 32);
  const kept = new Map();
  for (let t = 0; t < tiles; t++) {
    const levels = tileLevels(leaves, (from + t * 256) * 32);
    levels[7].copy(level1, t * 32);
    kept.set(first + from + t * 256, levels);
  }
  // For each cut (a checkpoint's size) inside a tile that starts in this job: the aligned subtrees of the leaves
  // of that tile before the cut, largest first (a checkpoint's root is the tree's frontier folded with them).
  const parts = [];
  const partCounts = new Uint8Array(job.cuts.length);
  for (let k = 0; k < job.cuts.length; k++) {
    const size = job.cuts[k];
    const r = size % 256;
    const tileStart = size - r;
    if (r === 0 || tileStart < first) { partCounts[k] = r === 0 ? 0 : 255; continue; }
    const levels = kept.get(tileStart);
    let off = 0;
    for (let bit = 128; bit >= 1; bit /= 2) {
      if ((r & bit) === 0) continue;
      const local = tileStart - first + off;
      if (bit === 1) parts.push(leaves.subarray(local * 32, local * 32 + 32));
      else if (levels) {
        const level = levels[Math.log2(bit) - 1];
        parts.push(level.subarray((off / bit) * 32, (off / bit) * 32 + 32));
      } else parts.push(runHash(leaves, local, bit));
      off += bit;
      partCounts[k]++;
    }
  }
  const cutParts = Buffer.concat(parts);
  parentPort.postMessage({ id: job.id, leaves, level1, cutParts, partCounts }, [leaves.buffer, level1.buffer]);
});
`;

export interface HashJob {
  buffer: SharedArrayBuffer;
  /** Bytes of the buffer in use. */
  length: number;
  /** Offset in the buffer where the first line starts. */
  start: number;
  /** Offset in the buffer just after each line (after its LF). */
  ends: Uint32Array;
  /** The last line has no LF (the file's unterminated last line). */
  unterminated: boolean;
  /** Leaf index of the first line. */
  first: number;
  /** Tree sizes (checkpoints) that end inside the job: their partial tiles' subtrees come back in cutParts. */
  cuts: Float64Array;
}

export interface HashResult {
  /** One 32-byte leaf hash per line. */
  leaves: Buffer;
  /** One level-1 hash per tile wholly inside the job (leaf indexes k·256 .. k·256+255), in order. */
  level1: Buffer;
  /**
   * For each cut: how many subtree hashes of its partial tile are in cutParts (0: the cut ends a tile; 255: the
   * tile starts before the job, the caller computes them), and those hashes, concatenated, cut after cut.
   */
  partCounts: Uint8Array;
  cutParts: Buffer;
}

export class LeafHasher {
  private readonly workers: Worker[];
  private readonly waiting = new Map<
    number,
    { resolve: (r: HashResult) => void; reject: (e: Error) => void }
  >();
  private nextId = 0;
  private turn = 0;
  private failure: Error | null = null;

  constructor(threads = Math.max(1, Math.min(4, availableParallelism()))) {
    this.workers = Array.from({ length: threads }, () => {
      const worker = new Worker(WORKER_SOURCE, { eval: true, stdout: false, stderr: false });
      worker.on(
        "message",
        (m: {
          id: number;
          leaves: Uint8Array;
          level1: Uint8Array;
          cutParts: Uint8Array;
          partCounts: Uint8Array;
        }) => {
          const waiter = this.waiting.get(m.id);
          this.waiting.delete(m.id);
          waiter?.resolve({
            leaves: asBuffer(m.leaves),
            level1: asBuffer(m.level1),
            cutParts: asBuffer(m.cutParts),
            partCounts: m.partCounts,
          });
        },
      );
      worker.on("error", (error) => this.fail(error));
      return worker;
    });
  }

  get threads(): number {
    return this.workers.length;
  }

  hash(job: HashJob): Promise<HashResult> {
    if (this.failure) return Promise.reject(this.failure);
    const id = this.nextId++;
    const worker = this.workers[this.turn++ % this.workers.length] as Worker;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      worker.postMessage({ id, ...job });
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
    this.fail(new Error("the leaf hasher was closed"));
  }

  private fail(error: Error): void {
    this.failure ??= error;
    for (const waiter of this.waiting.values()) waiter.reject(error);
    this.waiting.clear();
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}
