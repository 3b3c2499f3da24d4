import { samePosition } from "../protocol/lines-frame.js";
import type { WireLine } from "../protocol/messages.js";
import { fetchCount, fetchLines, type HttpContext } from "./history-api.js";
import type { GapInfo, StreamStore } from "./store.js";

/**
 * A stream's history as the page loads it, over the HTTP API (fetch injected; no DOM): older pages in front,
 * a block at a time or at a line placed before what is held, gaps counted and filled. It owns the store's
 * history pointers (`headCursor`, `atFileStart`); the caller owns notices and one-request-at-a-time.
 */

export interface HistoryLoaderOptions {
  http?: HttpContext;
  /** Lines per page of older history (a page must fit in memory beside what is held). */
  page: number;
  /** Lines per request while filling a gap (the server answers at most 5,000). */
  fillPage?: number;
}

/** How a gap fill ended. */
export type FillEnd =
  /** Every line of the gap is in the store (the gap row is gone). */
  | "complete"
  | "cancelled"
  /** The store is at its cap: the rest stays a gap. */
  | "budget"
  /** The file no longer holds the rest (the gap row says so). */
  | "unavailable"
  /** The gap row left the store meanwhile (dropped at the cap, or the stream started over). */
  | "gone";

export interface FillOptions {
  signal?: AbortSignal;
  /** After each page: lines loaded so far, of how many (null: not known). */
  onProgress?: (done: number, total: number | null) => void;
}

const FILL_PAGE = 5_000;

export class HistoryLoader {
  private readonly http: HttpContext | undefined;
  private readonly page: number;
  private readonly fillPage: number;
  /** Gaps whose count was asked for (once each: a 404 or a failure is not asked again). */
  private readonly counted = new WeakSet<GapInfo>();

  constructor(options: HistoryLoaderOptions) {
    this.http = options.http;
    this.page = options.page;
    this.fillPage = options.fillPage ?? FILL_PAGE;
  }

  /** Makes sure the store knows the position before its first row (needed to page back from it). */
  async ensureHeadCursor(name: string, s: StreamStore): Promise<void> {
    if (s.headCursor !== null || s.atFileStart || s.length === 0 || s.isGap(0)) return;
    const first = s.cursor(0);
    const page = await fetchLines(name, { before: first }, 1, undefined, this.http);
    const last = page.lines[page.lines.length - 1];
    if (!last) {
      s.atFileStart = true;
      return;
    }
    // `before` may include the line ending at the cursor (then page.before is our answer) or stop short of it.
    if (samePosition(last.c, first)) {
      s.headCursor = page.before;
      if (!page.more) s.atFileStart = true;
    } else s.headCursor = last.c;
  }

  /** Whether there is nothing older to load in front of row 0. */
  atStart(s: StreamStore): boolean {
    return s.atFileStart && s.headCursor === null;
  }

  /** One page of older lines put in front of row 0. */
  async loadOlder(name: string, s: StreamStore): Promise<void> {
    await this.ensureHeadCursor(name, s);
    const from = s.headCursor;
    if (this.atStart(s) || from === null) return;
    const page = await fetchLines(name, { before: from }, this.page, undefined, this.http);
    s.prepend(page.lines, page.before, !page.more || page.lines.length === 0);
  }

  /**
   * Loads the page of lines at a time older than what is held and puts it in front (a gap row between when they
   * do not touch). Returns the row of the first line at or after `ms`, or null when the server has none there.
   */
  async loadAt(name: string, s: StreamStore, ms: number): Promise<number | null> {
    await this.ensureHeadCursor(name, s);
    const page = await fetchLines(name, { at: new Date(ms).toISOString() }, this.page, undefined, this.http);
    if (page.lines.length === 0) return null;
    this.placeBlock(s, page.lines, page.before);
    return Math.min(s.rowAtTime(ms), s.length - 1);
  }

  /** Loads the line at `cursor` (and a few before it) when it is older than what is held; returns its row. */
  async loadThrough(name: string, s: StreamStore, cursor: string): Promise<number> {
    await this.ensureHeadCursor(name, s);
    const page = await fetchLines(name, { before: cursor }, 200, undefined, this.http);
    const end = page.lines.findIndex((l) => samePosition(l.c, cursor));
    if (end < 0) throw new Error("that line is no longer in the file");
    if (!this.placeBlock(s, page.lines.slice(0, end + 1), page.before)) {
      throw new Error("that line lies in a skipped range: load the skipped lines first");
    }
    return s.rowOfCursor(cursor);
  }

  /**
   * Puts a block of history older than the first row in memory: joined to it when they touch, else in front
   * with a gap row between. Returns false when the block is not older than what is held.
   */
  placeBlock(s: StreamStore, lines: WireLine[], before: string | null): boolean {
    const overlap = lines.findIndex((l) => s.rowOfCursor(l.c) >= 0);
    if (overlap === 0) return true; // already held
    const older = overlap > 0 ? lines.slice(0, overlap) : lines;
    const last = older[older.length - 1];
    const [oldest] = s.timeRange();
    const lastMs = last?.ts ? Date.parse(last.ts) : Number.NaN;
    if (overlap < 0 && s.length > 0 && !(lastMs <= oldest)) return false;
    if (overlap > 0 || (last && samePosition(last.c, s.headCursor)))
      s.prepend(older, before, before === null);
    else s.prependDetached(older, before, before === null);
    return true;
  }

