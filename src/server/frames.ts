import { parseEntry } from "../core/entry.js";
import type { Line } from "../core/line.js";
import type { ServerMessage, WireLine } from "../protocol/messages.js";

/** How a client receives a stream: `/ws` JSON frames, Server-Sent Events, or the old `/ws/audit` raw text. */
export type Format = "json" | "sse" | "text";

export function toWireLine(line: Line): WireLine {
  const { ts, level } = parseEntry(line.text);
  const { seq, text, cursor: c, truncatedFrom } = line;
  // Hot path (every line sent): each common shape is built whole, so no object grows a property at a time.
  if (truncatedFrom === undefined) {
    if (ts !== undefined) return level === "info" ? { seq, text, c, ts } : { seq, text, c, ts, level };
    return level === "info" ? { seq, text, c } : { seq, text, c, level };
  }
  const wire: WireLine = { seq, text, c };
  if (ts !== undefined) wire.ts = ts;
  if (level !== "info") wire.level = level;
  wire.trunc = truncatedFrom;
  return wire;
}

/** A line ready to send: its wire form plus the byte range it occupies in the source. */
export interface WindowLine {
  wire: WireLine;
  start: number;
  end: number;
}

export function toWindowLine(line: Line): WindowLine {
  return { wire: toWireLine(line), start: line.start, end: line.end };
}

/**
 * Lines sent together. Each representation is built at most once, on first use, and the same Buffer is handed
 * to every client: no per-client serialisation.
 */
export class Batch {
  private readonly encoded: Partial<Record<Format, Buffer>> = {};

  constructor(
    readonly stream: string,
    readonly lines: readonly WindowLine[],
  ) {}

  get count(): number {
    return this.lines.length;
  }
  /** Source position of the first byte of the first line. */
  get first(): number {
    return (this.lines[0] as WindowLine).start;
  }
  /** Source position after the last line. */
  get last(): number {
    return (this.lines[this.lines.length - 1] as WindowLine).end;
  }
  get lastCursor(): string {
    return (this.lines[this.lines.length - 1] as WindowLine).wire.c;
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

function encodeLines(format: Format, stream: string, lines: readonly WindowLine[]): string {
  switch (format) {
    case "json":
      return JSON.stringify({ type: "lines", stream, lines: lines.map((l) => l.wire) });
    case "sse": {
      let out = "";
      for (const l of lines) out += `id: ${l.wire.c}\ndata: ${JSON.stringify(l.wire)}\n\n`;
      return out;
    }
    case "text": {
      let out = "";
      for (const l of lines) out += `${l.wire.text}\n`;
      return out;
    }
  }
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

/** Splits lines into groups of at most `maxBytes` of source text each (at least one line per group). */
export function splitByBytes<T extends { start: number; end: number }>(
  lines: readonly T[],
  maxBytes: number,
): T[][] {
  const groups: T[][] = [];
  let from = 0;
  let bytes = 0;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i] as T;
    const size = line.end - line.start;
    if (i > from && bytes + size > maxBytes) {
      groups.push(lines.slice(from, i));
      from = i;
      bytes = 0;
    }
    bytes += size;
  }
  if (lines.length > from) groups.push(lines.slice(from));
  return groups;
}
