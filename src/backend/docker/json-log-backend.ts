import type { Line } from "../../core/line.js";
import {
  type CursorScheme,
  type FeedEvent,
  type FollowOptions,
  type LiveFeed,
  type ReadAfterResult,
  type ReadBeforeResult,
  type ResumePlan,
  type SearchOutcome,
  type SearchQuery,
  type SourceInfo,
  SourceMissingError,
  type StreamAbout,
  type StreamBackend,
} from "../backend.js";
import { type RecordFile, recordFile } from "../sources.js";
import { recordTimeMs } from "./json-log-record.js";
import { searchJsonLog } from "./json-log-search.js";
import { atPosition, positionOf, RecordJoiner, seqOf, withSeq } from "./record-joiner.js";

export interface JsonLogBackendOptions {
  /** Fallback stat poll of the follower (ms). */
  pollIntervalMs?: number;
  /** Use fs.watch as well as polling (default true). */
  watch?: boolean;
  /** Longer (joined) lines keep their head and are marked; default 65536. */
  maxLineBytes?: number;
  /** What the stream is (a container's state), for `hello`. */
  about?: () => StreamAbout;
}

/**
 * Longest record read whole. Docker's records hold at most 16 KiB of text, up to 6 bytes each once escaped
 * (`\u001b`), plus the stream and time: a longer line is not one of its records and is shown raw (cut).
 */
const MAX_RECORD_BYTES = 128 * 1024;
const DEFAULT_MAX_LINE_BYTES = 65536;
/** Records read at most per step back when a page starts inside a long joined line. */
const MAX_BACK_RECORDS = 4096;
/** Source bytes read per step to finish a joined line once a page's byte budget is spent. */
const HELD_STEP_BYTES = 1024 * 1024;

/**
 * A container's log written by Docker's `json-file` driver, as a stream: the file backend reads the json file
 * (follower, rotation, truncation, identity-checked cursors, history, seek by the records' own time), and this
 * backend turns its lines — one record each — into the container's lines (record-joiner.ts). Positions stay
 * byte positions of the json file, so cursors are file cursors: durable, exact, ordered as the file's.
 *
 * Paging works on records and joins them: a page after a cursor reads on until a joined line is whole (a line
 * still being written ends the page before it); a page before a cursor steps back until it starts after a
 * record that ends a line (or at the file's start), so no page starts inside a line. Search decodes every record
 * (json-log-search.ts) and matches the text the dashboard shows, not the JSON.
 */
export class JsonLogBackend implements StreamBackend {
  readonly cursors: CursorScheme = { durable: true };
  private readonly records: RecordFile;
  private readonly maxLineBytes: number;
  readonly about?: () => StreamAbout;

  constructor(
    readonly name: string,
    readonly path: string,
    options: JsonLogBackendOptions = {},
  ) {
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    if (options.about !== undefined) this.about = options.about;
    this.records = recordFile(name, path, {
      ...(options.pollIntervalMs === undefined ? {} : { pollIntervalMs: options.pollIntervalMs }),
      ...(options.watch === undefined ? {} : { watch: options.watch }),
      maxLineBytes: MAX_RECORD_BYTES,
      lineTime: recordTimeMs,
    });
  }

  async follow(options: FollowOptions, listener: (event: FeedEvent) => void): Promise<LiveFeed> {
    // From before the last `tail` lines, or from the start of a line still being written: never inside a line.
    const start = await this.tailCursor(options.tail);
    const joiner = new RecordJoiner(this.maxLineBytes);
    const feed = await this.records.followFrom(start, options, (event) => {
      switch (event.type) {
        case "lines": {
          const out: Line[] = [];
          for (const record of event.lines) joiner.push(record, out);
          if (out.length > 0) listener({ type: "lines", lines: out });
          return;
        }
        case "reset": {
          // The old file ended for good: a line it left half written is delivered, marked, as files do.
          const out: Line[] = [];
          if (joiner.flush(out, true)) listener({ type: "lines", lines: out });
          listener({ ...event, cursor: withSeq(event.cursor, joiner.seq) });
          return;
        }
        case "gap": {
          joiner.drop();
          joiner.seq = seqOf(event.to);
          listener(event);
          return;
        }
        default:
          listener(event);
      }
    });
    return {
      get cursor() {
        const cursor = feed.cursor;
        if (cursor === null) return null;
        const held = joiner.heldStart;
        return held === null ? withSeq(cursor, joiner.seq) : atPosition(cursor, held, joiner.seq);
      },
      close: () => feed.close(),
    };
  }

