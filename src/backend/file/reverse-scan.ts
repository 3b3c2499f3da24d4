import type { FileHandle } from "node:fs/promises";

const LF = 10;
export const DEFAULT_SCAN_BLOCK_BYTES = 64 * 1024;

/**
 * Offset where the last `n` complete lines before `end` begin, found by reading backwards in blocks, so the tail of
 * a huge file costs only the bytes of its tail. Bytes after the last LF before `end` (a partial line) are not
 * counted. n = 0 gives the end of the last complete line; fewer than n lines gives 0.
 */
export async function lineStartBefore(
  handle: FileHandle,
  end: number,
  n: number,
  blockBytes = DEFAULT_SCAN_BLOCK_BYTES,
): Promise<number> {
  // The first LF found ends the last complete line; n more LFs back, the n-th last line begins.
  let wanted = n + 1;
  const block = Buffer.allocUnsafe(Math.min(blockBytes, Math.max(end, 1)));
  let pos = end;
  while (pos > 0) {
    const length = Math.min(block.length, pos);
    pos -= length;
    let got = 0;
    while (got < length) {
      const { bytesRead } = await handle.read(block, got, length - got, pos + got);
      if (bytesRead === 0) break;
      got += bytesRead;
    }
    // A file that shrank under us ends earlier: scan what is there.
    let i = got;
    while (i > 0) {
      const lf = block.lastIndexOf(LF, i - 1);
      if (lf < 0) break;
      if (--wanted === 0) return pos + lf + 1;
      i = lf;
    }
  }
  return 0;
}

/** Whether offset is a line boundary: the start of the file or just after an LF (a valid cursor position). */
export async function isLineBoundary(handle: FileHandle, offset: number): Promise<boolean> {
  if (offset === 0) return true;
  const byte = Buffer.alloc(1);
  const { bytesRead } = await handle.read(byte, 0, 1, offset - 1);
  return bytesRead === 1 && byte[0] === LF;
}
