/** One line of a byte stream, cut at LF. Bytes are not decoded: callers decide what invalid UTF-8 means. */
export interface ByteLine {
  /** 1-based line number. */
  number: number;
  /** The line without its LF (a CR before it is kept); only the first maxBytes when the line was longer. */
  bytes: Buffer;
  /** The real length in bytes without the LF. */
  length: number;
  /** False only for a last line that ended without LF. */
  terminated: boolean;
}

/**
 * Reads a byte stream as lines, yielding the lines each chunk completed (so a consumer can handle them as
 * one batch). Memory stays bounded by the chunk size plus maxBytes, however long a line is.
 */
export async function* readLines(
  source: AsyncIterable<Buffer | string>,
  maxBytes: number,
): AsyncGenerator<ByteLine[]> {
  let parts: Buffer[] = [];
  let held = 0;
  let length = 0;
  let number = 0;

  const take = (piece: Buffer): void => {
    length += piece.length;
    const room = maxBytes - held;
    if (room <= 0) return;
    const kept = piece.length > room ? piece.subarray(0, room) : piece;
    // Copy: the source may reuse its buffer, and a slice would pin the whole chunk.
    parts.push(Buffer.from(kept));
    held += kept.length;
  };
  const finish = (terminated: boolean): ByteLine => {
    const line: ByteLine = { number: ++number, bytes: Buffer.concat(parts, held), length, terminated };
    parts = [];
    held = 0;
    length = 0;
    return line;
  };

  for await (const data of source) {
    const chunk = typeof data === "string" ? Buffer.from(data) : data;
    const lines: ByteLine[] = [];
    let from = 0;
    for (let lf = chunk.indexOf(0x0a, from); lf !== -1; lf = chunk.indexOf(0x0a, from)) {
      take(chunk.subarray(from, lf));
      lines.push(finish(true));
      from = lf + 1;
    }
    if (from < chunk.length) take(chunk.subarray(from));
    if (lines.length > 0) yield lines;
  }
  if (length > 0) yield [finish(false)];
}
