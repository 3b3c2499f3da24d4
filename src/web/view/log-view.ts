import {
  elementScroll,
  observeElementOffset,
  observeElementRect,
  Virtualizer,
  type VirtualizerOptions,
} from "@tanstack/virtual-core";
import type { FilterIndex } from "../filter.js";
import type { StoreChange, StreamStore } from "../store.js";
import { relativeTime, type TimeMode } from "../time-format.js";
import { fillRow, type RowMark } from "./row-renderer.js";

/**
 * The virtual list: only the rows in view (plus a few) exist in the DOM, rendered at most once per animation
 * frame however many lines arrive. Rows have one fixed height, so a row's position is index * ROW_HEIGHT.
 *
 * @tanstack/virtual-core observes the scroll element (size, offset, scrolling) and lays out fixed blocks of
 * BLOCK rows; we virtualise blocks rather than rows because it re-measures every item whenever the count
 * changes, which at a million rows would cost more than a frame per arriving batch.
 *
 * Scroll behaviour: while at the bottom the view follows new lines; scrolled up it stays on the same line
 * (anchored by absolute row index, so dropped or prepended rows do not move it) and counts what arrived below.
 */

export const ROW_HEIGHT = 20;
const BLOCK = 512;
const OVERSCAN_ROWS = 8;

export interface ViewSource {
  store: StreamStore;
  filter: FilterIndex;
  /** Show only matching rows (when the filter is active). */
  onlyMatching: boolean;
  /** Paused: rows at or past this absolute index are not shown yet. */
  limitAbs: number | null;
  /** A merged view: the chip naming a row's stream. */
  mark?: ((row: number) => RowMark | null) | undefined;
}

export interface LogViewHooks {
  onSelect(row: number): void;
  onFillGap(row: number): void;
  /** Called after each render (counts, buttons). */
  onRendered(): void;
}

interface Anchor {
  abs: number;
  offset: number;
}

export class LogView {
  readonly scroller: HTMLElement;
  private readonly spacer: HTMLElement;
  private readonly pool: HTMLElement[] = [];
  private readonly poolKeys: string[] = [];
  private readonly poolTops: number[] = [];
  private spacerHeight = -1;
  private readonly virtualizer: Virtualizer<HTMLElement, HTMLElement>;
  private readonly unmount: () => void;
  private source: ViewSource | null = null;
  private unsubscribeStore: (() => void) | null = null;
  private frame = 0;
  private version = 0;
  private expectedTop = -1;
  private lastTop = 0;
  private anchor: Anchor | null = null;
  private leftAtAbs = 0;
  private shown = 0;
  /** Following the newest line (at the bottom). */
  follow = true;
  selectedAbs: number | null = null;
  timeMode: TimeMode = "utc";

  constructor(
    scroller: HTMLElement,
    private readonly hooks: LogViewHooks,
  ) {
    this.scroller = scroller;
    this.spacer = document.createElement("div");
    this.spacer.className = "log-spacer";
    scroller.append(this.spacer);
    this.virtualizer = new Virtualizer(this.options(0));
    this.unmount = this.virtualizer._didMount();
    // Only real scrolling decides following; resizes (the virtualizer's onChange) just redraw.
    scroller.addEventListener("scroll", () => this.onScroll(), { passive: true });
    scroller.addEventListener("click", (ev) => this.onClick(ev));
    scroller.addEventListener("mouseover", (ev) => this.onHover(ev));
  }

  /** Shows another stream (or the same with another filter mode); keeps the given scroll state. */
  setSource(
    source: ViewSource,
    state?: { follow: boolean; anchor: Anchor | null; selectedAbs: number | null },
  ): void {
    if (this.source?.store !== source.store) {
      this.unsubscribeStore?.();
      this.unsubscribeStore = source.store.onChange((c) => this.onStoreChange(c));
    }
    this.source = source;
    if (state) {
      this.follow = state.follow;
      this.anchor = state.anchor;
      this.selectedAbs = state.selectedAbs;
      this.leftAtAbs = this.endAbs();
    }
    this.refresh();
  }

