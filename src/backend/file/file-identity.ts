import { createHash } from "node:crypto";
import { type FileHandle, open } from "node:fs/promises";
import { type CursorData, MAX_FP_LEN } from "./file-cursor.js";

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
 * Computes the identity of an open file or a path, fingerprinting fpLen head bytes (default min(size, 256)).
 * A file now shorter than a requested fpLen is fingerprinted over the bytes it has, and fpLen says so: its
 * fileId then matches no cursor made with the longer fpLen.
 */
export async function identify(file: FileHandle | string, fpLen?: number): Promise<FileIdentity> {
  if (typeof file === "string") {
    const handle = await open(file, "r");
    try {
      return (await fingerprint(handle, fpLen)).identity;
    } finally {
      await handle.close();
    }
  }
  return (await fingerprint(file, fpLen)).identity;
}

/** The identity and the head bytes it was computed from (a follower compares them to notice a rewritten head). */
export async function fingerprint(
  handle: FileHandle,
  fpLen?: number,
): Promise<{ identity: FileIdentity; head: Buffer }> {
  const stat = await handle.stat({ bigint: true });
  const head = await readHead(handle, fpLen ?? Math.min(Number(stat.size), MAX_FP_LEN));
  const identity = {
    dev: stat.dev,
    ino: stat.ino,
    fpLen: head.length,
    fileId: computeFileId(stat.dev, stat.ino, head),
  };
  return { identity, head };
}

/** Up to `length` bytes from the start of the file (fewer when it is shorter). */
export async function readHead(handle: FileHandle, length: number): Promise<Buffer> {
  const head = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const { bytesRead } = await handle.read(head, got, length - got, got);
    if (bytesRead === 0) break;
    got += bytesRead;
  }
  return got === length ? head : head.subarray(0, got);
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
