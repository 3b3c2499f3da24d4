import { endianness } from "node:os";
import {
  BINARY_LINES_HEAD,
  BINARY_LINES_MAGIC,
  BINARY_LINES_VERSION,
  FLAG_ASCII,
} from "../protocol/lines-frame-binary.js";
import type { LinesFrame } from "../protocol/messages.js";

/** The columns are little-endian: written through a Uint32Array where the host is too (everywhere we run). */
const LITTLE_ENDIAN = endianness() === "LE";

/**
 * A LinesFrame as a binary lines frame (layout in protocol/lines-frame-binary.ts and docs/protocol.md). Each text
 * is measured and copied once, with no escaping; an ASCII line (most log lines) is copied byte for byte (latin1).
 * Per line, not joined first: joining cost as much as the copies (~0.1 us a line either way in a 1M-line burst
 * profile) and made a second copy of every frame's text.
 */
export function encodeBinaryLines(frame: LinesFrame): Buffer {
  const { text, sizes } = frame;
  const n = text.length;
  const meta: Pick<LinesFrame, "stream" | "seq" | "cursor" | "trunc" | "err" | "ts"> = {
    stream: frame.stream,
    seq: frame.seq,
    cursor: frame.cursor,
  };
  if (frame.trunc !== undefined) meta.trunc = frame.trunc;
  if (frame.err !== undefined) meta.err = frame.err;
  if (frame.ts !== undefined) meta.ts = frame.ts;
  const metaJson = JSON.stringify(meta);
  const metaBytes = Buffer.byteLength(metaJson);
  const lengths = new Array<number>(n);
  let textBytes = 0;
  let ascii = true;
  for (let i = 0; i < n; i++) {
    const t = text[i] as string;
    const bytes = Buffer.byteLength(t);
    // UTF-8 is one byte per UTF-16 unit only when every character is ASCII.
    if (bytes !== t.length) ascii = false;
    lengths[i] = bytes;
    textBytes += bytes;
  }
  const metaAt = BINARY_LINES_HEAD + 8 * n;
  const buf = Buffer.allocUnsafe(metaAt + metaBytes + textBytes);
  buf[0] = BINARY_LINES_MAGIC;
  buf[1] = BINARY_LINES_VERSION;
  buf[2] = ascii ? FLAG_ASCII : 0;
  buf[3] = 0;
  buf.writeUInt32LE(n, 4);
  buf.writeUInt32LE(metaBytes, 8);
  writeColumns(buf, sizes, lengths);
  buf.write(metaJson, metaAt, "utf8");
  let at = metaAt + metaBytes;
  for (let i = 0; i < n; i++) {
    const t = text[i] as string;
    const bytes = lengths[i] as number;
    buf.write(t, at, bytes, bytes === t.length ? "latin1" : "utf8");
    at += bytes;
  }
  return buf;
}

/** The sizes and text-length columns at offset 12 (4-aligned in any Buffer Node allocates). */
function writeColumns(buf: Buffer, sizes: readonly number[], lengths: readonly number[]): void {
  const n = lengths.length;
  if (LITTLE_ENDIAN && (buf.byteOffset + BINARY_LINES_HEAD) % 4 === 0) {
    const columns = new Uint32Array(buf.buffer, buf.byteOffset + BINARY_LINES_HEAD, 2 * n);
    for (let i = 0; i < n; i++) {
      columns[i] = sizes[i] as number;
      columns[n + i] = lengths[i] as number;
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    buf.writeUInt32LE(sizes[i] as number, BINARY_LINES_HEAD + 4 * i);
    buf.writeUInt32LE(lengths[i] as number, BINARY_LINES_HEAD + 4 * (n + i));
  }
}
