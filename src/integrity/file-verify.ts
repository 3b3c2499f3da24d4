import { type FileHandle, open, readdir, readFile, stat } from "node:fs/promises";
import { basename, dirname, join } from "node:path";
import { auditCheckpoints, summary } from "./checkpoint-audit.js";
import { type CheckpointLog, parseCheckpointLog } from "./checkpoint-log.js";
import { isSameFile } from "./file-source.js";
import type { Finding } from "./finding.js";
import { type HashResult, LeafHasher } from "./leaf-hasher.js";
import { EMPTY_ROOT, hashRun, nodeHash } from "./merkle.js";
import type { NoteVerifier } from "./note.js";
import { parseSealPointNote, readSealPoint, type SealPoint } from "./seal-point.js";
import { HASH_BYTES, Sidecar, sidecarPath } from "./sidecar.js";
import { storedCount, TILE_WIDTH } from "./tiles.js";

/**
 * `livetrail verify` for a sealed log: recomputes the tree from the file and checks every checkpoint against it.
 * The file is read in chunks; each chunk's lines are hashed on worker threads (leaves and the level-1 hash of each
 * 256-line tile, leaf-hasher.ts) while the main thread compares them with the sidecar's stored hashes (which is
 * how the first changed line is found, and whether it was changed, deleted, inserted or swapped) and folds the
 * tiles into the roots of the checkpoints, which is what confirms it: the stored hashes are only a map, the signed
 * roots are the proof. So a hash file edited to match an edited line is still caught, at the checkpoint after it.
 */

export interface IntegrityOptions {
  /** The log's verifier key; null: signatures are not checked (the report says so). */
  key: NoteVerifier | null;
  /** The sidecar; default: found next to the file (findSidecar). */
  sidecar?: string;
  threads?: number;
  onProgress?: (done: number, total: number) => void;
}

export interface IntegrityReport {
  file: string;
  sidecar: string;
  ok: boolean;
  /** Lines and bytes in the file now. */
  lines: number;
  bytes: number;
  checkpoints: number;
  /** Lines and bytes the last good checkpoint covers, and when it was made. */
  sealedLines: number;
  sealedBytes: number;
  lastSealed: string | null;
  /** Lines after the last checkpoint: not yet sealed, not a finding. */
  unsealedLines: number;
  signatures: "checked" | "not-checked";
  /** Whether the file is the one sealed (same device, inode and first bytes) or a copy of it elsewhere. */
  identity: "same-file" | "copy";
  /** The rotated file this one continues, when its checkpoints say so. */
  prev: { size: number; sidecar: string | null; linked: boolean } | null;
  findings: Finding[];
}

const CHUNK_BYTES = 4 * 1024 * 1024;
/** Chunks hashed at once: enough to keep every worker busy while the main thread checks the previous ones. */
const IN_FLIGHT = 4;

/**
 * The sidecar of `file`: `<file>.seal` when its checkpoints name this file, else an archived sibling
 * (`*.seal.<fileId>`, left by a rotation) whose checkpoints do; `<file>.seal` again for a copy of the file made
 * elsewhere; null when there is none.
 */
export async function findSidecar(file: string): Promise<string | null> {
  const own = sidecarPath(file);
  const handle = await open(file, "r");
  try {
    const candidates = [own];
    const dir = dirname(file);
    for (const name of await readdir(dir).catch(() => [] as string[])) {
      if (/\.seal\.[0-9a-f]{12}$/.test(name)) candidates.push(join(dir, name));
    }
    for (const candidate of candidates) {
      const identity = await lastIdentity(candidate);
      if (identity !== null && (await isSameFile(handle, identity))) return candidate;
    }
  } finally {
    await handle.close();
  }
  return (await exists(join(own, "meta.json"))) ? own : null;
}

