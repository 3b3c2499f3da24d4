import { open, stat } from "node:fs/promises";
import { join } from "node:path";
import { setImmediate as yieldToLoop } from "node:timers/promises";
import { parseCheckpointLog } from "../../integrity/checkpoint-log.js";
import type { NoteVerifier } from "../../integrity/note.js";
import { encodeConsistencyProof, encodeInclusionProof } from "../../integrity/proof-format.js";
import { consistencyProof, inclusionProof } from "../../integrity/proofs.js";
import { parseSealPointNote, readSealPoint, type SealPoint } from "../../integrity/seal-point.js";
import { parseTilePath, readTile, storedCount, TILE_WIDTH } from "../../integrity/tiles.js";
import { LevelFiles } from "./level-files.js";

/** One signed checkpoint of the log: the note as stored and what it says. */
export interface CheckpointEntry {
  note: string;
  point: SealPoint;
}

/** A proof or tile asked for something the sealed tree does not hold; `code` is the HTTP error to answer with. */
export class ProofRangeError extends Error {
  override name = "ProofRangeError";
  constructor(
    message: string,
    readonly code: "bad_proof_range" | "not_sealed" | "unknown_checkpoint" = "bad_proof_range",
  ) {
    super(message);
  }
}

/**
 * The read side of a sidecar, for serving: its checkpoints (read incrementally as the sealer appends them) and
 * proofs, tiles from its hash levels. Each new checkpoint is checked as it is read (signature when a log key is
 * known, sequence, size never shrinking); a checkpoint that fails is a finding, not an exception.
 */
export class SealedLog {
  private readonly entries: CheckpointEntry[] = [];
  private readLength = 0;
  private dirIno = -1;
  private fileIno = -1;
  private store: LevelFiles;
  /** The refresh in progress: one at a time, or two would both add the records past readLength (as replays). */
  private reading: Promise<unknown> = Promise.resolve();
  /** Why the checkpoints cannot be trusted, once something wrong was read; null while they are fine. */
  finding: string | null = null;

  constructor(
    readonly dir: string,
    private readonly verifiers: readonly NoteVerifier[],
  ) {
    this.store = new LevelFiles(dir);
  }

  get newest(): CheckpointEntry | null {
    return this.entries.at(-1) ?? null;
  }

  get count(): number {
    return this.entries.length;
  }

