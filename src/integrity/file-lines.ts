import type { FileHandle } from "node:fs/promises";

/**
 * A file's lines as exact bytes, from a byte offset: each line without its LF (a CR before it stays), with the
 * offset after it. Only complete lines, unless `final` (the file is done: its unterminated last line counts).
 * Reads in bounded chunks; a line is held whole (a leaf hashes all of it), so memory is the longest line.
 * A line's `data` may share the read buffer: it is valid until the next line is pulled (hash it, do not keep it).
 */

export interface FileLine {
  data: Buffer;
  /** Offset just after the line (after its LF; the file's end for an unterminated last line). */
  end: number;
}

const CHUNK_BYTES = 1024 * 1024;

export async function* fileLines(
  handle: FileHandle,
  from: number,
  options: { to?: number; final?: boolean } = {},
): AsyncGenerator<FileLine> {
  for await (const batch of fileLineBatches(handle, from, options)) yield* batch;
}

/**
 * The same lines, a read's worth at a time (one await per chunk instead of per line: sealing a million lines
 * line by line through an async generator costs more than hashing them). A batch's `data` is valid until the
 * next batch is pulled.
 */
export async function* fileLineBatches(
  handle: FileHandle,
  from: number,
  options: { to?: number; final?: boolean } = {},
): AsyncGenerator<FileLine[]> {
  const to = options.to ?? Number.POSITIVE_INFINITY;
  let carry: Buffer[] = [];
  let at = from;
  while (at < to) {
    // The previous batch may still be referenced by the caller until it pulls this one: read into a fresh buffer.
    const chunk = Buffer.allocUnsafe(CHUNK_BYTES);
    const { bytesRead } = await handle.read(chunk, 0, Math.min(CHUNK_BYTES, to - at), at);
    if (bytesRead === 0) break;
    const data = chunk.subarray(0, bytesRead);
    const batch: FileLine[] = [];
    let lineFrom = 0;
    for (let lf = data.indexOf(0x0a); lf !== -1; lf = data.indexOf(0x0a, lineFrom)) {
      const piece = data.subarray(lineFrom, lf);
      batch.push({ data: carry.length === 0 ? piece : Buffer.concat([...carry, piece]), end: at + lf + 1 });
      carry = [];
      lineFrom = lf + 1;
    }
    if (lineFrom < bytesRead) carry.push(Buffer.from(data.subarray(lineFrom)));
    at += bytesRead;
    if (batch.length > 0) yield batch;
  }
  if (options.final && carry.length > 0) yield [{ data: Buffer.concat(carry), end: at }];
}