  resumeFrom(cursor: string, followed: string | null): Promise<ResumePlan> {
    return this.records.resumeFrom(cursor, followed);
  }

  check(cursor: string): void {
    this.records.check(cursor);
  }

  compare(a: string, b: string): number {
    return this.records.compare(a, b);
  }

  continues(prev: Line, next: Line): boolean {
    return this.records.continues(prev, next);
  }

  cursorBefore(line: Line): string {
    return this.records.cursorBefore(line);
  }

  async readAfter(cursor: string | null, limit: number, maxBytes?: number): Promise<ReadAfterResult> {
    const joiner = new RecordJoiner(this.maxLineBytes, cursor === null ? 0 : seqOf(cursor));
    const lines: Line[] = [];
    let at = cursor;
    let start: string | null = cursor;
    let more = false;
    /** Source bytes of the records consumed: `maxBytes` bounds them, not the lines' count. */
    let used = 0;
    // Records are fewer than lines only where records join: ask for what is missing, then go on while a joined
    // line is not whole yet (in steps of at most HELD_STEP_BYTES once past the budget).
    for (;;) {
      const held = joiner.heldStart !== null;
      const budget =
        maxBytes === undefined ? undefined : maxBytes - used > 0 ? maxBytes - used : HELD_STEP_BYTES;
      const page = await this.records.readAfter(at, held ? 64 : Math.max(1, limit - lines.length), budget);
      const first = page.lines[0];
      if (start === null) start = first === undefined ? page.cursor : this.records.cursorBefore(first);
      for (const record of page.lines) {
        joiner.push(record, lines);
        used += record.end - record.start;
      }
      at = page.cursor;
      more = page.more;
      if (!more || page.lines.length === 0 || lines.length >= limit) break;
      // The records page kept to the budget: what it left is the next page's, unless a joined line is open.
      if (maxBytes !== undefined && joiner.heldStart === null) break;
    }
    // A joined line not yet whole at the end is still being written (the loop reads on while records follow).
    if (lines.length > limit) {
      lines.length = limit;
      more = true;
    }
    const last = lines[lines.length - 1];
    return {
      lines,
      cursor: last === undefined ? (start as string) : last.cursor,
      more: last === undefined ? false : more,
      atStart: lines[0]?.start === 0,
    };
  }

  async readBefore(cursor: string, limit: number): Promise<ReadBeforeResult> {
    const { lines } = await this.linesBefore(cursor, limit, seqOf(cursor));
    const first = lines[0];
    return {
      lines,
      more: first !== undefined && first.start > 0,
      cursor: first === undefined ? cursor : this.cursorBefore(first),
    };
  }

  async tail(n: number): Promise<ReadAfterResult> {
    const end = await this.records.tail(0);
    const { lines, wholeEnd } = await this.linesBefore(end.cursor, n, null);
    // wholeEnd: where the whole lines end, before a line still being written.
    const first = lines[0];
    return {
      lines,
      cursor: atPosition(end.cursor, wholeEnd, lines.length),
      more: false,
      atStart: first === undefined || first.start === 0,
    };
  }

  async tailCursor(n: number): Promise<string | null> {
    let tail: ReadAfterResult;
    try {
      tail = await this.tail(n);
    } catch (error) {
      if (error instanceof SourceMissingError) return null;
      throw error;
    }
    const first = tail.lines[0];
    return first === undefined ? withSeq(tail.cursor, 0) : withSeq(this.cursorBefore(first), 0);
  }

