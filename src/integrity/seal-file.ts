import { type FileHandle, open } from "node:fs/promises";
import { dirname } from "node:path";
import { fileLineBatches } from "./file-lines.js";
import { fileIdentity, findFileByIdentity, isSameFile } from "./file-source.js";
import { leafHash, TreeBuilder } from "./merkle.js";
import type { SealKey } from "./seal-key.js";
import type { SealPoint } from "./seal-point.js";
import { DEFAULT_EVERY_LINES, SealError, Sealer, type SealerOptions } from "./sealer.js";
import { sidecarPath } from "./sidecar.js";

/**
 * Catch-up sealing of a log file: seals what the file holds beyond its sidecar's last checkpoint, whole lines
 * only (a line still being written waits for its LF), a checkpoint every `everyLines` lines and one at the end.
 * It runs under the sidecar's lock and reads the file itself, so any number of processes may call it at once
 * (`livetrail log --seal-key` after each write, `serve --seal-key`): each seals what the last one left.
 *
 * When the path names another file than the one sealed (a rotation), the old file is looked for by its identity
 * among its siblings (AUDIT.log.1, ...); if found, its remaining lines are sealed (the unterminated last one too:
 * the file is final), then its sidecar is archived as `<sidecar>.<fileId>` and the new file's history starts,
 * linked to the old one's final root (see Sealer.rotate). If the old file is not there, the new one must start
 * with the sealed lines (a copy: the history goes on); anything else is refused, since an edit that replaces
 * the file (sed -i) looks the same.
 */

export interface SealFileOptions extends SealerOptions {
  everyLines?: number;
  /** The file is done (rotated away, closed for good): its unterminated last line is sealed too. */
  final?: boolean;
}

export interface SealResult {
  sidecar: string;
  /** Lines and bytes sealed in total, after this call. */
  size: number;
  bytes: number;
  /** Lines this call sealed, and the checkpoints it wrote. */
  added: number;
  checkpoints: number;
  /** The archived sidecar of the file a rotation replaced, when this call noticed one. */
  rotated: string | null;
}

export async function sealFile(
  path: string,
  key: SealKey,
  options: SealFileOptions = {},
): Promise<SealResult> {
  const handle = await open(path, "r");
  try {
    const stat = await handle.stat({ bigint: true });
    const file = { dev: String(stat.dev), ino: String(stat.ino) };
    const sealer = await Sealer.open(sidecarPath(path), key, { ...options, file });
    try {
      return await sealer.locked(
        () => sealOpenFile(sealer, path, handle, file, options),
        (bytes) => leavesOf(handle, bytes),
      );
    } finally {
      await sealer.close();
    }
  } finally {
    await handle.close();
  }
}

async function sealOpenFile(
  sealer: Sealer,
  path: string,
  handle: FileHandle,
  file: { dev: string; ino: string },
  options: SealFileOptions,
): Promise<SealResult> {
  const result: SealResult = {
    sidecar: sealer.dir,
    size: 0,
    bytes: 0,
    added: 0,
    checkpoints: 0,
    rotated: null,
  };
  const last = sealer.last;
  const sameInode = sealer.meta.file?.dev === file.dev && sealer.meta.file?.ino === file.ino;
  if (last !== null && sameInode) await checkNotTruncated(handle, last.bytes);
  if (last !== null && !(await isSameFile(handle, last.identity))) {
    if (sameInode) {
      throw new SealError(
        `${path}: its first bytes are not the ones sealed (checkpoint ${last.seq}); refusing to seal: run livetrail verify`,
      );
    }
    const old = await findFileByIdentity(dirname(path), last.identity);
    if (old !== null) {
      const oldHandle = await open(old, "r");
      try {
        await sealLines(sealer, oldHandle, { ...options, final: true }, result);
      } finally {
        await oldHandle.close();
      }
      result.rotated = await sealer.rotate(file);
    } else if (!(await startsWithSealed(handle, last))) {
      // Not a rotation we can see (the sealed file is gone), and not the sealed content either: an edit that
      // replaced the file (sed -i, an editor) looks exactly like this, so it is never taken for a new history.
      throw new SealError(
        `${path} is not the sealed file (checkpoint ${last.seq}), does not start with the sealed lines, and the sealed ` +
          `file is not next to it: run livetrail verify; to start a new history, move ${sealer.dir} away`,
      );
    }
    // Else the same lines in a new file (a copy, an editor's save): the history goes on in this sidecar.
  }
  await sealLines(sealer, handle, options, result);
  result.size = sealer.size;
  result.bytes = sealer.bytes;
  return result;
}

/** Seals the open file's lines after the sealed offset; a checkpoint each `everyLines` and at the end. */
async function sealLines(
  sealer: Sealer,
  handle: FileHandle,
  options: SealFileOptions,
  result: SealResult,
): Promise<void> {
  const everyLines = options.everyLines ?? DEFAULT_EVERY_LINES;
  const from = sealer.bytes;
  const size = await checkNotTruncated(handle, from);
  if (from > 0 && size > from && !(await endsLine(handle, from))) {
    throw new SealError(`the line sealed unterminated at byte ${from} has grown since; run livetrail verify`);
  }
  const checkpoint = async (): Promise<void> => {
    await sealer.checkpoint(await fileIdentity(handle, sealer.bytes));
    result.checkpoints++;
  };
  for await (const batch of fileLineBatches(handle, from, { to: size, final: options.final === true })) {
    for (const line of batch) {
      sealer.add(line.data, line.end);
      result.added++;
      if (sealer.unsealed >= everyLines) await checkpoint();
    }
  }
  if (sealer.unsealed > 0) await checkpoint();
}

/** Whether the file's first `point.bytes` bytes are the `point.size` lines sealed with `point.root`. */
async function startsWithSealed(handle: FileHandle, point: SealPoint): Promise<boolean> {
  if ((await handle.stat()).size < point.bytes) return false;
  const builder = TreeBuilder.empty();
  for await (const lines of fileLineBatches(handle, 0, { to: point.bytes, final: true })) {
    builder.append(lines.map((line) => leafHash(line.data)));
  }
  return builder.size === point.size && builder.root().equals(point.root);
}

async function checkNotTruncated(handle: FileHandle, sealed: number): Promise<number> {
  const size = (await handle.stat()).size;
  if (size < sealed) {
    throw new SealError(
      `the file is ${size} bytes, shorter than the ${sealed} bytes sealed (truncated below a checkpoint); run livetrail verify`,
    );
  }
  return size;
}

async function endsLine(handle: FileHandle, offset: number): Promise<boolean> {
  const byte = Buffer.alloc(1);
  const { bytesRead } = await handle.read(byte, 0, 1, offset - 1);
  return bytesRead === 1 && byte[0] === 0x0a;
}

async function* leavesOf(handle: FileHandle, bytes: number): AsyncGenerator<Buffer> {
  for await (const batch of fileLineBatches(handle, 0, { to: bytes, final: true })) {
    for (const line of batch) yield line.data;
  }
}
