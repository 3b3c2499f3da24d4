import { cursorTail } from "./cursor.js";

/**
 * One complete line of a stream's source. `start` and `end` are exact byte positions in that source (a file, the
 * bytes read from stdin), the `<position>` of the cursor envelope (core/cursor.ts); only backends make them.
 */
export interface Line {
  /** Per-stream sequence number: consecutive lines have consecutive numbers (display and gap counting only). */
  seq: number;
  /** Decoded text without the line terminator (LF or CRLF); invalid UTF-8 shows as U+FFFD. */
  text: string;
  /** Byte offset of the first byte of the line. */
  start: number;
  /** Byte offset just after the line terminator: where the next line starts. */
  end: number;
  /** Opaque cursor naming the position after this line (resume from it to get the next line). */
  cursor: string;
  /** Present when the line was longer than the limit: its real length in bytes (text holds only the head). */
  truncatedFrom?: number;
  /**
   * Present when the file ended for good without a newline after this text (it was rotated away, deleted or
   * truncated while a line was half written): the bytes are delivered once, marked, instead of being lost.
   * `end` is then the file's last byte + 1 and there is no terminator.
   */
  unterminated?: true;
  /** Set by sources that tell a process's output streams apart (containers, commands): the line came on stderr. */
  channel?: "stderr";
  /** The source's own time for the line (ISO-8601), when it records one apart from the text (Docker's `time`). */
  time?: string;
}

/** Bytes the line occupies in its source, terminator included (budgets, the `sizes` column of a lines frame). */
export function lineBytes(line: Line): number {
  return line.end - line.start;
}

/** Whether the line is the first its source ever held (nothing older to page back to). */
export function startsSource(line: Line): boolean {
  return line.start === 0;
}

/**
 * The follower's Line: the cursor string is built on first use, since most lines never need theirs (a `/ws`
 * frame carries only its last line's; SSE, history pages and resume points ask for the others). `cursor` is an
 * accessor, so a copy made by spreading lacks it; JSON.stringify gets it through toJSON.
 */
export class FollowedLine implements Line {
  declare truncatedFrom?: number;
  declare unterminated?: true;
  declare channel?: "stderr";
  declare time?: string;
  /** cursorPrefix() of the file the line was read from. */
  readonly #prefix: string;

  constructor(
    readonly seq: number,
    readonly text: string,
    readonly start: number,
    readonly end: number,
    prefix: string,
  ) {
    this.#prefix = prefix;
  }

  get cursor(): string {
    return this.#prefix + cursorTail(this.end, this.seq);
  }

  toJSON(): Line {
    return { ...this, cursor: this.cursor };
  }
}

const CR = Buffer.from("\r");

/**
 * The line's data — its exact bytes without the LF (a CR before it stays; an unterminated line as it is) — when
 * its text is exactly them, else null (invalid UTF-8 shown as U+FFFD, a cut line): then only the source has them.
 * Integrity leaves and Redis entries hold this, so neither alters a byte of the log.
 */
export function exactLineData(line: Line): Buffer | null {
  if (line.truncatedFrom !== undefined || line.text.includes("\uFFFD")) return null;
  const text = Buffer.from(line.text, "utf8");
  const terminator = line.end - line.start - text.length;
  if (terminator === 0 && line.unterminated) return text;
  if (terminator === 1) return text;
  if (terminator === 2) return Buffer.concat([text, CR]);
  return null;
}

/** The line's data from its source bytes (`start` to `end`, terminator included): all but a final LF. */
export function lineDataOfSource(line: Line, bytes: Buffer): Buffer {
  return line.unterminated ? bytes : bytes.subarray(0, bytes.length - 1);
}
