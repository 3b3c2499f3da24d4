import { type Line, lineBytes, startsSource } from "../core/line.js";

/** What the window needs from its backend to place a cursor among its lines (cursors are the backend's). */
export interface CursorOrder {
  compare(a: string, b: string): number;
  cursorBefore(line: Line): string;
}

/**
 * The most recent lines of one stream (one source generation), bounded by a line count and a byte budget, so a
 * client that subscribes with a small tail or resumes from a recent cursor is served from memory.
 */
export class RecentWindow {
  private lines: Line[] = [];
  /** Index of the oldest kept line in `lines` (dropping from the front without copying every time). */
  private head = 0;
  private bytes = 0;
  /**
   * Where the in-memory content starts: after `floorLine` (the newest line dropped; its cursor is built only when
   * asked: a burst drops nearly every line it pushes) or at `floorCursor`. Both null until the first line of a
   * generation whose start was not known in advance.
   */
  private floorCursor: string | null = null;
  private floorLine: Line | null = null;
  /** True while the window holds every line of the generation from its start. */
  private complete = false;

  constructor(
    private readonly maxLines: number,
    private readonly maxBytes: number,
    private readonly order: CursorOrder,
  ) {}

  get size(): number {
    return this.lines.length - this.head;
  }

  /**
   * Forget everything; the next lines follow `cursor` (null: wherever the next line starts). `fromStart`: the
   * cursor is the start of its source, so the window will hold all of it until it overflows.
   */
  reset(cursor: string | null, fromStart: boolean): void {
    this.lines = [];
    this.head = 0;
    this.bytes = 0;
    this.floorCursor = cursor;
    this.floorLine = null;
    this.complete = cursor !== null && fromStart;
  }

  push(batch: readonly Line[]): void {
    const first = batch[0];
    if (first === undefined) return;
    if (this.floorCursor === null && this.floorLine === null) {
      this.floorCursor = this.order.cursorBefore(first);
      this.complete = startsSource(first);
    }
    for (const line of batch) {
      this.lines.push(line);
      this.bytes += lineBytes(line);
    }
    while (this.size > 0 && (this.size > this.maxLines || this.bytes > this.maxBytes)) {
      const old = this.lines[this.head] as Line;
      this.bytes -= lineBytes(old);
      this.floorLine = old;
      this.floorCursor = null;
      this.complete = false;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.lines.length) {
      this.lines = this.lines.slice(this.head);
      this.head = 0;
    }
  }

  /**
   * Lines after `cursor`, or undefined when the window cannot answer (older than what it holds, not a line
   * boundary, or beyond its end). `end` is the cursor after the stream's last line; both are of its source.
   */
  after(cursor: string, end: string): Line[] | undefined {
    const { compare } = this.order;
    if (compare(cursor, end) === 0) return [];
    const floor = this.floorCursor ?? this.floorLine?.cursor ?? null;
    if (floor === null || compare(cursor, floor) < 0 || compare(cursor, end) > 0) return undefined;
    if (compare(cursor, floor) === 0) return this.lines.slice(this.head);
    // Binary search for the line that ends exactly at `cursor`: the answer starts after it.
    let lo = this.head;
    let hi = this.lines.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const c = compare((this.lines[mid] as Line).cursor, cursor);
      if (c === 0) return this.lines.slice(mid + 1);
      if (c < 0) lo = mid + 1;
      else hi = mid - 1;
    }
    return undefined;
  }

  /** The last `n` lines, or undefined when the window holds fewer and older ones exist only in the source. */
  last(n: number): Line[] | undefined {
    if (n <= this.size) return this.lines.slice(this.lines.length - n);
    return this.complete ? this.lines.slice(this.head) : undefined;
  }
}
