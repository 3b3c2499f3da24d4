import {
  BINARY_LINES_HEAD,
  BINARY_LINES_MAGIC,
  BINARY_LINES_VERSION,
  FLAG_ASCII,
} from "../protocol/lines-frame-binary.js";
import type { LinesFrame } from "../protocol/messages.js";

/**
 * A LinesFrame as a binary lines frame (layout in protocol/lines-frame-binary.ts and docs/protocol.md). The texts
 * are joined into one string and written with one call: most logs are ASCII, and then the per-line text lengths
 * are the string lengths and the block is a byte-for-byte copy (no UTF-8 measuring per line, no JSON escaping).
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
  const all = text.join("");
  const textBytes = Buffer.byteLength(all);
  // UTF-8 is one byte per UTF-16 unit only when every character is ASCII.
  const ascii = textBytes === all.length;
  const columns = BINARY_LINES_HEAD + metaBytes;
  const block = columns + 8 * n;
  const buf = Buffer.allocUnsafe(block + textBytes);
  buf[0] = BINARY_LINES_MAGIC;
  buf[1] = BINARY_LINES_VERSION;
  buf[2] = ascii ? FLAG_ASCII : 0;
  buf[3] = 0;
  buf.writeUInt32LE(n, 4);
  buf.writeUInt32LE(metaBytes, 8);
  buf.write(metaJson, BINARY_LINES_HEAD, "utf8");
  for (let i = 0; i < n; i++) {
    buf.writeUInt32LE(sizes[i] as number, columns + 4 * i);
    const t = text[i] as string;
    buf.writeUInt32LE(ascii ? t.length : Buffer.byteLength(t), columns + 4 * (n + i));
  }
  buf.write(all, block, ascii ? "latin1" : "utf8");
  return buf;
}
