import type { Line } from "../core/line.js";

/**
 * The most recent lines of one stream (one file generation), bounded by a line count and a byte budget, so a
 * client that subscribes with a small tail or resumes from a recent cursor is served from memory.
 */
export class RecentWindow {
  private lines: Line[] = [];
  /** Index of the oldest kept line in `lines` (dropping from the front without copying every time). */
  private head = 0;
  private bytes = 0;
  /**
   * Source position where the in-memory content starts: lines before it are not in memory. null until the first
   * line of a generation whose start position was not known in advance.
   */
  private floor: number | null = null;
  /** True while the window holds every line of the generation from position 0. */
  private complete = false;

  constructor(
    private readonly maxLines: number,
    private readonly maxBytes: number,
  ) {}

  get size(): number {
    return this.lines.length - this.head;
  }

  /** Forget everything; the next lines start at `position` (null: wherever the next line starts). */
  reset(position: number | null): void {
    this.lines = [];
    this.head = 0;
    this.bytes = 0;
    this.floor = position;
    this.complete = position === 0;
  }

  push(batch: readonly Line[]): void {
    const first = batch[0];
    if (first === undefined) return;
    if (this.floor === null) {
      this.floor = first.start;
      this.complete = first.start === 0;
    }
    for (const line of batch) {
      this.lines.push(line);
      this.bytes += line.end - line.start;
    }
    while (this.size > 0 && (this.size > this.maxLines || this.bytes > this.maxBytes)) {
      const old = this.lines[this.head] as Line;
      this.bytes -= old.end - old.start;
      this.floor = old.end;
      this.complete = false;
      this.head++;
    }
    if (this.head > 1024 && this.head * 2 > this.lines.length) {
      this.lines = this.lines.slice(this.head);
      this.head = 0;
    }
  }

  /**
   * Lines after `position`, or undefined when the window cannot answer (older than what it holds, not a line
   * boundary, or beyond its end). `end` is the stream's current position.
   */
  after(position: number, end: number): Line[] | undefined {
    if (position === end) return [];
    if (this.floor === null || position < this.floor || position > end) return undefined;
    if (position === this.floor) return this.lines.slice(this.head);
    // Binary search for the line that starts exactly at `position`.
    let lo = this.head;
    let hi = this.lines.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >>> 1;
      const start = (this.lines[mid] as Line).start;
      if (start === position) return this.lines.slice(mid);
      if (start < position) lo = mid + 1;
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
