import { randomBytes } from "node:crypto";
import { Readable } from "node:stream";
import { CursorError, cursorTail, StaleCursorError } from "../../core/cursor.js";
import { parseEntry } from "../../core/entry.js";
import { FollowedLine, type Line, lineBytes } from "../../core/line.js";
import { DEFAULT_MAX_LINE_BYTES, type LineSink, LineSplitter } from "../../core/line-splitter.js";
import type {
  CursorScheme,
  FeedEvent,
  FollowOptions,
  LiveFeed,
  ReadAfterResult,
  ReadBeforeResult,
  ResumePlan,
  SearchOutcome,
  SearchQuery,
  SourceInfo,
  StreamBackend,
} from "../backend.js";
import { decodeRingCursor, ringPrefix } from "./ring-cursor.js";
import { searchTexts } from "./ring-search.js";

const LF = Buffer.from("\n");
const CRLF = Buffer.from("\r\n");

/** Bytes for one writer of a ring (see RingBackend.openInput). */
export interface RingInput {
  write(chunk: Uint8Array): void;
  /** The writer's input ended: its last line without a newline is kept once, marked unterminated. */
  end(): void;
}

export interface RingOptions {
  /** Lines kept; older ones are dropped (a reader behind them gets a `trimmed` gap). */
  maxLines: number;
  /** Bytes of line source kept, likewise. */
  maxBytes: number;
  /** Longer lines are cut to this many bytes and marked. */
  maxLineBytes?: number;
}

/**
 * A stream that lives in memory: bytes written to it (stdin, a command's output) are cut into lines and kept in a
 * ring bounded by lines and bytes, the oldest dropped first. It is its own live feed and its own history. Cursors
 * name this run of the ring (see ring-cursor.ts), so after a server restart they resume with a `restarted` gap.
 */
export class RingBackend implements StreamBackend {
  readonly cursors: CursorScheme = { durable: false };
  private readonly run = randomBytes(6).toString("hex");
  private readonly prefix = ringPrefix(this.run);
  /** This run's lines are a history of their own: a restarted ring is sealed as a new chain. */
  readonly sealIdentity = `ring:${this.run}`;
  private readonly maxLineBytes: number;
  /** What write()/end() feed: stdin's bytes. */
  private readonly input: RingInput;
  /** Position after the last line kept: lines are placed one after the other in the order they arrive. */
  private position = 0;
  private lines: Line[] = [];
  /** Index of the oldest kept line in `lines`. */
  private head = 0;
  private bytes = 0;
  /** Sequence number of the next line (the first is 1). */
  private nextSeq = 1;
  private lastWriteMs: number | null = null;
  private readonly listeners = new Set<(event: FeedEvent) => void>();

  constructor(
    readonly name: string,
    private readonly options: RingOptions,
  ) {
    if (!(options.maxLines >= 1 && options.maxBytes >= 1))
      throw new RangeError("a ring keeps at least one line");
    this.maxLineBytes = options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    this.input = this.openInput();
  }

  /** Feeds bytes; complete lines are kept and go to the live feed at once. */
  write(chunk: Uint8Array): void {
    this.input.write(chunk);
  }

  /** The input ended: a last line without a newline is kept once, marked unterminated. */
  end(): void {
    this.input.end();
  }

  /**
   * Another writer of this ring, with a splitter of its own so its partial lines are not joined with another's
   * (a command's stdout and stderr): its lines are kept in arrival order, marked with `channel` when given.
   */
  openInput(channel?: "stderr"): RingInput {
    const splitter = new LineSplitter({ maxLineBytes: this.maxLineBytes });
    const take = (unterminated: boolean, batch: Line[]): LineSink => {
      return (text, start, end, truncatedFrom) => {
        const line = this.line(text, end - start, truncatedFrom);
        if (channel !== undefined) line.channel = channel;
        if (unterminated) line.unterminated = true;
        batch.push(line);
      };
    };
    return {
      write: (chunk) => {
        const batch: Line[] = [];
        splitter.push(chunk, take(false, batch));
        this.keep(batch);
      },
      end: () => {
        const batch: Line[] = [];
        splitter.flushPartial(take(true, batch));
        this.keep(batch);
      },
    };
  }