  /** Scroll state to keep per stream tab. */
  saveState(): { follow: boolean; anchor: Anchor | null; selectedAbs: number | null } {
    return {
      follow: this.follow,
      anchor: this.follow ? null : this.captureAnchor(),
      selectedAbs: this.selectedAbs,
    };
  }

  /** Everything must be drawn again (filter, time mode, selection changed). */
  refresh(): void {
    this.version++;
    this.invalidate();
  }

  private renderNow(): void {
    if (this.frame !== 0) {
      cancelAnimationFrame(this.frame);
      this.frame = 0;
    }
    this.render();
  }

  invalidate(): void {
    if (this.frame !== 0) return;
    this.frame = requestAnimationFrame(() => {
      this.frame = 0;
      this.render();
    });
  }

  /** Rows shown (all, or matching when filtering). */
  viewCount(): number {
    const s = this.source;
    if (!s) return 0;
    const end = this.endAbs();
    return this.filtering() ? s.filter.countBelow(end) : end - s.store.base;
  }

  /** Store row of a view index. */
  rowAt(v: number): number {
    const s = this.source as ViewSource;
    return this.filtering() ? s.filter.matchAbs(v) - s.store.base : v;
  }

  /** View index of a store row (the nearest shown at or after it when filtering). */
  viewIndexOfRow(row: number): number {
    const s = this.source as ViewSource;
    return this.filtering() ? s.filter.countBelow(s.store.base + row) : row;
  }

  /** Lines that arrived below since the user scrolled up (or paused). */
  newBelow(): number {
    const s = this.source;
    if (!s || this.follow) return 0;
    const all = s.store.base + s.store.length;
    const from = Math.max(this.leftAtAbs, s.store.base);
    return this.filtering() ? s.filter.countBelow(all) - s.filter.countBelow(from) : all - from;
  }

  /** Row elements in the DOM now (for the debug hook). */
  domRowCount(): number {
    return this.shown;
  }

  /** Top visible store row, or -1. */
  topRow(): number {
    const v = Math.floor(this.scroller.scrollTop / ROW_HEIGHT);
    return v < this.viewCount() ? this.rowAt(v) : -1;
  }

  scrollToBottom(): void {
    this.follow = true;
    this.anchor = null;
    this.invalidate();
  }

  /** Brings a store row into view (centred) and stops following. */
  scrollToRow(row: number, select = false): void {
    const v = this.viewIndexOfRow(row);
    const top = Math.max(0, v * ROW_HEIGHT - (this.scroller.clientHeight - ROW_HEIGHT) / 2);
    const s = this.source as ViewSource;
    this.follow = false;
    this.leftAtAbs = this.endAbs();
    this.anchor = { abs: s.store.base + this.rowAt(Math.floor(top / ROW_HEIGHT)), offset: top % ROW_HEIGHT };
    if (select) this.selectedAbs = s.store.base + row;
    this.refresh();
  }

  close(): void {
    if (this.frame !== 0) cancelAnimationFrame(this.frame);
    this.frame = 0;
    this.unsubscribeStore?.();
    this.unmount();
  }

  // ---- internals ----

  private filtering(): boolean {
    const s = this.source;
    return !!s && s.onlyMatching && s.filter.active;
  }

  private endAbs(): number {
    const s = this.source;
    if (!s) return 0;
    const end = s.store.base + s.store.length;
    return s.limitAbs === null ? end : Math.max(s.store.base, Math.min(end, s.limitAbs));
  }

