import { type BigIntStats, fstatSync, readSync, statSync } from "node:fs";
import { type FileHandle, stat, statfs } from "node:fs/promises";
import { isMissing, readHead } from "./file-identity.js";

/**
 * One look at a followed file: which file the path names, the open file's size and head bytes, and the first
 * read of new bytes. These are four tiny calls on the latency path (an fs.watch event to the lines it reveals).
 * Through the libuv threadpool they cost four thread hand-offs (~0.3 ms on a busy 2-core box); on a local file
 * system the same calls made synchronously return in microseconds from the page cache, so they run that way there.
 * Elsewhere (network and FUSE file systems, which can stall for seconds) they stay asynchronous.
 */
export interface Look {
  /** The file the path names now, null when nothing is there. */
  pathStat: BigIntStats | null;
  /** The open file. */
  fileStat: BigIntStats;
  /** Its first `headLength` bytes (fewer when it is shorter). */
  head: Buffer;
  /** Bytes read into `buffer` from `offset`. */
  bytesRead: number;
}

export interface LookRequest {
  path: string;
  handle: FileHandle;
  headLength: number;
  buffer: Buffer;
  offset: number;
  /** Make the calls synchronously (only on a local file system, see isLocalFileSystem). */
  sync: boolean;
}

export async function look(request: LookRequest): Promise<Look> {
  const { path, handle, headLength, buffer, offset } = request;
  if (request.sync) {
    const fd = handle.fd;
    return {
      pathStat: statOrNullSync(path),
      fileStat: fstatSync(fd, { bigint: true }),
      head: readHeadSync(fd, headLength),
      bytesRead: readSync(fd, buffer, 0, buffer.length, offset),
    };
  }
  const [pathStat, fileStat, head, read] = await Promise.all([
    statOrNull(path),
    handle.stat({ bigint: true }),
    readHead(handle, headLength),
    handle.read(buffer, 0, buffer.length, offset),
  ]);
  return { pathStat, fileStat, head, bytesRead: read.bytesRead };
}

// statfs(2) f_type of disk and memory file systems (linux/magic.h): ext2/3/4, xfs, btrfs, tmpfs, overlayfs, zfs,
// f2fs, ramfs. Anything else (NFS, SMB, FUSE, 9p, other platforms' numbering) counts as possibly slow.
const LOCAL_FILE_SYSTEMS = new Set([
  0xef53, 0x58465342, 0x9123683e, 0x01021994, 0x794c7630, 0x2fc12fc1, 0xf2f52010, 0x858458f6,
]);

/** Whether the path is on a file system where small synchronous calls cannot stall (false when unknown). */
export async function isLocalFileSystem(path: string): Promise<boolean> {
  try {
    return LOCAL_FILE_SYSTEMS.has((await statfs(path)).type);
  } catch {
    return false;
  }
}

async function statOrNull(path: string): Promise<BigIntStats | null> {
  try {
    return await stat(path, { bigint: true });
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }
}

function statOrNullSync(path: string): BigIntStats | null {
  try {
    return statSync(path, { bigint: true });
  } catch (error) {
    if (isMissing(error)) return null;
    throw error;
  }
}

function readHeadSync(fd: number, length: number): Buffer {
  const head = Buffer.alloc(length);
  let got = 0;
  while (got < length) {
    const n = readSync(fd, head, got, length - got, got);
    if (n === 0) break;
    got += n;
  }
  return got === length ? head : head.subarray(0, got);
}
