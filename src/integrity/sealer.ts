import { rename, rm } from "node:fs/promises";
import { basename, join } from "node:path";
import { leafHash, TreeBuilder } from "./merkle.js";
import type { NoteSigner } from "./note.js";
import type { SealKey } from "./seal-key.js";
import { readSealPoint, type SealPoint, sealPointNote } from "./seal-point.js";
import { Sidecar, type SidecarMeta } from "./sidecar.js";
import { storedCount } from "./tiles.js";

/**
 * The writing side of a sidecar: leaf hashes in, tiles completed, signed checkpoints out. Every call that
 * changes the sidecar runs inside `locked()`, which takes the sidecar's lock and first brings this sealer up to
 * date with what is on disk (another process may have sealed meanwhile, or a crash left a torn tail), so any
 * number of processes can seal one log: the tree is over the log's lines, whoever hashes them.
 */

export const DEFAULT_EVERY_LINES = 1000;
export const DEFAULT_EVERY_MS = 1000;

export class SealError extends Error {
  override name = "SealError";
}

export interface SealerOptions {
  /** The checkpoint origin for a new sidecar; default `livetrail/<key name>/<log base name>`. */
  origin?: string;
  /** Time of checkpoints (tests pass a fixed clock). */
  now?: () => Date;
  /** The sealed file's device and inode, kept in a new sidecar's meta.json. */
  file?: SidecarMeta["file"];
}

/**
 * Where recovery gets the leaves back from when the stored hashes do not reproduce the last signed root (a crash
 * before the hashes reached the disk, or a damaged hash file): the data of every line up to `bytes`, in order.
 */
export type LeafSource = (bytes: number) => AsyncIterable<Buffer>;

export class Sealer {
  private builder = TreeBuilder.empty();
  private pending: Buffer[] = [];
  private point: SealPoint | null = null;
  /** Size of the checkpoints file when we last read or wrote it: a change means another process sealed. */
  private knownLength = -1;
  private pendingBytes = 0;

  private constructor(
    private sidecar: Sidecar,
    private readonly key: SealKey,
    private readonly now: () => Date,
  ) {}

  /** Opens (creating when missing) the sidecar at `dir` for sealing with `signer`. Nothing is read until locked(). */
  static async open(dir: string, key: SealKey, options: SealerOptions = {}): Promise<Sealer> {
    const { signer } = key;
    const meta: SidecarMeta = {
      version: 1,
      origin: options.origin ?? defaultOrigin(signer, dir),
      keyName: signer.name,
      keyId: hex8(signer.keyId),
      ...(options.file === undefined ? {} : { file: options.file }),
    };
    const sidecar = await Sidecar.openForSealing(dir, meta);
    return new Sealer(sidecar, key, options.now ?? (() => new Date()));
  }

  get dir(): string {
    return this.sidecar.dir;
  }

  get meta(): SidecarMeta {
    return this.sidecar.meta;
  }

  /** Lines sealed or added (the tree's size once pending leaves are in). */
  get size(): number {
    return this.builder.size + this.pending.length;
  }

  /** Source bytes covered by the lines sealed or added. */
  get bytes(): number {
    return this.pendingBytes;
  }

  /** The last checkpoint written or read (null before the first). */
  get last(): SealPoint | null {
    return this.point;
  }

  /** Lines added since the last checkpoint. */
  get unsealed(): number {
    return this.pending.length;
  }

  /**
   * Runs `fn` holding the sidecar's lock, after catching up with the disk (see recover). Leaves added but not
   * checkpointed when `fn` ends are dropped: they are not on disk, and another process may seal them next.
   */
  async locked<T>(fn: () => Promise<T>, source?: LeafSource): Promise<T> {
    const release = await this.sidecar.lock();
    try {
      await this.recover(source);
      return await fn();
    } finally {
      this.pending = [];
      this.pendingBytes = this.point?.bytes ?? 0;
      await release();
    }
  }

  /** Adds one line: its bytes without the final LF (a CR before it stays), and the source offset after it. */
  add(data: Uint8Array, end: number): void {
    if (end < this.pendingBytes)
      throw new SealError(`line ending at ${end} is before the sealed offset ${this.pendingBytes}`);
    this.pending.push(leafHash(data));
    this.pendingBytes = end;
  }

  /**
   * Writes the pending leaves and the tiles they complete, then a signed checkpoint binding `identity` and the
   * byte length to the size and root. Hashes first: a checkpoint on disk always has its hashes before it.
   */
  async checkpoint(identity: string): Promise<SealPoint> {
    const gained = this.builder.append(this.pending);
    this.pending = [];
    for (const { level, start, hashes } of gained) {
      if (this.sidecar.count(level) !== start) {
        throw new SealError(`level ${level} holds ${this.sidecar.count(level)} hashes, expected ${start}`);
      }
      await this.sidecar.appendHashes(level, hashes);
    }
    const point: SealPoint = {
      origin: this.sidecar.meta.origin,
      size: this.builder.size,
      root: this.builder.root(),
      identity,
      bytes: this.pendingBytes,
      prev: this.point?.prev ?? prevOf(this.sidecar.meta),
      seq: (this.point?.seq ?? 0) + 1,
      time: this.now()
        .toISOString()
        .replace(/\.\d{3}Z$/, "Z"),
    };
    const note = sealPointNote(point, this.key.signer);
    await this.sidecar.appendCheckpoint(note);
    this.knownLength = await this.sidecar.checkpointsLength();
    this.point = point;
    return point;
  }