  private options(blocks: number, count = 0): VirtualizerOptions<HTMLElement, HTMLElement> {
    const lastRows = count - (blocks - 1) * BLOCK;
    return {
      count: blocks,
      getScrollElement: () => this.scroller,
      estimateSize: (i) => (i === blocks - 1 ? lastRows : BLOCK) * ROW_HEIGHT,
      // A new key function per layout makes the virtualizer re-lay the (few) blocks when the last one grows.
      getItemKey: (i) => i,
      scrollToFn: elementScroll,
      observeElementRect,
      observeElementOffset,
      overscan: 0,
      // While scrolling, draw inside the scroll event: the frame that shows the new offset then shows its rows
      // too (drawing in the next animation frame leaves one frame of blank or stale rows).
      onChange: (_virtualizer, scrolling) => (scrolling ? this.renderNow() : this.invalidate()),
    };
  }

  private onStoreChange(c: StoreChange): void {
    if (c.kind === "insert" || c.kind === "remove" || c.kind === "clear") this.version++;
    // Rows inserted or removed above the line in view (a merged view's late line, a filled gap) renumber it:
    // move the anchor, the selection and the "new below" mark with their rows, so the view does not jump.
    if ((c.kind === "insert" || c.kind === "remove") && c.at > 0 && this.source) {
      const at = this.source.store.base + c.at;
      const d = c.kind === "insert" ? c.count : -c.count;
      const move = (abs: number): number => (abs < at ? abs : Math.max(at, abs + d));
      if (this.anchor) this.anchor = { ...this.anchor, abs: move(this.anchor.abs) };
      if (this.selectedAbs !== null) this.selectedAbs = move(this.selectedAbs);
      this.leftAtAbs = move(this.leftAtAbs);
    }
    this.invalidate();
  }

  private onScroll(): void {
    const top = this.scroller.scrollTop;
    const movedUp = top < this.lastTop - 0.5;
    this.lastTop = top;
    if (Math.abs(top - this.expectedTop) < 1) return; // our own scroll
    this.expectedTop = -1;
    const atBottom = top + this.scroller.clientHeight >= this.scroller.scrollHeight - ROW_HEIGHT / 2;
    if (atBottom && !this.follow) {
      this.follow = true;
      this.anchor = null;
    } else if (!atBottom && (movedUp || !this.follow)) {
      // Only moving up leaves the bottom: a resize or a clamp while following is not the user scrolling away.
      if (this.follow) this.leftAtAbs = this.endAbs();
      this.follow = false;
      this.anchor = this.captureAnchor();
    }
    this.invalidate();
  }

  private captureAnchor(): Anchor | null {
    const s = this.source;
    const top = this.scroller.scrollTop;
    const v = Math.floor(top / ROW_HEIGHT);
    if (!s || v >= this.viewCount()) return null;
    return { abs: s.store.base + this.rowAt(v), offset: top - v * ROW_HEIGHT };
  }

  private setTop(top: number): void {
    if (Math.abs(this.scroller.scrollTop - top) < 1) return;
    this.expectedTop = top;
    this.scroller.scrollTop = top;
    // The browser may clamp; remember what it actually took.
    this.expectedTop = this.scroller.scrollTop;
    this.lastTop = this.expectedTop;
  }

  private render(): void {
    const s = this.source;
    if (!s) return;
    const count = this.viewCount();
    const blocks = Math.ceil(count / BLOCK);
    this.virtualizer.setOptions(this.options(blocks, count));
    this.virtualizer._willUpdate();
    const total = count * ROW_HEIGHT;
    if (total !== this.spacerHeight) {
      this.spacer.style.height = `${total}px`;
      this.spacerHeight = total;
    }
    const height = this.scroller.clientHeight;
    if (this.follow) {
      this.setTop(Math.max(0, total - height));
    } else if (this.anchor) {
      const s2 = this.source as ViewSource;
      const v = this.filtering()
        ? s2.filter.countBelow(this.anchor.abs)
        : Math.max(0, this.anchor.abs - s2.store.base);
      this.setTop(Math.min(Math.max(0, total - height), v * ROW_HEIGHT + this.anchor.offset));
    } else if (this.scroller.scrollTop > Math.max(0, total - height)) {
      // The list shrank under us (a new filter): the browser clamps scrollTop only at its next layout.
      this.setTop(Math.max(0, total - height));
    }
    // The blocks the virtualizer reports in view bound the rows we draw.
    const items = this.virtualizer.getVirtualItems();
    const top = this.scroller.scrollTop;
    let first = Math.max(0, Math.floor(top / ROW_HEIGHT) - OVERSCAN_ROWS);
    let last = Math.min(count, Math.ceil((top + height) / ROW_HEIGHT) + OVERSCAN_ROWS);
    const firstItem = items[0];
    const lastItem = items[items.length - 1];
    if (firstItem && lastItem) {
      first = Math.max(first, firstItem.index * BLOCK - OVERSCAN_ROWS);
      last = Math.min(last, (lastItem.index + 1) * BLOCK + OVERSCAN_ROWS);
    }
    this.drawRows(s, Math.max(0, first), Math.max(first, last));
    this.hooks.onRendered();
  }

