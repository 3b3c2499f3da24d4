import { constants } from "node:fs";
import { type FileHandle, mkdir, open, readFile, rename, rm, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { setTimeout as delay } from "node:timers/promises";
import { type CheckpointLog, frameRecord, parseCheckpointLog } from "./checkpoint-log.js";

/**
 * The store next to a log, `AUDIT.log.seal/`:
 * - `level-<L>.bin`: 32-byte hashes, append-only. Level 0 holds leaf hashes; entry i of level L is the hash of the
 *   complete subtree of 256^L leaves starting at leaf i·256^L (a tile row of C2SP tlog-tiles), so any proof or
 *   root needs at most 255 reads per level and no rehashing of lines.
 * - `checkpoints`: every signed checkpoint note, framed (checkpoint-log.ts).
 * - `meta.json`: origin, key name and ID, format version.
 * - `lock`: held by whoever seals (pid inside), so two processes never append at once.
 * Hashes are written before the checkpoint that covers them; what lies beyond the last checkpoint is not trusted on
 * open (see sealer.ts). Nothing in here is secret (the private key never is), but a leaf hash lets anyone confirm a
 * guess of a short line's content, so the files are 0600 and the directory 0700, like an audit log should be.
 */

export const HASH_BYTES = 32;
export const SIDECAR_VERSION = 1;
const LOCK_STALE_CHECK_MS = 50;
const FILE_MODE = 0o600;
/** The tail read for the last checkpoint record: a record is a few hundred bytes, at most 64 KiB. */
const TAIL_BYTES = 2 * 64 * 1024 + 64;
const DIR_MODE = 0o700;

export interface SidecarMeta {
  version: number;
  /** The checkpoint origin line: names this log in every checkpoint. */
  origin: string;
  /** The signer's key name and 8-hex key ID (C2SP signed-note), for telling a wrong key from a bad signature. */
  keyName: string;
  keyId: string;
  /** The sealed file's device and inode (decimal), to tell a rotation (new inode) from a rewritten head. */
  file?: { dev: string; ino: string };
  /** For the file after a rotation: the rotated file's sidecar (a sibling directory) and its final checkpoint. */
  prevSidecar?: string;
  prevPoint?: { size: number; root: string };
}

/** Where a log's sidecar lives: beside it, named after it. */
export function sidecarPath(logPath: string): string {
  return `${logPath}.seal`;
}

export class SidecarError extends Error {
  override name = "SidecarError";
}

export class Sidecar {
  private readonly levels = new Map<number, FileHandle>();
  private readonly counts = new Map<number, number>();
  private checkpointsHandle: FileHandle | null = null;
  /** The directory's inode when opened: a rotation renames it away and makes a new one. */
  private dirIno = -1;

  private constructor(
    readonly dir: string,
    readonly meta: SidecarMeta,
    private readonly writable: boolean,
  ) {}

  /** Opens an existing sidecar for reading (verify, proofs). Throws SidecarError when there is none. */
  static async openReadOnly(dir: string): Promise<Sidecar> {
    const sidecar = new Sidecar(dir, await readMeta(dir), false);
    await sidecar.loadCounts();
    sidecar.dirIno = (await stat(dir)).ino;
    return sidecar;
  }

  /**
   * Opens a sidecar for sealing, creating it with `meta` when missing. An existing one must carry the same
   * origin and key (a different key would make its history unverifiable with one public key).
   */
  static async openForSealing(dir: string, meta: SidecarMeta): Promise<Sidecar> {
    let existing = await readMetaIfAny(dir);
    if (existing === null) {
      await createSidecarDir(dir, meta, false);
      existing = (await readMetaIfAny(dir)) ?? meta;
    }
    if (existing.keyId !== meta.keyId || existing.keyName !== meta.keyName) {
      throw new SidecarError(
        `${dir} is sealed with key ${existing.keyName}+${existing.keyId}, not ${meta.keyName}+${meta.keyId}`,
      );
    }
    const sidecar = new Sidecar(dir, existing, true);
    await sidecar.loadCounts();
    sidecar.dirIno = (await stat(dir)).ino;
    return sidecar;
  }

  /**
   * Starts a fresh sidecar at `dir` after a rotation moved the old one away: made complete (meta.json and our
   * lock inside) under a temporary name, then renamed into place, so nobody sees it half made.
   */
  static async replaceAfterRotation(dir: string, meta: SidecarMeta): Promise<Sidecar> {
    await createSidecarDir(dir, meta, true);
    return Sidecar.openForSealing(dir, meta);
  }

  /** Hashes stored at a level (whole 32-byte entries; a torn partial entry does not count). */
  count(level: number): number {
    return this.counts.get(level) ?? 0;
  }

  /** HashStore: `count` hashes of `level` from index `start`, concatenated. */
  async readHashes(level: number, start: number, count: number): Promise<Buffer> {
    if (count === 0) return Buffer.alloc(0);
    if (start < 0 || start + count > this.count(level)) {
      throw new SidecarError(
        `level ${level} holds ${this.count(level)} hashes; ${start}..${start + count - 1} asked`,
      );
    }
    const handle = await this.level(level);
    const out = Buffer.allocUnsafe(count * HASH_BYTES);
    let got = 0;
    while (got < out.length) {
      const { bytesRead } = await handle.read(out, got, out.length - got, start * HASH_BYTES + got);
      if (bytesRead === 0) throw new SidecarError(`level ${level} ends early`);
      got += bytesRead;
    }
    return out;
  }

  /** Appends whole hashes to a level (hashes.length a multiple of 32). */
  async appendHashes(level: number, hashes: Buffer): Promise<void> {
    if (hashes.length === 0) return;
    const handle = await this.level(level);
    const at = this.count(level) * HASH_BYTES;
    let done = 0;
    while (done < hashes.length) {
      const { bytesWritten } = await handle.write(hashes, done, hashes.length - done, at + done);
      done += bytesWritten;
    }
    this.counts.set(level, this.count(level) + hashes.length / HASH_BYTES);
  }

  /** Cuts a level back to `count` hashes (recovery after a crash; never below what a checkpoint covers). */
  async truncateLevel(level: number, count: number): Promise<void> {
    const handle = await this.level(level);
    await handle.truncate(count * HASH_BYTES);
    this.counts.set(level, count);
  }

  /** Levels that have a file. */
  storedLevels(): number[] {
    return [...this.counts.keys()].sort((a, b) => a - b);
  }

  async readCheckpoints(): Promise<CheckpointLog> {
    let data: Buffer;
    try {
      data = await readFile(join(this.dir, "checkpoints"));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "ENOENT") throw error;
      data = Buffer.alloc(0);
    }
    return parseCheckpointLog(data);
  }

  /**
   * The last checkpoint record, read from the file's tail only (a log sealed after every entry has a record per
   * entry: reading them all on every seal would grow without bound). Also where the good records end and how long
   * a torn tail after them is. Null when no record parses in the tail.
   */
  async lastCheckpoint(): Promise<{ note: string; goodLength: number; tornBytes: number } | null> {
    const size = await this.checkpointsLength();
    if (size === 0) return null;
    const handle = await open(join(this.dir, "checkpoints"), "r");
    try {
      const from = Math.max(0, size - TAIL_BYTES);
      const tail = Buffer.alloc(size - from);
      await handle.read(tail, 0, tail.length, from);
      // The last record is the last header from which everything to the end parses.
      for (
        let at = tail.lastIndexOf("LTCP ", tail.length, "latin1");
        at !== -1;
        at = tail.lastIndexOf("LTCP ", at - 1, "latin1")
      ) {
        const log = parseCheckpointLog(tail.subarray(at));
        const last = log.records.at(-1);
        if (last !== undefined && log.damaged.length === 0) {
          return { note: last.note, goodLength: from + at + log.goodLength, tornBytes: log.tornBytes };
        }
        if (at === 0) break;
      }
      return null;
    } finally {
      await handle.close();
    }
  }

  /** Bytes in the checkpoints file now. */
  async checkpointsLength(): Promise<number> {
    try {
      return (await stat(join(this.dir, "checkpoints"))).size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return 0;
      throw error;
    }
  }

  /** Whether the path now names another directory than the one opened (the log was rotated by someone else). */
  async replaced(): Promise<boolean> {
    try {
      return (await stat(this.dir)).ino !== this.dirIno;
    } catch {
      return true;
    }
  }

  /** Appends one signed note as a record. */
  async appendCheckpoint(note: string): Promise<void> {
    const handle = await this.checkpoints();
    const record = frameRecord(note);
    let done = 0;
    while (done < record.length) {
      const { bytesWritten } = await handle.write(record, done, record.length - done, null);
      done += bytesWritten;
    }
  }

  /** Cuts the checkpoints file to `length` bytes (a torn last record). */
  async truncateCheckpoints(length: number): Promise<void> {
    await (await this.checkpoints()).truncate(length);
  }

  /** Flushes the hash files to disk, then the checkpoints: a checkpoint never reaches the disk before its hashes. */
  async sync(): Promise<void> {
    for (const handle of this.levels.values()) await handle.datasync();
    await this.checkpointsHandle?.datasync();
  }

  async close(): Promise<void> {
    const handles = [...this.levels.values()];
    this.levels.clear();
    if (this.checkpointsHandle) handles.push(this.checkpointsHandle);
    this.checkpointsHandle = null;
    await Promise.all(handles.map((h) => h.close().catch(() => undefined)));
  }

  /**
   * Takes the sidecar's lock: a `lock` file made with O_EXCL holding our pid. A lock whose pid no longer runs
   * (its process crashed) is taken over. Returns the release function.
   */
  async lock(timeoutMs = 30_000): Promise<() => Promise<void>> {
    const path = join(this.dir, "lock");
    const began = Date.now();
    for (;;) {
      try {
        await createLock(path);
        return () => rm(path, { force: true });
      } catch (error) {
        const code = (error as NodeJS.ErrnoException).code;
        // ENOENT: the directory is being rotated (renamed away, its successor not made yet): wait for it.
        if (code !== "EEXIST" && code !== "ENOENT") throw error;
      }
      if (await holderIsGone(path)) {
        await rm(path, { force: true });
        continue;
      }
      if (Date.now() - began > timeoutMs) throw new SidecarError(`${path}: still held after ${timeoutMs} ms`);
      await delay(2 + Math.random() * 5);
    }
  }

  private async level(level: number): Promise<FileHandle> {
    let handle = this.levels.get(level);
    if (handle === undefined) {
      // Positioned writes (not O_APPEND): a torn partial hash at the end is overwritten, not appended after.
      const flags = this.writable ? constants.O_RDWR | constants.O_CREAT : "r";
      handle = await open(join(this.dir, `level-${level}.bin`), flags, FILE_MODE);
      this.levels.set(level, handle);
      if (!this.counts.has(level)) this.counts.set(level, 0);
    }
    return handle;
  }

  private async checkpoints(): Promise<FileHandle> {
    if (!this.writable) throw new SidecarError("the sidecar is open read-only");
    this.checkpointsHandle ??= await open(join(this.dir, "checkpoints"), "a+", FILE_MODE);
    return this.checkpointsHandle;
  }

  /** Re-reads how many hashes each level holds (another process may have sealed since). */
  async loadCounts(): Promise<void> {
    for (let level = 0; ; level++) {
      let size: number;
      try {
        size = (await stat(join(this.dir, `level-${level}.bin`))).size;
      } catch (error) {
        if ((error as NodeJS.ErrnoException).code === "ENOENT") return;
        throw error;
      }
      this.counts.set(level, Math.floor(size / HASH_BYTES));
    }
  }
}