async function lastIdentity(dir: string): Promise<string | null> {
  let sidecar: Sidecar;
  try {
    sidecar = await Sidecar.openReadOnly(dir);
  } catch {
    return null;
  }
  try {
    const last = await sidecar.lastCheckpoint();
    return last === null ? null : parseSealPointNote(last.note).identity;
  } catch {
    return null;
  } finally {
    await sidecar.close();
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(
    () => true,
    () => false,
  );
}

export async function verifyIntegrity(
  file: string,
  sidecarDir: string,
  options: IntegrityOptions,
): Promise<IntegrityReport> {
  const sidecar = await Sidecar.openReadOnly(sidecarDir);
  const handle = await open(file, "r");
  try {
    const log = await sidecar.readCheckpoints();
    const fileSize = (await handle.stat()).size;
    const report: IntegrityReport = {
      file,
      sidecar: sidecarDir,
      ok: false,
      lines: 0,
      bytes: fileSize,
      checkpoints: log.records.length,
      sealedLines: 0,
      sealedBytes: 0,
      lastSealed: null,
      unsealedLines: 0,
      signatures: options.key === null ? "not-checked" : "checked",
      identity: "copy",
      prev: null,
      findings: [],
    };
    let last: SealPoint | undefined;
    // The signatures are checked once the workers have the first chunks (so the two overlap); the chunks are cut
    // at every size a record claims, signed or not, and only checkpoints that pass are judged.
    const prepare = async (): Promise<ContentCheck> => {
      const audited = auditCheckpoints(log, options.key);
      report.findings.push(...audited.findings);
      // The content is checked against the checkpoints in size order (a reordering is already a finding).
      const points = [...audited.points].sort((a, b) => a.size - b.size || a.seq - b.seq);
      last = points.at(-1);
      if (last === undefined) {
        // With records that failed their checks, those findings say why none is usable.
        if (audited.findings.length === 0) {
          report.findings.push({ kind: "no-checkpoints", message: `${sidecarDir} holds no checkpoint` });
        }
      } else {
        report.identity = (await isSameFile(handle, last.identity)) ? "same-file" : "copy";
        report.prev = await checkPrevious(sidecarDir, last, options.key, report.findings);
      }
      return new ContentCheck(sidecar, points, report.findings);
    };
    const content = await streamLeaves(handle, fileSize, options, claimedSizes(log), prepare);
    content.finish(fileSize);
    report.lines = content.lines;
    const confirmed = content.lastGood;
    report.sealedLines = confirmed?.size ?? 0;
    report.sealedBytes = confirmed?.bytes ?? 0;
    report.lastSealed = confirmed?.time ?? null;
    report.unsealedLines = Math.max(0, content.lines - (last?.size ?? 0));
    report.ok = report.findings.length === 0;
    return report;
  } finally {
    await handle.close();
    await sidecar.close();
  }
}

/** The rotated file's sidecar (meta.json's prevSidecar) must end with the checkpoint livetrail-prev names. */
async function checkPrevious(
  sidecarDir: string,
  last: SealPoint,
  key: NoteVerifier | null,
  findings: Finding[],
): Promise<IntegrityReport["prev"]> {
  if (last.prev === null) return null;
  const meta = JSON.parse(await readFile(join(sidecarDir, "meta.json"), "utf8")) as { prevSidecar?: string };
  const name = meta.prevSidecar;
  const dir = name === undefined ? null : join(dirname(sidecarDir), basename(name));
  if (dir === null || !(await exists(join(dir, "checkpoints")))) {
    return { size: last.prev.size, sidecar: null, linked: false };
  }
  const log = parseCheckpointLog(await readFile(join(dir, "checkpoints")));
  const final = log.records.at(-1);
  let point: SealPoint | null = null;
  try {
    point =
      final === undefined
        ? null
        : key === null
          ? parseSealPointNote(final.note)
          : readSealPoint(final.note, [key]);
  } catch {
    point = null;
  }
  const linked = point !== null && point.size === last.prev.size && point.root.equals(last.prev.root);
  if (!linked) {
    findings.push({
      kind: "rotation-link",
      message: `the previous file's final checkpoint in ${dir} does not match livetrail-prev (${last.prev.size} lines): its history was changed after the rotation`,
    });
  }
  return { size: last.prev.size, sidecar: dir, linked };
}

interface Chunk {
  /** File offset of the chunk's first byte (a line start). */
  offset: number;
  /** Leaf index of its first line. */
  first: number;
  ends: Uint32Array;
  unterminated: boolean;
  /** The claimed checkpoint sizes that end in this chunk (the worker's partial-tile subtrees are for them). */
  cuts: Float64Array;
  result: Promise<HashResult>;
}

/**
 * Reads the file in chunks of whole lines (a chunk grows to hold at least one line) into shared buffers, sends
 * each to the hasher and hands the results to `check` in file order.
 */
async function streamLeaves(
  handle: FileHandle,
  size: number,
  options: IntegrityOptions,
  sizes: readonly number[],
  prepare: () => Promise<ContentCheck>,
): Promise<ContentCheck> {
  const hasher = new LeafHasher(options.threads);
  const queue: Chunk[] = [];
  let checking: Promise<ContentCheck> | null = null;
  const check = (): Promise<ContentCheck> => {
    checking ??= prepare();
    return checking;
  };
  try {
    let offset = 0;
    let index = 0;
    let capacity = CHUNK_BYTES;
    let nextSize = 0;
    while (offset < size) {
      let buffer = new SharedArrayBuffer(Math.min(capacity, size - offset));
      let bytes = Buffer.from(buffer);
      let got = await readFully(handle, bytes, offset);
      // The file got shorter while being read: what is left is checked as the end.
      if (got === 0) break;
      let lastLf = bytes.lastIndexOf(0x0a, got - 1);
      // A line longer than the chunk: grow until it fits (or the file ends).
      while (lastLf === -1 && offset + got < size && got === bytes.length) {
        capacity *= 2;
        buffer = new SharedArrayBuffer(Math.min(capacity, size - offset));
        bytes = Buffer.from(buffer);
        got = await readFully(handle, bytes, offset);
        lastLf = bytes.lastIndexOf(0x0a, got - 1);
      }
      const atEnd = offset + got >= size || got < bytes.length;
      const used = atEnd ? got : lastLf + 1;
      const ends = lineEnds(bytes, used);
      const unterminated = used > 0 && bytes[used - 1] !== 0x0a;
      const from = nextSize;
      while (nextSize < sizes.length && (sizes[nextSize] as number) <= index + ends.length) nextSize++;
      // The checkpoint sizes (sorted) that end inside this chunk.
      const cuts = Float64Array.from(sizes.slice(from, nextSize).filter((s) => s > index));
      const job = { buffer, length: used, start: 0, ends, unterminated, first: index, cuts };
      queue.push({ offset, first: index, ends, unterminated, cuts, result: hasher.hash(job) });
      index += ends.length;
      offset += used;
      options.onProgress?.(offset, size);
      while (queue.length >= IN_FLIGHT) await (await check()).chunk(queue.shift() as Chunk);
    }
    const content = await check();
    while (queue.length > 0) await content.chunk(queue.shift() as Chunk);
    return content;
  } finally {
    await hasher.close();
  }
}

/** Every tree size a checkpoint record claims (signed or not), sorted, once each. */
function claimedSizes(log: CheckpointLog): number[] {
  const sizes = new Set<number>();
  for (const record of log.records) {
    try {
      sizes.add(parseSealPointNote(record.note).size);
    } catch {
      // Malformed: the audit reports it.
    }
  }
  return [...sizes].sort((a, b) => a - b);
}

/** The worker's subtrees of each cut's partial tile, by tree size (see HashResult.partCounts). */
function partialTiles(cuts: Float64Array, counts: Uint8Array, parts: Buffer): Map<number, Buffer[]> {
  const out = new Map<number, Buffer[]>();
  let at = 0;
  for (const [k, size] of cuts.entries()) {
    const n = counts[k] as number;
    if (n === 0 || n === 255) continue;
    out.set(
      size,
      Array.from({ length: n }, (_, j) => leafAt(parts, at + j)),
    );
    at += n;
  }
  return out;
}

async function readFully(handle: FileHandle, bytes: Buffer, position: number): Promise<number> {
  let got = 0;
  while (got < bytes.length) {
    const { bytesRead } = await handle.read(bytes, got, bytes.length - got, position + got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got;
}

/** The offset after each line in bytes[0, used): after each LF, and `used` for an unterminated last line. */
function lineEnds(bytes: Buffer, used: number): Uint32Array {
  let ends = new Uint32Array(Math.max(16, used >> 6));
  let n = 0;
  for (let lf = bytes.indexOf(0x0a); lf !== -1 && lf < used; lf = bytes.indexOf(0x0a, lf + 1)) {
    if (n === ends.length) {
      const grown = new Uint32Array(ends.length * 2);
      grown.set(ends);
      ends = grown;
    }
    ends[n++] = lf + 1;
  }
  if (used > 0 && bytes[used - 1] !== 0x0a) {
    if (n === ends.length) {
      const grown = new Uint32Array(ends.length + 1);
      grown.set(ends);
      ends = grown;
    }
    ends[n++] = used;
  }
  return ends.subarray(0, n);
}

/** The first stored leaf hash that differs from the file's line, and what is known around it. */
interface Mismatch {
  index: number;
  offset: number;
  /** The file's leaves from `index` and the stored ones (up to 3 each): what tells the kinds apart. */
  mine: Buffer[];
  stored: Buffer[];
  /** The first checkpoint covering it, and whether its signed root disagrees with the file. */
  covering: SealPoint | null;
  rootDiffers: boolean;
}

/**
 * Checks the recomputed leaves, in order, against the stored hashes and the checkpoints. The tree is folded tile
 * by tile: `frontier` holds the complete subtrees of whole tiles (largest first), `tile` the leaves of the tile
 * being filled, so a checkpoint's root is the frontier folded with the partial tile's subtrees: no leaf is
 * hashed twice and the main thread's share is about one node hash per 256 lines plus the checkpoints' partial
 * tiles.
 */
class ContentCheck {
  lines = 0;
  /** The last checkpoint whose root matched, before anything was found. */
  lastGood: SealPoint | null = null;
  private readonly frontier: { hash: Buffer; tiles: number }[] = [];
  private tile: Buffer[] = [];
  private tileLeaves = 0;
  private tiles = 0;
  private next = 0;
  /** Stored hashes up to the last checkpoint are compared; beyond it they are not sealed. */
  private readonly sealedSize: number;
  private mismatch: Mismatch | null = null;
  /** A content finding was made: later checkpoints are not judged again (they all differ after it). */
  private reported = false;
  /** Recomputed upper-level hashes (level ≥ 1) waiting to be compared with the stored ones. */
  private recomputed: { level: number; index: number; hash: Buffer }[] = [];
  private readonly upper: Buffer[][] = [];
  /** The first stored tile hash that differs (the place of a change whose leaf hash was edited to match). */
  private tileMismatch: { level: number; index: number } | null = null;
  private lastEnd = 0;
  /** A checkpoint whose root differs with no stored leaf differing before it (reported after compareUpper). */
  private rootFailure: { point: SealPoint; from: number } | null = null;

  constructor(
    private readonly sidecar: Sidecar,
    private readonly points: readonly SealPoint[],
    private readonly findings: Finding[],
  ) {
    this.sealedSize = Math.min(points.at(-1)?.size ?? 0, sidecar.count(0));
    while (this.next < points.length && (points[this.next] as SealPoint).size === 0) {
      const point = points[this.next++] as SealPoint;
      if (point.root.equals(EMPTY_ROOT) && point.bytes === 0) this.lastGood = point;
      else this.judge(point, EMPTY_ROOT, 0);
    }
  }

  async chunk(chunk: Chunk): Promise<void> {
    const { leaves, level1, cutParts, partCounts } = await chunk.result;
    const ready = partialTiles(chunk.cuts, partCounts, cutParts);
    const count = chunk.ends.length;
    const first = chunk.first;
    await this.compareLeaves(chunk, leaves);
    let tileAt = 0;
    let at = 0;
    while (at < count) {
      const index = first + at;
      const take = Math.min(TILE_WIDTH - (index % TILE_WIDTH), count - at);
      const run = leaves.subarray(at * HASH_BYTES, (at + take) * HASH_BYTES);
      const tileStart = index - (index % TILE_WIDTH);
      while (this.next < this.points.length && (this.points[this.next] as SealPoint).size <= index + take) {
        const point = this.points[this.next++] as SealPoint;
        // The worker had the partial tile's subtrees at hand, unless the tile started in an earlier chunk.
        let subtrees = ready.get(point.size);
        if (subtrees === undefined) {
          const head = run.subarray(0, (point.size - index) * HASH_BYTES);
          const partial = this.tile.length === 0 ? head : Buffer.concat([...this.tile, head]);
          subtrees = subtreesOf(partial, point.size - tileStart);
        }
        const end = chunk.offset + (chunk.ends[point.size - 1 - first] as number);
        this.judge(point, this.rootWith(subtrees), end);
      }
      if (index % TILE_WIDTH === 0 && take === TILE_WIDTH) {
        this.pushTile(level1.subarray(tileAt * HASH_BYTES, (tileAt + 1) * HASH_BYTES));
        tileAt++;
      } else {
        this.tile.push(run);
        this.tileLeaves += take;
        if (this.tileLeaves === TILE_WIDTH) {
          this.pushTile(hashRun(Buffer.concat(this.tile)));
          this.tile = [];
          this.tileLeaves = 0;
        }
      }
      at += take;
    }
    this.lines = first + count;
    this.lastEnd = chunk.offset + (chunk.ends[count - 1] ?? 0);
    await this.compareUpper();
    this.reportRootFailure();
    this.reportMismatchWhenKnown(false);
  }

  /** The signed root differs though every stored leaf hash matched: the hashes were edited to match the lines. */
  private reportRootFailure(): void {
    const failure = this.rootFailure;
    if (failure === null) return;
    this.rootFailure = null;
    const { point, from } = failure;
    const tile = this.tileMismatch;
    const unit = tile === null ? 0 : TILE_WIDTH ** tile.level;
    const lo = tile === null ? from : Math.max(from, tile.index * unit + 1);
    const hi = tile === null ? point.size : Math.min(point.size, (tile.index + 1) * unit);
    this.findings.push({
      kind: "lines-changed",
      message: `checkpoint ${point.seq} (sealed ${point.time}) does not match the file: lines ${lo}..${hi} changed, and the sidecar's hashes were edited to match them`,
      line: lo,
      checkpoint: summary(point),
    });
  }

  /** After the last chunk: checkpoints beyond the file's end mean it was truncated below them. */
  finish(fileSize: number): void {
    this.reportRootFailure();
    const beyond = this.points[this.next];
    this.next = this.points.length;
    const m = this.mismatch;
    // A cut last line differs from its sealed self: that is the truncation, not an edit.
    const cutLastLine = m !== null && m.index === this.lines - 1 && beyond !== undefined;
    if (m !== null && !cutLastLine) this.reportMismatchWhenKnown(true);
    if (beyond !== undefined && !this.reported) {
      this.reported = true;
      const line = cutLastLine ? this.lines : this.lines + 1;
      this.findings.push({
        kind: "truncated",
        message: `truncated below a sealed offset: the file ends at byte ${fileSize}${cutLastLine ? ` inside line ${line}` : ` after line ${this.lines}`}, but checkpoint ${beyond.seq} sealed ${beyond.bytes} bytes (${beyond.size} lines): lines ${line}..${beyond.size} are gone`,
        line,
        offset: cutLastLine ? (m as Mismatch).offset : this.lastEnd,
        checkpoint: summary(beyond),
      });
    }
    const tile = this.tileMismatch;
    if (tile !== null && !this.reported) {
      // The lines match every signed root, but a stored tile hash does not match them: proofs built from it fail.
      const unit = TILE_WIDTH ** tile.level;
      this.findings.push({
        kind: "hashes-damaged",
        message: `the sidecar's level-${tile.level} hash ${tile.index} (lines ${tile.index * unit + 1}..${(tile.index + 1) * unit}) was changed: it does not match those lines, which match the signed checkpoints (the log is intact)`,
        line: tile.index * unit + 1,
      });
    }
  }

  /** Root of the tree whose last tile holds `subtrees` (aligned, largest first) after the frontier's tiles. */
  private rootWith(subtrees: readonly Buffer[]): Buffer {
    const all = [...this.frontier.map((f) => f.hash), ...subtrees];
    let root = all.at(-1) ?? EMPTY_ROOT;
    for (let i = all.length - 2; i >= 0; i--) root = nodeHash(all[i] as Buffer, root);
    return root;
  }

  /** A checkpoint against the file: its root, and that its lines end at its byte length. */
  private judge(point: SealPoint, root: Buffer, end: number): void {
    const rootMatches = root.equals(point.root);
    const m = this.mismatch;
    if (m !== null && m.covering === null && point.size > m.index) {
      m.covering = point;
      m.rootDiffers = !rootMatches;
    }
    if (rootMatches && end === point.bytes) {
      if (!this.reported && (m === null || !m.rootDiffers)) this.lastGood = point;
      return;
    }
    // With a stored leaf that differs before it, the leaf comparison names the line (reportMismatchWhenKnown).
    if (this.reported || m !== null) return;
    this.reported = true;
    if (!rootMatches) {
      // Named once the stored tile hashes of this chunk are compared too: they may narrow it down.
      this.rootFailure = { point, from: (this.lastGood?.size ?? 0) + 1 };
    } else {
      this.findings.push({
        kind: "bytes-mismatch",
        message: `checkpoint ${point.seq} sealed ${point.bytes} bytes for ${point.size} lines; those lines now end at byte ${end}`,
        line: point.size,
        checkpoint: summary(point),
      });
    }
  }

  /** Finds the first stored leaf hash that differs from the file's, and keeps what follows it. */
  private async compareLeaves(chunk: Chunk, leaves: Buffer): Promise<void> {
    const first = chunk.first;
    const count = chunk.ends.length;
    const m = this.mismatch;
    if (m !== null) {
      for (let k = 0; k < count && m.mine.length < 3; k++) m.mine.push(leafAt(leaves, k));
      return;
    }
    const upTo = Math.min(this.sealedSize, first + count);
    if (upTo <= first) return;
    const stored = await this.sidecar.readHashes(0, first, upTo - first);
    if (stored.equals(leaves.subarray(0, stored.length))) return;
    let k = 0;
    while (leafAt(stored, k).equals(leafAt(leaves, k))) k++;
    const index = first + k;
    const mine: Buffer[] = [];
    for (let j = k; j < Math.min(count, k + 3); j++) mine.push(leafAt(leaves, j));
    const storedNear = await this.sidecar.readHashes(0, index, Math.min(3, this.sidecar.count(0) - index));
    this.mismatch = {
      index,
      offset: chunk.offset + (k === 0 ? 0 : (chunk.ends[k - 1] as number)),
      mine,
      stored: [0, 1, 2].filter((j) => j * HASH_BYTES < storedNear.length).map((j) => leafAt(storedNear, j)),
      covering: null,
      rootDiffers: false,
    };
  }

  /** Reports the leaf mismatch once its covering checkpoint was judged and the leaves after it are known. */
  private reportMismatchWhenKnown(atEnd: boolean): void {
    const m = this.mismatch;
    if (m === null || this.reported || m.covering === null) return;
    if (m.mine.length < 3 && !atEnd) return;
    this.reported = true;
    const [f0, f1, f2] = m.mine;
    const [s0, s1, s2] = m.stored;
    const eq = (a: Buffer | undefined, b: Buffer | undefined) =>
      a !== undefined && b !== undefined && a.equals(b);
    // The next pair must agree too (or both sides end): an edit that duplicates a neighbour is an edit.
    const then = (a: Buffer | undefined, b: Buffer | undefined) =>
      (a === undefined && b === undefined) || eq(a, b);
    const line = m.index + 1;
    const p = m.covering;
    const covers = ` (covered by checkpoint ${p.seq}, lines 1..${p.size}, sealed ${p.time})`;
    const at = `at byte ${m.offset}`;
    let kind: Finding["kind"];
    let message: string;
    if (!m.rootDiffers) {
      kind = "hashes-damaged";
      message = `the sidecar's hash of line ${line} was changed: it does not match the line, but the signed checkpoint ${p.seq} does (the log is intact there)`;
    } else if (eq(f0, s1) && eq(f1, s0)) {
      kind = "lines-swapped";
      message = `lines ${line} and ${line + 1} were swapped (${at})${covers}`;
    } else if (eq(f0, s1) && then(f1, s2)) {
      kind = "line-deleted";
      message = `line ${line} was deleted: the file's line ${line} (${at}) is the sealed line ${line + 1}${covers}`;
    } else if (eq(f1, s0) && then(f2, s1)) {
      kind = "line-inserted";
      message = `a line was inserted before line ${line} (${at}): the sealed line ${line} is now line ${line + 1}${covers}`;
    } else {
      kind = "line-changed";
      message = `line ${line} changed (${at})${covers}`;
    }
    this.findings.push({ kind, message, line, offset: m.offset, checkpoint: summary(p) });
  }

  private pushTile(hash: Buffer): void {
    let entry: { hash: Buffer; tiles: number } = { hash: Buffer.from(hash), tiles: 1 };
    this.recordUpper(1, this.tiles++, entry.hash);
    while (this.frontier.length > 0 && (this.frontier.at(-1) as { tiles: number }).tiles === entry.tiles) {
      const left = this.frontier.pop() as { hash: Buffer; tiles: number };
      entry = { hash: nodeHash(left.hash, entry.hash), tiles: entry.tiles * 2 };
    }
    this.frontier.push(entry);
  }

  /** A recomputed hash of level ≥ 1; every 256 of a level make one of the level above. */
  private recordUpper(level: number, index: number, hash: Buffer): void {
    this.recomputed.push({ level, index, hash });
    const pending = this.upper[level] ?? [];
    this.upper[level] = pending;
    pending.push(hash);
    if (pending.length === TILE_WIDTH) {
      this.upper[level] = [];
      this.recordUpper(level + 1, Math.floor(index / TILE_WIDTH), hashRun(Buffer.concat(pending)));
    }
  }

  /** Stored tile hashes of the sealed part must be the recomputed ones (else the sidecar was edited). */
  private async compareUpper(): Promise<void> {
    const batch = this.recomputed;
    this.recomputed = [];
    if (this.tileMismatch !== null) return;
    for (const level of new Set(batch.map((b) => b.level))) {
      const mine = batch.filter((b) => b.level === level);
      const sealed = Math.min(storedCount(level, this.sealedSize), this.sidecar.count(level));
      const usable = mine.filter((b) => b.index < sealed);
      const firstEntry = usable[0];
      if (firstEntry === undefined) continue;
      const stored = await this.sidecar.readHashes(level, firstEntry.index, usable.length);
      const bad = usable.findIndex((b, i) => !b.hash.equals(leafAt(stored, i)));
      if (bad !== -1) {
        this.tileMismatch = { level, index: (usable[bad] as { index: number }).index };
        return;
      }
    }
  }
}

/** The aligned power-of-two subtrees of the first `count` leaves of a tile (`partial` holds them), largest first. */
function subtreesOf(partial: Buffer, count: number): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  for (let bit = TILE_WIDTH; bit >= 1; bit /= 2) {
    if ((count & bit) === 0) continue;
    out.push(hashRun(partial.subarray(from * HASH_BYTES, (from + bit) * HASH_BYTES)));
    from += bit;
  }
  return out;
}

function leafAt(hashes: Buffer, i: number): Buffer {
  return hashes.subarray(i * HASH_BYTES, (i + 1) * HASH_BYTES);
}