  /**
   * Row v is drawn by pool element v % pool size, so when the window moves by a few rows (new lines while
   * following) only those few elements get new content; the others keep theirs and at most move.
   */
  private drawRows(s: ViewSource, first: number, last: number): void {
    const n = last - first;
    if (this.pool.length < n) {
      while (this.pool.length < n + 16) {
        const el = document.createElement("div");
        el.hidden = true;
        this.spacer.append(el);
        this.pool.push(el);
      }
      // A new pool size changes which element draws which row: start over.
      this.poolKeys.length = 0;
      this.poolTops.length = 0;
    }
    const size = this.pool.length;
    const used = new Uint8Array(size);
    const matcher = s.filter.highlighter;
    for (let v = first; v < last; v++) {
      const k = v % size;
      used[k] = 1;
      const el = this.pool[k] as HTMLElement;
      const row = this.rowAt(v);
      const abs = s.store.base + row;
      const selected = abs === this.selectedAbs;
      const key = `${abs}:${this.version}:${selected ? 1 : 0}`;
      if (this.poolKeys[k] !== key) {
        fillRow(el, s.store, row, { matcher, timeMode: this.timeMode, selected, mark: s.mark?.(row) });
        el.dataset.abs = String(abs);
        this.poolKeys[k] = key;
      }
      if (el.hidden) el.hidden = false;
      if (this.poolTops[k] !== v) {
        el.style.transform = `translateY(${v * ROW_HEIGHT}px)`;
        this.poolTops[k] = v;
      }
    }
    for (let k = 0; k < size; k++)
      if (used[k] === 0 && !this.pool[k]?.hidden) (this.pool[k] as HTMLElement).hidden = true;
    this.shown = n;
  }

  private rowOfEvent(ev: Event): number | null {
    const target = ev.target instanceof Element ? ev.target.closest<HTMLElement>("[data-abs]") : null;
    const s = this.source;
    if (!target || !s) return null;
    const row = Number(target.dataset.abs) - s.store.base;
    return row >= 0 && row < s.store.length ? row : null;
  }

  private onClick(ev: MouseEvent): void {
    const row = this.rowOfEvent(ev);
    if (row === null) return;
    if (ev.target instanceof Element && ev.target.closest(".gap-fill")) {
      this.hooks.onFillGap(row);
      return;
    }
    if ((window.getSelection()?.toString() ?? "") !== "") return; // selecting text, not a row
    this.hooks.onSelect(row);
  }

  /** Relative time on hover, computed when it is needed rather than for every row. */
  private onHover(ev: MouseEvent): void {
    const ts = ev.target instanceof Element ? ev.target.closest<HTMLElement>(".ts") : null;
    const row = this.rowOfEvent(ev);
    if (!ts || row === null || !this.source) return;
    const ms = this.source.store.time(row);
    if (Number.isNaN(ms)) return;
    ts.title = `${relativeTime(ms, Date.now())} · ${new Date(ms).toISOString()}`;
  }
}