async function readMetaIfAny(dir: string): Promise<SidecarMeta | null> {
  try {
    return await readMeta(dir);
  } catch (error) {
    if (error instanceof SidecarError && (error.cause as NodeJS.ErrnoException)?.code === "ENOENT")
      return null;
    throw error;
  }
}

/** Makes the directory with its meta.json (and, when `locked`, our lock) atomically; a racing twin wins quietly. */
async function createSidecarDir(dir: string, meta: SidecarMeta, locked: boolean): Promise<void> {
  const tmp = `${dir}.tmp-${process.pid}-${Date.now()}`;
  await mkdir(tmp, { recursive: true, mode: DIR_MODE });
  await writeFile(join(tmp, "meta.json"), `${JSON.stringify(meta, null, 2)}\n`, { mode: FILE_MODE });
  if (locked) await createLock(join(tmp, "lock"));
  try {
    await rename(tmp, dir);
  } catch (error) {
    await rm(tmp, { recursive: true, force: true });
    const code = (error as NodeJS.ErrnoException).code;
    if (code !== "EEXIST" && code !== "ENOTEMPTY") throw error;
  }
}

async function createLock(path: string): Promise<void> {
  const handle = await open(path, "wx", FILE_MODE);
  try {
    await handle.writeFile(`${process.pid}\n`);
  } finally {
    await handle.close();
  }
}