  /**
   * The log was rotated: its last checkpoint is final. The sidecar moves to `<dir>.<fileId>` (fileId from the
   * final checkpoint's identity, so `verify` finds it by the rotated file's identity), and a new sidecar at `dir`
   * starts the next file's history, every checkpoint of it carrying `livetrail-prev` with the final size and root.
   * Call it holding the lock (inside locked()); the new sidecar's lock is taken over from the old one.
   */
  async rotate(file?: SidecarMeta["file"]): Promise<string> {
    const final = this.point;
    const dir = this.sidecar.dir;
    if (final === null) throw new SealError("nothing sealed yet: a rotation needs a final checkpoint");
    const archive = `${dir}.${final.identity.split(".")[0]}`;
    await this.sidecar.close();
    await rename(dir, archive);
    const { file: _old, ...kept } = this.sidecar.meta;
    const meta: SidecarMeta = {
      ...kept,
      ...(file === undefined ? {} : { file }),
      prevSidecar: basename(archive),
      prevPoint: { size: final.size, root: final.root.toString("base64") },
    };
    // The new directory comes with our lock in it, so the release of locked() (it removes `<dir>/lock`) frees it.
    this.sidecar = await Sidecar.replaceAfterRotation(dir, meta);
    await rm(join(archive, "lock"), { force: true });
    this.builder = TreeBuilder.empty();
    this.point = null;
    this.pending = [];
    this.pendingBytes = 0;
    this.knownLength = 0;
    return archive;
  }

  async close(): Promise<void> {
    await this.sidecar.sync().catch(() => undefined);
    await this.sidecar.close();
  }

  /**
   * Brings the in-memory tree to the sidecar's last consistent state: a torn last checkpoint record is cut off;
   * hashes beyond the last checkpoint are cut back (they were written for a checkpoint that never landed); when
   * the stored hashes do not give the signed root, they are recomputed from `source` (the log) and must.
   */
  private async recover(source: LeafSource | undefined): Promise<void> {
    if (await this.sidecar.replaced()) {
      // Another process rotated the log: our handles are on the archived sidecar; open the new one.
      const dir = this.sidecar.dir;
      await this.sidecar.close();
      this.sidecar = await Sidecar.openForSealing(dir, this.sidecar.meta);
      this.knownLength = -1;
    }
    const length = await this.sidecar.checkpointsLength();
    if (length === this.knownLength) return;
    await this.sidecar.loadCounts();
    const tail = await this.sidecar.lastCheckpoint();
    if (tail === null && length > 0) {
      throw new SealError(
        `${this.sidecar.dir}/checkpoints: its last record is damaged; run livetrail verify`,
      );
    }
    if (tail !== null && tail.tornBytes > 0) await this.sidecar.truncateCheckpoints(tail.goodLength);
    const point = tail === null ? null : readSealPoint(tail.note, [this.key.verifier]);
    const size = point?.size ?? 0;
    let consistent = true;
    for (const level of this.sidecar.storedLevels()) {
      const want = storedCount(level, size);
      if (this.sidecar.count(level) > want) await this.sidecar.truncateLevel(level, want);
      else if (this.sidecar.count(level) < want) consistent = false;
    }
    if (storedCount(0, size) > this.sidecar.count(0)) consistent = false;
    let builder = consistent ? await TreeBuilder.fromStore(this.sidecar, size) : null;
    if (point !== null && (builder === null || !builder.root().equals(point.root))) {
      builder = await this.rebuild(point, source);
    }
    this.builder = builder ?? TreeBuilder.empty();
    this.point = point;
    this.pending = [];
    this.pendingBytes = point?.bytes ?? 0;
    this.knownLength = tail?.goodLength ?? 0;
  }

  /** Recomputes every stored level from the log's lines up to the last checkpoint, which they must reproduce. */
  private async rebuild(point: SealPoint, source: LeafSource | undefined): Promise<TreeBuilder> {
    const where = `${this.sidecar.dir}: the stored hashes do not give the last checkpoint's root`;
    if (source === undefined) throw new SealError(`${where}, and there is no log to recompute them from`);
    for (const level of this.sidecar.storedLevels()) await this.sidecar.truncateLevel(level, 0);
    const builder = TreeBuilder.empty();
    let batch: Buffer[] = [];
    const write = async (): Promise<void> => {
      for (const { level, hashes } of builder.append(batch)) await this.sidecar.appendHashes(level, hashes);
      batch = [];
    };
    for await (const data of source(point.bytes)) {
      batch.push(leafHash(data));
      if (batch.length >= 4096) await write();
    }
    await write();
    if (builder.size !== point.size || !builder.root().equals(point.root)) {
      throw new SealError(
        `${where}, nor do the log's first ${point.bytes} bytes (${builder.size} lines): the log changed; run livetrail verify`,
      );
    }
    return builder;
  }
}

function prevOf(meta: SidecarMeta): SealPoint["prev"] {
  const prev = meta.prevPoint;
  return prev === undefined ? null : { size: prev.size, root: Buffer.from(prev.root, "base64") };
}

function defaultOrigin(signer: NoteSigner, dir: string): string {
  const log = basename(dir).replace(/\.seal$/, "");
  return `livetrail/${signer.name}/${log}`;
}

export function hex8(id: number): string {
  return id.toString(16).padStart(8, "0");
}
