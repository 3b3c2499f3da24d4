import { open } from "node:fs/promises";
import type { Line } from "../../core/line.js";
import { decodeCursor } from "./file-cursor.js";
import { identify, isMissing } from "./file-identity.js";

/**
 * Reads lines' source bytes (`start` to `end`, terminator included; at most `limit` of each) from the file at
 * `path`, when it is still the file each line's cursor names and still holds the line, else null for that line:
 * one open per call, one pread per line. For the rare lines whose text is not their bytes (the file backend's
 * exactBytes, the ship agent).
 */
export async function readLineBytes(
  path: string,
  lines: readonly Line[],
  limit = Number.POSITIVE_INFINITY,
): Promise<(Buffer | null)[]> {
  const out: (Buffer | null)[] = lines.map(() => null);
  if (lines.length === 0) return out;
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, "r");
  } catch (error) {
    if (isMissing(error)) return out;
    throw error;
  }
  try {
    const size = (await handle.stat()).size;
    const sameFile = new Map<string, boolean>();
    for (const [i, line] of lines.entries()) {
      const at = decodeCursor(line.cursor);
      const key = `${at.fileId}.${at.fpLen}`;
      let same = sameFile.get(key);
      if (same === undefined) {
        same = (await identify(handle, at.fpLen)).fileId === at.fileId;
        sameFile.set(key, same);
      }
      if (!same || line.end > size) continue;
      const bytes = Buffer.allocUnsafe(Math.min(limit, line.end - line.start));
      const { bytesRead } = await handle.read(bytes, 0, bytes.length, line.start);
      if (bytesRead === bytes.length) out[i] = bytes;
    }
  } finally {
    await handle.close();
  }
  return out;
}
