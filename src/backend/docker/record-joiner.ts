import { cursorTail, prefixOf } from "../../core/cursor.js";
import { FollowedLine, type Line } from "../../core/line.js";
import { decodeRecord, type LogRecord } from "./json-log-record.js";

/** Consecutive partial records of one stream, waiting for the record that ends their line. */
interface Held {
  /** The first record: the joined line starts where it starts. */
  first: Line;
  /** The last record so far: a line flushed early ends where it ends. */
  last: Line;
  stderr: boolean;
  time: string | undefined;
  parts: string[];
  /** UTF-8 bytes of the text kept in `parts` (at most maxLineBytes) and of the whole text. */
  keptBytes: number;
  totalBytes: number;
}

/**
 * Records (the json-file log's lines, with their byte spans and cursors) → the stream's lines: each record
 * decoded, Docker's partial records joined into the line they were split from, every line numbered in order.
 * A joined line spans its records' bytes (start of the first, end of the last), so its cursor is a position in the
 * json file like any other and a resume from it is exact. Partial records are joined while they come one after
 * the other in the file: a record of the other stream (or a malformed one) in between ends the line there, so
 * lines never overlap in the file and cursors stay in file order. A joined line longer than maxLineBytes keeps
 * its head and is marked with its real length, as the file backend does.
 */
export class RecordJoiner {
  private held: Held | null = null;

  /** `seq`: the sequence number of the line before the first one this joiner emits. */
  constructor(
    private readonly maxLineBytes: number,
    public seq = 0,
  ) {}

  /** Where the held partial records start (the line being written), null when none are held. */
  get heldStart(): number | null {
    return this.held === null ? null : this.held.first.start;
  }

  /** Adds one record; pushes the lines it completes onto `out`. */
  push(record: Line, out: Line[]): void {
    const decoded = decodeRecord(record.text);
    const held = this.held;
    if (held !== null && (decoded.malformed || decoded.stderr !== held.stderr)) this.flush(out);
    if (this.held === null) {
      if (decoded.partial) this.hold(record, decoded);
      else out.push(this.line(record, record, decoded.text, decoded, record.truncatedFrom));
      return;
    }
    this.held.last = record;
    this.append(this.held, decoded.text);
    if (decoded.partial) return;
    out.push(this.joined(this.held, record));
    this.held = null;
  }

  /**
   * Emits the held partial records as a line of their own, marked `unterminated` when `ended` (the file ended
   * for good under them: rotated away, truncated); returns whether there were any.
   */
  flush(out: Line[], ended = false): boolean {
    const held = this.held;
    if (held === null) return false;
    this.held = null;
    const line = this.joined(held, held.last);
    if (ended) line.unterminated = true;
    out.push(line);
    return true;
  }

  /** Forgets the held partial records (a page that ends inside a line being written). */
  drop(): void {
    this.held = null;
  }

  private hold(record: Line, decoded: LogRecord): void {
    this.held = {
      first: record,
      last: record,
      stderr: decoded.stderr,
      time: decoded.time,
      parts: [],
      keptBytes: 0,
      totalBytes: 0,
    };
    this.append(this.held, decoded.text);
  }

  private append(held: Held, text: string): void {
    const bytes = Buffer.byteLength(text);
    held.totalBytes += bytes;
    const room = this.maxLineBytes - held.keptBytes;
    if (room <= 0) return;
    const kept = bytes <= room ? text : headWithin(text, room);
    held.parts.push(kept);
    held.keptBytes += bytes <= room ? bytes : Buffer.byteLength(kept);
  }

  private joined(held: Held, last: Line): Line {
    const text = held.parts.join("");
    const truncatedFrom = held.totalBytes > this.maxLineBytes ? held.totalBytes : undefined;
    const decoded = { stderr: held.stderr, time: held.time };
    return this.line(held.first, last, text, decoded, truncatedFrom);
  }

  private line(
    first: Line,
    last: Line,
    text: string,
    decoded: Pick<LogRecord, "stderr" | "time">,
    truncatedFrom: number | undefined,
  ): Line {
    const line = new FollowedLine(++this.seq, text, first.start, last.end, prefixOf(last.cursor));
    if (truncatedFrom !== undefined) line.truncatedFrom = truncatedFrom;
    if (last.unterminated) line.unterminated = true;
    if (decoded.stderr) line.channel = "stderr";
    if (decoded.time !== undefined) line.time = decoded.time;
    return line;
  }
}

/** The longest head of `text` within `bytes` UTF-8 bytes, cut at a character boundary. */
function headWithin(text: string, bytes: number): string {
  let head = text.slice(0, bytes);
  for (let over = Buffer.byteLength(head) - bytes; over > 0; over = Buffer.byteLength(head) - bytes) {
    // Each character is at most 3 UTF-8 bytes per UTF-16 unit: drop at least enough units for the excess.
    head = head.slice(0, head.length - Math.ceil(over / 3));
  }
  // Never end on half of a surrogate pair.
  const last = head.charCodeAt(head.length - 1);
  return last >= 0xd800 && last < 0xdc00 ? head.slice(0, -1) : head;
}

/** `cursor` with its sequence number replaced (the same position): the file's records are numbered otherwise. */
export function withSeq(cursor: string, seq: number): string {
  return prefixOf(cursor) + cursorTail(positionOf(cursor), seq);
}

/** `cursor`'s file with another position and sequence number. */
export function atPosition(cursor: string, position: number, seq: number): string {
  return prefixOf(cursor) + cursorTail(position, seq);
}

/** The position in a cursor. */
export function positionOf(cursor: string): number {
  const dot = cursor.lastIndexOf(".");
  return Number.parseInt(cursor.slice(prefixOf(cursor).length, dot), 36);
}

/** The sequence number in a cursor (the line before its position). */
export function seqOf(cursor: string): number {
  const text = cursor.slice(cursor.lastIndexOf(".") + 1);
  return text.startsWith("-") ? -Number.parseInt(text.slice(1), 36) : Number.parseInt(text, 36);
}
