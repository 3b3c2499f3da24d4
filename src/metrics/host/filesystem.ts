import { statfs } from "node:fs/promises";

/** The filesystem holding a directory (the state or log directory): its size and what is left. */
export interface FilesystemUsage {
  path: string;
  sizeBytes: number;
  /** Free to unprivileged users (f_bavail, as `df` shows "Avail"). */
  freeBytes: number;
  /** Size minus all free blocks (f_bfree): what `df` shows as "Used". */
  usedBytes: number;
}

export async function readFilesystem(path: string): Promise<FilesystemUsage> {
  const s = await statfs(path);
  return {
    path,
    sizeBytes: s.blocks * s.bsize,
    freeBytes: s.bavail * s.bsize,
    usedBytes: (s.blocks - s.bfree) * s.bsize,
  };
}