  async follow(options: FollowOptions, listener: (event: FeedEvent) => void): Promise<LiveFeed> {
    const tail = this.lines.slice(Math.max(this.head, this.lines.length - options.tail));
    if (tail.length > 0) listener({ type: "lines", lines: tail });
    this.listeners.add(listener);
    const self = this;
    return {
      get cursor() {
        return self.endCursor();
      },
      close: async () => {
        this.listeners.delete(listener);
      },
    };
  }

  /** One source for the ring's whole life: `followed` never disagrees with it. */
  async resumeFrom(cursor: string, _followed: string | null): Promise<ResumePlan> {
    const at = decodeRingCursor(cursor);
    if (at.run !== this.run) return { kind: "gap", reason: "restarted", to: this.floorCursor() };
    if (at.position < this.floorPosition()) {
      const first = this.lines[this.head] as Line;
      return {
        kind: "gap",
        reason: "trimmed",
        to: this.floorCursor(),
        skipped: Math.max(0, first.seq - 1 - at.seq),
      };
    }
    this.indexAt(cursor, at.position);
    return { kind: "continue", from: cursor };
  }

  check(cursor: string): void {
    decodeRingCursor(cursor);
  }

  compare(a: string, b: string): number {
    return decodeRingCursor(a).position - decodeRingCursor(b).position;
  }

  continues(prev: Line, next: Line): boolean {
    return next.seq === prev.seq + 1 && next.start === prev.end;
  }

  cursorBefore(line: Line): string {
    return this.prefix + cursorTail(line.start, line.seq - 1);
  }

  async readAfter(cursor: string | null, limit: number, maxBytes?: number): Promise<ReadAfterResult> {
    const from = cursor === null ? this.head : this.readableIndex(cursor);
    const budget = maxBytes ?? Number.POSITIVE_INFINITY;
    let to = from;
    let bytes = 0;
    while (to < this.lines.length && to - from < limit) {
      const size = lineBytes(this.lines[to] as Line);
      if (to > from && bytes + size > budget) break;
      bytes += size;
      to++;
    }
    const lines = this.lines.slice(from, to);
    const last = lines[lines.length - 1];
    return {
      lines,
      cursor: last?.cursor ?? cursor ?? this.floorCursor(),
      more: to < this.lines.length,
      atStart: lines.length > 0 && from === this.head,
    };
  }

  async readBefore(cursor: string, limit: number): Promise<ReadBeforeResult> {
    const to = this.readableIndex(cursor);
    const from = Math.max(this.head, to - limit);
    const lines = this.lines.slice(from, to);
    const first = lines[0];
    return { lines, cursor: first === undefined ? cursor : this.cursorBefore(first), more: from > this.head };
  }

  async tail(n: number): Promise<ReadAfterResult> {
    const from = Math.max(this.head, this.lines.length - n);
    return {
      lines: this.lines.slice(from),
      cursor: this.endCursor(),
      more: false,
      atStart: from === this.head,
    };
  }

  async tailCursor(n: number): Promise<string> {
    const first = this.lines[Math.max(this.head, this.lines.length - n)];
    return first === undefined ? this.endCursor() : this.cursorBefore(first);
  }

  async seek(atMs: number, limit: number): Promise<ReadAfterResult> {
    for (let i = this.head; i < this.lines.length; i++) {
      const line = this.lines[i] as Line;
      const ts = parseEntry(line.text).ts;
      if (ts !== undefined && Date.parse(ts) >= atMs) return this.readAfter(this.cursorBefore(line), limit);
    }
    return { lines: [], cursor: this.endCursor(), more: false, atStart: false };
  }

