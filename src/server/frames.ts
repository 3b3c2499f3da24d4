import { parseEntry } from "../core/entry.js";
import { type Line, lineBytes } from "../core/line.js";
import { DISPLAY_LINE_BYTES, lineHead } from "../core/line-head.js";
import type { LinesFrame, ServerMessage, WireLine } from "../protocol/messages.js";
import { encodeBinaryLines } from "./binary-lines-frame.js";

/**
 * How a client receives a stream: `/ws` JSON frames, `/ws` binary lines frames (asked for in `subscribe`, with
 * JSON for everything else), Server-Sent Events, or the old `/ws/audit` raw text.
 */
export type Format = "json" | "binary" | "sse" | "text";

/**
 * A line as the HTTP API's pages and search carry it: one object with its own cursor and parsed timestamp, and
 * the head of a long line (core/line-head.ts), so a page stays small whatever its lines.
 */
export function toWireLine(line: Line): WireLine {
  return wireLine(line, lineHead(line));
}

/** A line whole (up to the server's maxLineBytes), as SSE and `GET /api/streams/:name/line` carry it. */
export function toWholeWireLine(line: Line): WireLine {
  return wireLine(line, {
    text: line.text,
    ...(line.truncatedFrom === undefined ? {} : { trunc: line.truncatedFrom }),
  });
}

function wireLine(line: Line, { text, trunc }: { text: string; trunc?: number }): WireLine {
  const { ts, level } = parseEntry(text);
  const wire: WireLine = { seq: line.seq, text, c: line.cursor };
  // The source's own time wins over a time guessed from the text.
  const time = line.time ?? ts;
  if (time !== undefined) wire.ts = time;
  if (level !== "info") wire.level = level;
  if (trunc !== undefined) wire.trunc = trunc;
  if (line.channel !== undefined) wire.ch = line.channel;
  return wire;
}

/**
 * Consecutive lines of one source sent together (frameGroups makes them). Each representation is built at most
 * once, on first use, and the same Buffer is handed to every client: no per-client serialisation.
 */
export class Batch {
  private readonly encoded: Partial<Record<Format, Buffer>> = {};

  constructor(
    readonly stream: string,
    readonly lines: readonly Line[],
  ) {}

  get count(): number {
    return this.lines.length;
  }
  get lastCursor(): string {
    return (this.lines[this.lines.length - 1] as Line).cursor;
  }

  frame(format: Format): Buffer {
    let buf = this.encoded[format];
    if (buf === undefined) {
      buf =
        format === "binary"
          ? encodeBinaryLines(linesFrame(this.stream, this.lines))
          : Buffer.from(encodeLines(format, this.stream, this.lines));
      this.encoded[format] = buf;
    }
    return buf;
  }

  /**
   * The lines after `cursor`, or null when none is (used once per client when its catch-up overlapped live
   * delivery); `compare` is the backend's order.
   */
  after(cursor: string, compare: (a: string, b: string) => number): Batch | null {
    if (compare(this.lastCursor, cursor) <= 0) return null;
    if (compare((this.lines[0] as Line).cursor, cursor) > 0) return this;
    return new Batch(
      this.stream,
      this.lines.filter((l) => compare(l.cursor, cursor) > 0),
    );
  }
}

function encodeLines(format: Exclude<Format, "binary">, stream: string, lines: readonly Line[]): string {
  switch (format) {
    case "json":
      return JSON.stringify(linesFrame(stream, lines));
    case "sse": {
      let out = "";
      for (const l of lines) out += `id: ${l.cursor}\ndata: ${JSON.stringify(toWholeWireLine(l))}\n\n`;
      return out;
    }
    case "text": {
      let out = "";
      for (const l of lines) out += `${l.text}\n`;
      return out;
    }
  }
}

/**
 * The `/ws` frame for consecutive lines: columns, so the work per line is one string and one number to
 * serialise (and to parse at the other end); truncation only where it occurs. No level: clients guess it from
 * the text when they need it (the dashboard does, like timestamps), which spares the server a regex scan of every
 * line it relays. The binary frame carries the same columns (binary-lines-frame.ts).
 */
function linesFrame(stream: string, lines: readonly Line[]): LinesFrame {
  const n = lines.length;
  const text = new Array<string>(n);
  const sizes = new Array<number>(n);
  const trunc: NonNullable<LinesFrame["trunc"]> = {};
  let cut = false;
  const err: number[] = [];
  const ts: Record<number, string> = {};
  let timed = false;
  for (let i = 0; i < n; i++) {
    const line = lines[i] as Line;
    sizes[i] = lineBytes(line);
    if (line.channel !== undefined) err.push(i);
    if (line.time !== undefined) {
      ts[i] = line.time;
      timed = true;
    }
    // Most lines are short and whole: no head to cut (and no object per line on the hot path).
    if (line.truncatedFrom === undefined && line.text.length * 3 <= DISPLAY_LINE_BYTES) {
      text[i] = line.text;
      continue;
    }
    const head = lineHead(line);
    text[i] = head.text;
    if (head.trunc !== undefined) {
      trunc[i] = head.trunc;
      cut = true;
    }
  }
  const first = lines[0] as Line;
  const frame: LinesFrame = {
    type: "lines",
    stream,
    seq: first.seq,
    cursor: (lines[n - 1] as Line).cursor,
    text,
    sizes,
  };
  if (cut) frame.trunc = trunc;
  if (err.length > 0) frame.err = err;
  if (timed) frame.ts = ts;
  return frame;
}

/**
 * A non-line message in the given format, or null when the format cannot express it (the compat text feed
 * carries lines only). SSE events carry an `id` only when resuming from it is exact (stream events do; gaps don't,
 * so a reconnect after a gap resumes before it and catches up).
 */
export function controlFrame(format: Format, message: ServerMessage): string | null {
  switch (format) {
    case "json":
    case "binary":
      return JSON.stringify(message);
    case "text":
      return null;
    case "sse": {
      const reset =
        message.type === "truncated" || message.type === "rotated" || message.type === "restarted";
      const id = reset ? `id: ${message.cursor}\n` : "";
      return `${id}event: ${message.type}\ndata: ${JSON.stringify(message)}\n\n`;
    }
  }
}

/**
 * Splits lines into frames of at most `maxBytes` of source text each (at least one line per frame), and where
 * the backend says one does not continue the other (another source, a gap), which a LinesFrame cannot express.
 */
export function frameGroups(
  lines: readonly Line[],
  maxBytes: number,
  continues: (prev: Line, next: Line) => boolean,
): Line[][] {
  const groups: Line[][] = [];
  let from = 0;
  let bytes = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as Line;
    const size = lineBytes(line);
    if (i > from) {
      if (bytes + size > maxBytes || !continues(lines[i - 1] as Line, line)) {
        groups.push(lines.slice(from, i));
        from = i;
        bytes = 0;
      }
    }
    bytes += size;
  }
  if (lines.length > from) groups.push(lines.slice(from));
  return groups;
}
