import { open } from "node:fs/promises";
import { fileLines } from "../../integrity/file-lines.js";
import { leafHash, TreeBuilder } from "../../integrity/merkle.js";
import { HASH_SIZE, type HashStore } from "../../integrity/tiles.js";
import type { CheckpointEntry } from "./sealed-log.js";

/** What a check of the log against its newest checkpoint found. */
export interface FileCheck {
  /** Lines that hash to the sealed leaves, from the first (all of them when `finding` is null). */
  verifiedTo: number;
  finding: string | null;
}

const CHUNK = 4096;

/**
 * Recomputes the tree over the file's first `bytes` (as the newest checkpoint binds them) and compares it with
 * the signed root; when it differs, the stored leaf hashes locate the first line that changed. This is the
 * server's quick re-check when it notices the file changed under it; `livetrail verify` checks every checkpoint.
 */
export async function checkFile(
  path: string,
  store: HashStore,
  newest: CheckpointEntry,
  covering: (line: number) => CheckpointEntry | undefined,
): Promise<FileCheck> {
  const { point } = newest;
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, "r");
  } catch (error) {
    return { verifiedTo: 0, finding: `the log cannot be read (${(error as NodeJS.ErrnoException).code})` };
  }
  try {
    const size = (await handle.stat()).size;
    if (size < point.bytes) {
      return {
        verifiedTo: 0,
        finding:
          `truncated below a checkpoint: the file is ${size} bytes, checkpoint ${point.seq} sealed ` +
          `${point.bytes} bytes (${point.size} lines)`,
      };
    }
    const builder = TreeBuilder.empty();
    let sealed: Buffer = Buffer.alloc(0);
    let sealedFrom = 0;
    let line = 0;
    let start = 0;
    let firstDiff: { line: number; offset: number } | null = null;
    for await (const { data, end } of fileLines(handle, 0, { to: point.bytes, final: true })) {
      const leaf = leafHash(data);
      builder.append([leaf]);
      if (firstDiff === null && line < point.size) {
        if (line >= sealedFrom + sealed.length / HASH_SIZE) {
          sealedFrom = line;
          sealed = await store.readHashes(0, line, Math.min(CHUNK, point.size - line));
        }
        const at = (line - sealedFrom) * HASH_SIZE;
        if (!leaf.equals(sealed.subarray(at, at + HASH_SIZE))) firstDiff = { line: line + 1, offset: start };
      }
      line++;
      start = end;
    }
    if (firstDiff !== null) {
      const cp = covering(firstDiff.line);
      return {
        verifiedTo: firstDiff.line - 1,
        finding:
          `line ${firstDiff.line} (byte ${firstDiff.offset}) is not the line sealed` +
          (cp === undefined ? "" : ` by checkpoint ${cp.point.seq} (${cp.point.time})`),
      };
    }
    if (line !== point.size) {
      return {
        verifiedTo: Math.min(line, point.size),
        finding:
          `the sealed ${point.bytes} bytes now hold ${line} lines, checkpoint ${point.seq} sealed ` +
          `${point.size}: lines ${line < point.size ? "deleted" : "inserted"}`,
      };
    }
    if (!builder.root().equals(point.root)) {
      return {
        verifiedTo: 0,
        finding: `the lines do not give checkpoint ${point.seq}'s root (the sidecar's hashes were changed too)`,
      };
    }
    return { verifiedTo: point.size, finding: null };
  } finally {
    await handle.close();
  }
}