  /** The checkpoint whose tree has `size` leaves (sizes only grow, so a binary search; the first of equals). */
  bySize(size: number): CheckpointEntry | undefined {
    let lo = 0;
    let hi = this.entries.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((this.entries[mid] as CheckpointEntry).point.size < size) lo = mid + 1;
      else hi = mid;
    }
    const found = this.entries[lo];
    return found?.point.size === size ? found : undefined;
  }

  /**
   * Reads checkpoints appended since the last call. Returns whether the newest changed. A sidecar directory that
   * was replaced (a rotation, or someone re-made it) is read again from the start; one that vanished reads as empty.
   * Calls made while one runs wait for it, then read what is new after it.
   */
  refresh(): Promise<boolean> {
    const read = this.reading.then(() => this.read());
    this.reading = read.catch(() => undefined);
    return read;
  }

  private async read(): Promise<boolean> {
    const before = this.newest;
    // The common case, once per request: nothing new. One stat: a replaced sidecar has a new checkpoints file.
    const now = await stat(join(this.dir, "checkpoints")).catch(() => null);
    if (now !== null && now.ino === this.fileIno && now.size === this.readLength) return false;
    // Another checkpoints file than the one read (the sidecar was re-made): read it from the start.
    if (now !== null && this.fileIno !== -1 && now.ino !== this.fileIno) this.reset(-1);
    this.fileIno = now?.ino ?? -1;
    let ino: number;
    try {
      ino = (await stat(this.dir)).ino;
    } catch {
      if (this.entries.length > 0) this.reset(-1);
      return before !== null;
    }
    if (ino !== this.dirIno) this.reset(ino);
    const path = join(this.dir, "checkpoints");
    let handle: Awaited<ReturnType<typeof open>>;
    try {
      handle = await open(path, "r");
    } catch {
      return this.newest !== before;
    }
    try {
      const size = (await handle.stat()).size;
      if (size < this.readLength) {
        this.finding ??= `the checkpoints file shrank from ${this.readLength} to ${size} bytes (checkpoints removed)`;
        return false;
      }
      if (size === this.readLength) return this.newest !== before;
      const data = Buffer.allocUnsafe(size - this.readLength);
      const { bytesRead } = await handle.read(data, 0, data.length, this.readLength);
      const log = parseCheckpointLog(data.subarray(0, bytesRead));
      const damaged = log.damaged[0];
      if (damaged !== undefined) {
        this.finding ??= `checkpoint record at byte ${this.readLength + damaged.offset} is damaged (${damaged.reason})`;
      }
      for (const [i, record] of log.records.entries()) {
        this.add(record.note);
        // A checkpoint's parse and signature check take ~0.14 ms: a backlog (a burst sealed in one round is a
        // thousand checkpoints) is read in slices, so the event loop that feeds clients is never held for long.
        if (i % 32 === 31) await yieldToLoop();
      }
      this.readLength += log.goodLength;
    } finally {
      await handle.close();
    }
    return this.newest !== before;
  }

  /** tlog-proof text: the audit path of 0-based leaf `index` to the newest checkpoint (or the one of `size`). */
  async inclusion(index: number, size?: number): Promise<string> {
    const entry = this.at(size);
    if (!Number.isSafeInteger(index) || index < 0 || index >= entry.point.size) {
      throw new ProofRangeError(
        `line ${index + 1} is not sealed (the checkpoint covers lines 1..${entry.point.size})`,
      );
    }
    const hashes = await inclusionProof(this.store, index, entry.point.size);
    return encodeInclusionProof({ index, hashes, checkpoint: entry.note });
  }

  /** tlog-witness add-checkpoint body: `old <from>`, the proof from `from` to `to`, the checkpoint of `to`. */
  async consistency(from: number, to?: number): Promise<string> {
    const entry = this.at(to);
    if (!Number.isSafeInteger(from) || from < 0 || from > entry.point.size) {
      throw new ProofRangeError(`from ${from} is not a size within 0..${entry.point.size}`);
    }
    const hashes = await consistencyProof(this.store, from, entry.point.size);
    return encodeConsistencyProof({ oldSize: from, hashes, checkpoint: entry.note });
  }

  /** A tlog-tiles tile (`tile/<L>/<N>[.p/<W>]`) within the newest checkpoint's tree. */
  async tile(path: string): Promise<Buffer> {
    const tile = parseTilePath(path);
    const size = this.at(undefined).point.size;
    const available = storedCount(tile.level, size) - tile.index * TILE_WIDTH;
    if (available < tile.width || (tile.width < TILE_WIDTH && available !== tile.width)) {
      throw new ProofRangeError(`${path} is not a tile of the tree of ${size}`);
    }
    return readTile(this.store, tile);
  }

  async close(): Promise<void> {
    await this.store.close();
  }

  private at(size: number | undefined): CheckpointEntry {
    const entry = size === undefined ? this.newest : this.bySize(size);
    if (entry === null) throw new ProofRangeError("nothing is sealed yet", "not_sealed");
    if (entry === undefined) throw new ProofRangeError(`no checkpoint of size ${size}`, "unknown_checkpoint");
    return entry;
  }

  private add(note: string): void {
    let point: SealPoint;
    try {
      point = this.verifiers.length > 0 ? readSealPoint(note, this.verifiers) : parseSealPointNote(note);
    } catch (error) {
      this.finding ??= `checkpoint ${this.entries.length + 1}: ${(error as Error).message}`;
      return;
    }
    const last = this.newest?.point;
    if (
      last !== undefined &&
      (point.seq !== last.seq + 1 || point.size < last.size || point.bytes < last.bytes)
    ) {
      this.finding ??=
        `checkpoint ${point.seq} (${point.size} lines) follows checkpoint ${last.seq} (${last.size} lines): ` +
        "checkpoints removed, reordered or replayed";
      return;
    }
    this.entries.push({ note, point });
  }

  private reset(ino: number): void {
    this.entries.length = 0;
    this.readLength = 0;
    this.dirIno = ino;
    this.finding = null;
    void this.store.close();
    this.store = new LevelFiles(this.dir);
  }
}