  /** The records carry the time (all parts of a line the first part's): the file backend's binary search on it. */
  async seek(atMs: number, limit: number): Promise<ReadAfterResult> {
    const found = await this.records.seek(atMs, 1);
    const first = found.lines[0];
    if (first === undefined) return { ...found, cursor: withSeq(found.cursor, 0) };
    return this.readAfter(withSeq(this.records.cursorBefore(first), 0), limit);
  }

  async search(query: SearchQuery): Promise<SearchOutcome> {
    const end = await this.records.tailCursor(0);
    if (end === null) return { matches: [], limited: false, timedOut: false, scannedBytes: 0 };
    return searchJsonLog(this.path, end, query, this.maxLineBytes);
  }

  info(followed: string | null): Promise<SourceInfo> {
    return this.records.info(followed);
  }

  /** The json file as it is (the compat `/api/audit` endpoint serves bytes, not decoded lines). */
  openRaw(): Promise<NodeJS.ReadableStream | null> {
    return this.records.openRaw();
  }

  /** A line's source bytes are its records, as the json file holds them (what a seal covers). */
  exactBytes(lines: readonly Line[]): Promise<(Buffer | null)[]> {
    return (this.records.exactBytes as NonNullable<StreamBackend["exactBytes"]>).call(this.records, lines);
  }

  /**
   * The last `n` whole lines before `end`: records read backwards, more each step, until the page starts after
   * a record that ends a line (or at the file's start) and holds n lines. A line still being written at `end`
   * (partial records, only at the file's end) is left out; `wholeEnd` is where the whole lines end. Numbered so
   * the last has `lastSeq`, or 1..n when null.
   */
  private async linesBefore(
    end: string,
    n: number,
    lastSeq: number | null,
  ): Promise<{ lines: Line[]; wholeEnd: number }> {
    let records: Line[] = [];
    let at = end;
    let more = true;
    let want = Math.max(1, n) + 1;
    let lines: Line[] = [];
    let wholeEnd = 0;
    for (;;) {
      const page = await this.records.readBefore(at, want);
      records = page.lines.concat(records);
      more = page.more && page.lines.length > 0;
      at = page.cursor;
      const joined = this.joinWhole(records, !more, end);
      lines = joined.lines;
      wholeEnd = joined.wholeEnd;
      if (!more || (lines.length >= n && joined.certain)) break;
      want = Math.min(want * 2, MAX_BACK_RECORDS);
    }
    if (lines.length > n) lines = lines.slice(lines.length - n);
    const base = lastSeq === null ? 0 : lastSeq - lines.length;
    for (const [i, line] of lines.entries()) lines[i] = renumbered(line, base + i + 1);
    return { lines, wholeEnd };
  }

  /**
   * Joins records read backwards. Unless they start at the file's start, the records up to the first one that
   * ends a line may continue a line begun before them: left out (`certain` false while there is no such record).
   */
  private joinWhole(
    records: Line[],
    atStart: boolean,
    end: string,
  ): { lines: Line[]; wholeEnd: number; certain: boolean } {
    const joiner = new RecordJoiner(this.maxLineBytes);
    const lines: Line[] = [];
    let from = 0;
    let certain = atStart;
    if (!atStart) {
      const probe: Line[] = [];
      for (; from < records.length && !certain; from++) {
        joiner.push(records[from] as Line, probe);
        certain = probe.length > 0 && joiner.heldStart === null;
        if (probe.length > 0 && !certain) probe.length = 0;
      }
      joiner.drop();
    }
    for (let i = from; i < records.length; i++) joiner.push(records[i] as Line, lines);
    // Whole lines end where a line still being written starts, else after the last record.
    const wholeEnd = joiner.heldStart ?? records[records.length - 1]?.end ?? positionOf(end);
    return { lines, wholeEnd, certain };
  }
}

/** A copy of a joined line with another sequence number (its cursor follows). */
function renumbered(line: Line, seq: number): Line {
  const copy: Line = { ...line, seq, cursor: withSeq(line.cursor, seq) };
  return copy;
}
