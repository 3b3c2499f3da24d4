import { createHash } from "node:crypto";
import { type FileHandle, open } from "node:fs/promises";
import { type CursorData, MAX_FP_LEN } from "./cursor.js";

/**
 * Which file a path names, independent of its name: device + inode + a fingerprint of its first bytes, so a
 * recycled inode number (delete, then a new file gets the same inode) is not mistaken for the same file.
 */
export interface FileIdentity {
  dev: bigint;
  ino: bigint;
  /** How many head bytes the fingerprint covers: min(size, 256) when computed. */
  fpLen: number;
  /** 12 hex chars of sha1(dev:ino:sha1(head)). */
  fileId: string;
}

/**
 * Computes the identity of an open file or a path. With fpLen given, fingerprints exactly that many head bytes;
 * a file now shorter than that yields an identity that matches no cursor made with fpLen (fileId of "short").
 */
export async function identify(file: FileHandle | string, fpLen?: number): Promise<FileIdentity> {
  if (typeof file === "string") {
    const handle = await open(file, "r");
    try {
      return await identify(handle, fpLen);
    } finally {
      await handle.close();
    }
  }
  const stat = await file.stat({ bigint: true });
  const want = fpLen ?? Math.min(Number(stat.size), MAX_FP_LEN);
  const head = Buffer.alloc(want);
  let got = 0;
  while (got < want) {
    const { bytesRead } = await file.read(head, got, want - got, got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  const fileId = got === want ? computeFileId(stat.dev, stat.ino, head) : "short";
  return { dev: stat.dev, ino: stat.ino, fpLen: want, fileId };
}

export function computeFileId(dev: bigint, ino: bigint, head: Uint8Array): string {
  const headHash = createHash("sha1").update(head).digest("hex");
  return createHash("sha1").update(`${dev}:${ino}:${headHash}`).digest("hex").slice(0, 12);
}

/** Whether the file at path is still the one the cursor names (fingerprint recomputed with the cursor's fpLen). */
export async function matches(path: string, cursor: CursorData): Promise<"same" | "changed" | "gone"> {
  let identity: FileIdentity;
  try {
    identity = await identify(path, cursor.fpLen);
  } catch (error) {
    if (isMissing(error)) return "gone";
    throw error;
  }
  return identity.fileId === cursor.fileId ? "same" : "changed";
}

/** ENOENT, or ENOTDIR when a parent path component is not a directory: either way, no file there. */
export function isMissing(error: unknown): boolean {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return code === "ENOENT" || code === "ENOTDIR";
}