async function readMeta(dir: string): Promise<SidecarMeta> {
  let text: string;
  try {
    text = await readFile(join(dir, "meta.json"), "utf8");
  } catch (error) {
    throw new SidecarError(`${dir}: no sidecar here (meta.json missing)`, { cause: error });
  }
  let meta: SidecarMeta;
  try {
    meta = JSON.parse(text) as SidecarMeta;
  } catch {
    throw new SidecarError(`${dir}/meta.json is not JSON`);
  }
  if (meta.version !== SIDECAR_VERSION || typeof meta.origin !== "string" || typeof meta.keyId !== "string") {
    throw new SidecarError(`${dir}/meta.json: not a version ${SIDECAR_VERSION} sidecar`);
  }
  return meta;
}

/** Whether the pid in a lock file names no running process (its holder died without releasing it). */
async function holderIsGone(path: string): Promise<boolean> {
  let pid: number;
  try {
    const text = await readFile(path, "utf8");
    // Written just after creation: an empty file is a holder between open and write.
    if (text === "") {
      const age = Date.now() - (await stat(path)).mtimeMs;
      return age > LOCK_STALE_CHECK_MS * 20;
    }
    pid = Number.parseInt(text, 10);
  } catch {
    return false; // gone meanwhile: the next attempt takes it
  }
  if (!Number.isSafeInteger(pid) || pid <= 0) return true;
  try {
    process.kill(pid, 0);
    return false;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "ESRCH";
  }
}