  async search(query: SearchQuery): Promise<SearchOutcome> {
    const held = this.lines.slice(this.head);
    const outcome = await searchTexts(
      held.map((l) => l.text),
      query,
    );
    return {
      matches: outcome.indexes.map((i) => held[i] as Line),
      limited: outcome.limited,
      timedOut: outcome.timedOut,
      scannedBytes: outcome.scannedBytes,
    };
  }

  async info(_followed: string | null): Promise<SourceInfo> {
    return { exists: true, size: this.bytes, mtimeMs: this.lastWriteMs, unreadBytes: 0 };
  }

  /** The lines held, as text (the ring keeps decoded lines, not the bytes it was fed). */
  async openRaw(): Promise<NodeJS.ReadableStream> {
    const lines = this.lines.slice(this.head);
    return Readable.from(
      (function* () {
        for (const line of lines) yield `${line.text}\n`;
      })(),
    );
  }

  /**
   * The ring keeps decoded text, not the bytes it was fed: a line's bytes are known only when its text is them
   * (valid UTF-8, not cut; the terminator, LF or CRLF, is told by the line's length). Null for the others.
   */
  async exactBytes(lines: readonly Line[]): Promise<(Buffer | null)[]> {
    return lines.map((line) => {
      if (line.truncatedFrom !== undefined || line.text.includes("\uFFFD")) return null;
      const text = Buffer.from(line.text, "utf8");
      const terminator = lineBytes(line) - text.length;
      if (terminator === 0 && line.unterminated) return text;
      if (terminator === 1) return Buffer.concat([text, LF]);
      if (terminator === 2) return Buffer.concat([text, CRLF]);
      return null;
    });
  }

  private line(text: string, bytes: number, truncatedFrom: number | undefined): FollowedLine {
    const start = this.position;
    this.position += bytes;
    const line = new FollowedLine(this.nextSeq++, text, start, this.position, this.prefix);
    if (truncatedFrom !== undefined) line.truncatedFrom = truncatedFrom;
    return line;
  }

  private keep(batch: Line[]): void {
    if (batch.length === 0) return;
    this.lastWriteMs = Date.now();
    for (const line of batch) {
      this.lines.push(line);
      this.bytes += lineBytes(line);
    }
    while (this.size > 1 && (this.size > this.options.maxLines || this.bytes > this.options.maxBytes)) {
      this.bytes -= lineBytes(this.lines[this.head] as Line);
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.lines.length) {
      this.lines = this.lines.slice(this.head);
      this.head = 0;
    }
    for (const listener of this.listeners) listener({ type: "lines", lines: batch });
  }

  private get size(): number {
    return this.lines.length - this.head;
  }

  private floorPosition(): number {
    return (this.lines[this.head] as Line | undefined)?.start ?? this.position;
  }

  /** The cursor before the oldest line held (the end when none is). */
  private floorCursor(): string {
    const first = this.lines[this.head];
    return first === undefined ? this.endCursor() : this.cursorBefore(first);
  }

  /** The cursor after the last line kept (where the next one will start). */
  endCursor(): string {
    return this.prefix + cursorTail(this.position, this.nextSeq - 1);
  }

  /** Index of the first line after a cursor of this run that the ring still holds; else throws as readAfter does. */
  private readableIndex(cursor: string): number {
    const at = decodeRingCursor(cursor);
    if (at.run !== this.run) {
      throw new StaleCursorError(`cursor "${cursor}" is from an earlier run of this stream`, "restarted");
    }
    if (at.position < this.floorPosition()) {
      throw new StaleCursorError(
        `cursor "${cursor}" is older than the lines this stream still holds`,
        "trimmed",
      );
    }
    return this.indexAt(cursor, at.position);
  }

  /** Index of the line that starts at `position` (the end: lines.length); CursorError when none does. */
  private indexAt(cursor: string, position: number): number {
    if (position === this.position) return this.lines.length;
    let lo = this.head;
    let hi = this.lines.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const start = (this.lines[mid] as Line).start;
      if (start === position) return mid;
      if (start < position) lo = mid + 1;
      else hi = mid - 1;
    }
    throw new CursorError(`cursor "${cursor}" is not at a line boundary of this stream`);
  }
}
