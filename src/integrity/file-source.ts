import type { FileHandle } from "node:fs/promises";
import { open, readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { MAX_FP_LEN } from "../backend/file/file-cursor.js";
import { identify } from "../backend/file/file-identity.js";

/**
 * A log file's identity in a checkpoint: `<fileId>.<fpLen>`, the file backend's own (device + inode + a
 * fingerprint of the first fpLen bytes, file-identity.ts), so the sealed history names the same file a cursor
 * does. The fingerprint covers only sealed bytes (at most 256), so a verifier can recompute it from the file.
 */
export async function fileIdentity(handle: FileHandle, sealedBytes: number): Promise<string> {
  const identity = await identify(handle, Math.min(sealedBytes, MAX_FP_LEN));
  return `${identity.fileId}.${identity.fpLen}`;
}

/** Whether an identity from a checkpoint names this open file (the same inode with the same first bytes). */
export async function isSameFile(handle: FileHandle, identity: string): Promise<boolean> {
  const [fileId, fpLen] = identity.split(".");
  const n = Number(fpLen);
  if (!Number.isSafeInteger(n) || n < 0 || n > MAX_FP_LEN) return false;
  return (await identify(handle, n)).fileId === fileId;
}

/**
 * The file in `dir` (a rotated log's new name: AUDIT.log.1, ...) that `identity` names, or null. Only regular
 * files are looked at; a compressed rotation has a new inode and is not found.
 */
export async function findFileByIdentity(dir: string, identity: string): Promise<string | null> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return null;
  }
  for (const name of names) {
    const path = join(dir, name);
    let handle: FileHandle;
    try {
      // Opening a FIFO for reading would block: regular files only.
      if (!(await stat(path)).isFile()) continue;
      handle = await open(path, "r");
    } catch {
      continue;
    }
    try {
      if (await isSameFile(handle, identity)) return path;
    } finally {
      await handle.close();
    }
  }
  return null;
}
