import type { LinesFrame } from "./messages.js";

/**
 * The binary `lines` frame (docs/protocol.md, "The binary lines frame"): the same content as a JSON LinesFrame,
 * but the texts travel as one block of UTF-8 with a length per line, so the server escapes nothing and a client
 * decodes a whole frame with one TextDecoder call. All integers are little-endian:
 *
 *   0  u8   BINARY_LINES_MAGIC (0x4c, "L")
 *   1  u8   BINARY_LINES_VERSION (1)
 *   2  u8   flags: bit 0 (FLAG_ASCII) every text byte is below 0x80 (byte offsets are string offsets)
 *   3  u8   0
 *   4  u32  n, the number of lines (at least 1)
 *   8  u32  m, the byte length of the meta JSON
 *   12 n×u32 sizes: bytes each line occupies in its source (the JSON frame's `sizes`)
 *   .. n×u32 text lengths in bytes
 *   .. m    meta JSON: { stream, seq, cursor, trunc?, err?, ts? } as in the JSON frame
 *   .. the texts' UTF-8 bytes one after another: exactly the sum of the text lengths, to the end of the message
 * The columns start at offset 12, so a message that starts 4-aligned (an ArrayBuffer) can be read as a Uint32Array.
 */
export const BINARY_LINES_MAGIC = 0x4c;
export const BINARY_LINES_VERSION = 1;
export const FLAG_ASCII = 1;
/** Bytes before the columns. */
export const BINARY_LINES_HEAD = 12;

/** What a client puts in `subscribe.frames` to receive binary lines frames (and what `hello.frames` offers). */
export const BINARY_FRAMES = "binary";

/** A binary frame that does not follow the layout above. */
export class BinaryFrameError extends Error {
  override name = "BinaryFrameError";
}

const fatalDecoder = new TextDecoder("utf-8", { fatal: true });

/**
 * The LinesFrame a binary lines frame carries (so one code path handles both kinds). Throws BinaryFrameError when
 * the bytes do not follow the layout: counts that overrun the message, meta that is not the expected JSON,
 * text that is not UTF-8.
 */
export function decodeBinaryLines(bytes: Uint8Array): LinesFrame {
  const total = bytes.byteLength;
  if (total < BINARY_LINES_HEAD)
    throw new BinaryFrameError(`frame of ${total} bytes is shorter than its header`);
  if (bytes[0] !== BINARY_LINES_MAGIC || bytes[1] !== BINARY_LINES_VERSION) {
    throw new BinaryFrameError(`not a version ${BINARY_LINES_VERSION} binary lines frame`);
  }
  const view = new DataView(bytes.buffer, bytes.byteOffset, total);
  const ascii = ((bytes[2] as number) & FLAG_ASCII) !== 0;
  const n = view.getUint32(4, true);
  const m = view.getUint32(8, true);
  const metaAt = BINARY_LINES_HEAD + 8 * n;
  const block = metaAt + m;
  if (n === 0 || block > total)
    throw new BinaryFrameError(`${n} lines and ${m} bytes of meta overrun the frame`);
  const meta = parseMeta(bytes.subarray(metaAt, block));
  const sizes = new Array<number>(n);
  const lengths = new Array<number>(n);
  let textBytes = 0;
  for (let i = 0; i < n; i++) {
    sizes[i] = view.getUint32(BINARY_LINES_HEAD + 4 * i, true);
    const length = view.getUint32(BINARY_LINES_HEAD + 4 * (n + i), true);
    lengths[i] = length;
    textBytes += length;
  }
  if (block + textBytes !== total) {
    throw new BinaryFrameError(`text lengths add up to ${textBytes} bytes, the frame holds ${total - block}`);
  }
  const texts = bytes.subarray(block);
  let all: string;
  try {
    all = fatalDecoder.decode(texts);
  } catch {
    throw new BinaryFrameError("the text block is not valid UTF-8");
  }
  const text = new Array<string>(n);
  let at = 0;
  let from = 0;
  for (let i = 0; i < n; i++) {
    const length = lengths[i] as number;
    // Valid UTF-8 (checked above): a character is 1-3 bytes and one UTF-16 unit, or 4 bytes and two units.
    const units = ascii ? length : utf16Length(texts, at, at + length);
    text[i] = all.slice(from, from + units);
    at += length;
    from += units;
  }
  if (from !== all.length) throw new BinaryFrameError("the text lengths do not match the decoded text");
  const frame: LinesFrame = {
    type: "lines",
    stream: meta.stream,
    seq: meta.seq,
    cursor: meta.cursor,
    text,
    sizes,
  };
  if (meta.trunc !== undefined) frame.trunc = meta.trunc;
  if (meta.err !== undefined) frame.err = meta.err;
  if (meta.ts !== undefined) frame.ts = meta.ts;
  return frame;
}

/** UTF-16 units of the valid UTF-8 in bytes[from, to): lead bytes count one, 4-byte leads two. */
function utf16Length(bytes: Uint8Array, from: number, to: number): number {
  let units = 0;
  for (let i = from; i < to; i++) {
    const b = bytes[i] as number;
    if ((b & 0xc0) !== 0x80) units += b >= 0xf0 ? 2 : 1;
  }
  return units;
}

type Meta = Pick<LinesFrame, "stream" | "seq" | "cursor" | "trunc" | "err" | "ts">;

function parseMeta(raw: Uint8Array): Meta {
  let value: unknown;
  try {
    value = JSON.parse(fatalDecoder.decode(raw));
  } catch {
    throw new BinaryFrameError("the frame's meta is not JSON");
  }
  const m = value as Partial<Record<keyof Meta, unknown>> | null;
  if (
    typeof m !== "object" ||
    m === null ||
    typeof m.stream !== "string" ||
    typeof m.seq !== "number" ||
    typeof m.cursor !== "string" ||
    (m.trunc !== undefined && (typeof m.trunc !== "object" || m.trunc === null)) ||
    (m.err !== undefined && !Array.isArray(m.err)) ||
    (m.ts !== undefined && (typeof m.ts !== "object" || m.ts === null))
  ) {
    throw new BinaryFrameError(
      "the frame's meta lacks stream, seq or cursor, or has a column of the wrong kind",
    );
  }
  return m as Meta;
}