  /**
   * Asks the server how many lines (and errors) each gap row not yet counted hides, and over what time; the
   * answers go into the gaps' GapInfo. Resolves true when any gap learned its count (the rows need drawing
   * again). A server without the count endpoint leaves the gaps as they were.
   */
  async countGaps(name: string, s: StreamStore, signal?: AbortSignal): Promise<boolean> {
    const gaps: GapInfo[] = [];
    for (let i = 0; i < s.length; i++) {
      const info = s.gap(i);
      if (info && countable(info) && !this.counted.has(info)) gaps.push(info);
    }
    // One at a time: the server runs only a few counts at once and answers more with 503.
    let learned = false;
    for (const info of gaps) if (await this.count(name, info, signal)) learned = true;
    return learned;
  }

  /** Counts one gap (again: after a partial fill its range changed). */
  async count(name: string, info: GapInfo, signal?: AbortSignal): Promise<boolean> {
    this.counted.add(info);
    let c: Awaited<ReturnType<typeof fetchCount>>;
    try {
      c = await fetchCount(name, { after: info.from, before: info.to }, signal, this.http);
    } catch {
      return false; // the row keeps saying "not loaded"; the count is a help, not a need
    }
    if (!c) return false;
    info.lines = c.lines;
    info.errors = c.errors;
    info.countExact = c.exact;
    const first = c.firstTime === null ? Number.NaN : Date.parse(c.firstTime);
    const last = c.lastTime === null ? Number.NaN : Date.parse(c.lastTime);
    if (Number.isNaN(first)) delete info.firstTime;
    else info.firstTime = first;
    if (Number.isNaN(last)) delete info.lastTime;
    else info.lastTime = last;
    return true;
  }

  /**
   * Streams the lines of a gap into the store, page after page, until the gap is closed, the store reaches its
   * cap, the file no longer has them, or `signal` aborts. The gap row shows the progress (`info.filling`) and
   * after a partial fill its new range is counted again.
   */
  async fillGap(name: string, s: StreamStore, info: GapInfo, options: FillOptions = {}): Promise<FillEnd> {
    const progress = { done: 0, total: info.lines ?? info.skipped ?? null };
    info.filling = { ...progress };
    // null when a request failed (the error goes to the caller).
    let end: FillEnd | null = null;
    try {
      end = await this.fillPages(name, s, info, progress, options);
      return end;
    } finally {
      delete info.filling;
      // What is left of the gap has a new range: its count (and time span) are asked again.
      if ((end === null || end === "cancelled" || end === "budget") && progress.done > 0) {
        delete info.lines;
        delete info.errors;
        delete info.firstTime;
        delete info.lastTime;
        this.counted.delete(info);
      }
    }
  }

  private async fillPages(
    name: string,
    s: StreamStore,
    info: GapInfo,
    progress: { done: number; total: number | null },
    { signal, onProgress }: FillOptions,
  ): Promise<FillEnd> {
    for (;;) {
      if (signal?.aborted) return "cancelled";
      // The page's line budget: what the cap leaves (a complete fill also removes the gap row).
      const room = s.cap - s.length;
      if (room <= 0) return "budget";
      let page: Awaited<ReturnType<typeof fetchLines>>;
      try {
        page = await fetchLines(name, { after: info.from }, Math.min(this.fillPage, room), signal, this.http);
      } catch (e) {
        if (signal?.aborted) return "cancelled";
        throw e;
      }
      const stop = page.lines.findIndex((l) => samePosition(l.c, info.to));
      const lines = stop >= 0 ? page.lines.slice(0, stop + 1) : page.lines;
      // The gap row may have moved while we waited (lines dropped, appended or prepended): find it again.
      const at = findGapRow(s, info);
      if (at < 0) return "gone";
      if (signal?.aborted) return "cancelled";
      progress.done += lines.length;
      info.filling = { ...progress };
      if (info.lines !== undefined) info.lines = Math.max(0, info.lines - lines.length);
      s.fillGap(at, lines, stop >= 0);
      onProgress?.(progress.done, progress.total);
      if (stop >= 0) return "complete";
      if (!page.more || lines.length === 0) {
        const again = findGapRow(s, info);
        if (again >= 0) s.fillGap(again, [], false);
        return "unavailable";
      }
    }
  }
}

/** A gap that hides lines the server may count (not a marker row, not known to be gone). */
function countable(info: GapInfo): boolean {
  return !info.unavailable && !info.reason.startsWith("marker-");
}

/** The row of a gap (rows move as lines arrive and history is put in front), or -1 when it left the store. */
export function findGapRow(s: StreamStore, info: GapInfo): number {
  for (let i = s.length - 1; i >= 0; i--) if (s.gap(i) === info) return i;
  return -1;
}
