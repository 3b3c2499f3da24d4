import { MAX_FP_LEN } from "../backend/file/file-cursor.js";
import { prefixOf } from "../core/cursor.js";
import { parseEntry } from "../core/entry.js";
import type { Line } from "../core/line.js";
import type { LinesFrame, ServerMessage, WireLine } from "../protocol/messages.js";

/** How a client receives a stream: `/ws` JSON frames, Server-Sent Events, or the old `/ws/audit` raw text. */
export type Format = "json" | "sse" | "text";

/** A line as the HTTP API and SSE carry it: one object with its own cursor and parsed timestamp. */
export function toWireLine(line: Line): WireLine {
  const { ts, level } = parseEntry(line.text);
  const { seq, text, cursor: c, truncatedFrom } = line;
  const wire: WireLine = { seq, text, c };
  if (ts !== undefined) wire.ts = ts;
  if (level !== "info") wire.level = level;
  if (truncatedFrom !== undefined) wire.trunc = truncatedFrom;
  return wire;
}

/**
 * Consecutive lines of one file sent together (frameGroups makes them). Each representation is built at most
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
  /** Source position of the first byte of the first line. */
  get first(): number {
    return (this.lines[0] as Line).start;
  }
  /** Source position after the last line. */
  get last(): number {
    return (this.lines[this.lines.length - 1] as Line).end;
  }
  get lastCursor(): string {
    return (this.lines[this.lines.length - 1] as Line).cursor;
  }

  frame(format: Format): Buffer {
    let buf = this.encoded[format];
    if (buf === undefined) {
      buf = Buffer.from(encodeLines(format, this.stream, this.lines));
      this.encoded[format] = buf;
    }
    return buf;
  }

  /** The lines that end after `position` (used once per client when its catch-up overlapped live delivery). */
  after(position: number): Batch {
    return new Batch(
      this.stream,
      this.lines.filter((l) => l.end > position),
    );
  }
}

function encodeLines(format: Format, stream: string, lines: readonly Line[]): string {
  switch (format) {
    case "json":
      return JSON.stringify(linesFrame(stream, lines));
    case "sse": {
      let out = "";
      for (const l of lines) out += `id: ${l.cursor}\ndata: ${JSON.stringify(toWireLine(l))}\n\n`;
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
 * line it relays.
 */
function linesFrame(stream: string, lines: readonly Line[]): LinesFrame {
  const n = lines.length;
  const text = new Array<string>(n);
  const sizes = new Array<number>(n);
  const trunc: NonNullable<LinesFrame["trunc"]> = {};
  let cut = false;
  for (let i = 0; i < n; i++) {
    const line = lines[i] as Line;
    text[i] = line.text;
    sizes[i] = line.end - line.start;
    if (line.truncatedFrom !== undefined) {
      trunc[i] = line.truncatedFrom;
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
      return JSON.stringify(message);
    case "text":
      return null;
    case "sse": {
      const id = message.type === "truncated" || message.type === "rotated" ? `id: ${message.cursor}\n` : "";
      return `${id}event: ${message.type}\ndata: ${JSON.stringify(message)}\n\n`;
    }
  }
}

/**
 * Splits lines into frames of at most `maxBytes` of source text each (at least one line per frame), and where
 * they stop being consecutive (a sequence or position jump: another file, or a gap) or change cursor prefix,
 * which a LinesFrame cannot express.
 */
export function frameGroups(lines: readonly Line[], maxBytes: number): Line[][] {
  const groups: Line[][] = [];
  let from = 0;
  let bytes = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as Line;
    const size = line.end - line.start;
    if (i > from) {
      const prev = lines[i - 1] as Line;
      if (
        bytes + size > maxBytes ||
        line.seq !== prev.seq + 1 ||
        line.start !== prev.end ||
        // In a file's first MAX_FP_LEN bytes its fingerprint, and so its cursor prefix, still grows from one read
        // to the next; a frame derives every cursor from its last one.
        (line.start < MAX_FP_LEN && prefixOf(line.cursor) !== prefixOf(prev.cursor))
      ) {
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
