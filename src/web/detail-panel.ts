import { fetchWholeLine } from "./history-api.js";
import { MergedTab } from "./merged-tab.js";
import type { StreamTab } from "./stream-tab.js";
import { formatTime } from "./time-format.js";
import { appendHighlighted, formatBytes } from "./view/row-renderer.js";

/**
 * The selected line's panel: its stream, level and time, and its text whole, highlighted by the tab's filter as it
 * is now. A cut row (the store holds only a long line's head) is loaded whole from the server once, and the
 * panel is drawn again when it arrives.
 */

export interface DetailElements {
  detail: HTMLElement;
  detailMeta: HTMLElement;
  detailText: HTMLElement;
  detailStatus: HTMLElement;
}

/** The whole text of a cut row, loaded from `GET /api/streams/:name/line`. */
interface WholeLine {
  tab: StreamTab;
  cursor: string;
  promise: Promise<string>;
  text?: string;
  /** Set when even the whole line was longer than the server keeps (maxLineBytes): its real length. */
  trunc?: number | undefined;
  error?: string;
}

export class DetailPanel {
  /** The selected cut row's whole line (loading, loaded or failed). */
  private whole: WholeLine | null = null;

  constructor(
    private readonly ui: DetailElements,
    /** The selected line now (null: none), read at every draw. */
    private readonly selected: () => { tab: StreamTab; row: number } | null,
  ) {}

  /** Draws the selected line, or hides the panel: after the selection, the filter or the time mode changed. */
  update(): void {
    const sel = this.selected();
    this.ui.detail.hidden = sel === null;
    if (!sel) return;
    const { tab, row } = sel;
    const s = tab.store;
    const ms = s.time(row);
    const level = ["info", "ok", "warn", "error"][s.level(row)] ?? "info";
    const when = Number.isNaN(ms)
      ? "no timestamp"
      : `${new Date(ms).toISOString()} UTC · ${formatTime(ms, "local").join(" ")} local`;
    const mark = tab instanceof MergedTab ? tab.markOf(row) : null;
    this.ui.detailMeta.textContent = `${mark ? `${mark.title} · ` : ""}${level} · ${when}`;
    let text = s.text(row);
    let status = "";
    let failed = false;
    const cut = s.trunc(row);
    if (cut !== undefined) {
      // The store holds the line's head only: show it whole once loaded, the head meanwhile or on failure.
      const w = this.wholeLine(tab, row);
      if (w.text !== undefined) {
        text = w.text;
        if (w.trunc !== undefined)
          status = `This line is ${formatBytes(w.trunc)}, longer than the server keeps whole: it is cut at ${formatBytes(new TextEncoder().encode(w.text).length)}.`;
      } else if (w.error !== undefined) {
        status = `Could not load the whole line (${formatBytes(cut)}): ${w.error}. Showing only its start.`;
        failed = true;
      } else status = `Loading the whole line (${formatBytes(cut)})…`;
    }
    if (this.ui.detailStatus.textContent !== status) this.ui.detailStatus.textContent = status;
    this.ui.detailStatus.hidden = status === "";
    this.ui.detailStatus.classList.toggle("failed", failed);
    this.ui.detailText.replaceChildren();
    appendHighlighted(this.ui.detailText, text, 0, tab.filter.highlighter);
  }

  /** Choosing a line again retries a whole line that failed to load. */
  retryFailed(): void {
    if (this.whole?.error !== undefined) this.whole = null;
  }

  /** A row's whole text: at once for a row that holds all of it, else once it is loaded (waited for if on its way). */
  text(tab: StreamTab, row: number): Promise<string> {
    const s = tab.store;
    return s.trunc(row) === undefined ? Promise.resolve(s.text(row)) : this.wholeLine(tab, row).promise;
  }

  /** The whole line of a cut row: loaded once (the selected one is kept); the panel is redrawn when it arrives. */
  private wholeLine(tab: StreamTab, row: number): WholeLine {
    const cursor = tab.store.cursor(row);
    const w = this.whole;
    if (w && w.tab === tab && w.cursor === cursor) return w;
    const entry = { tab, cursor } as WholeLine;
    entry.promise = fetchWholeLine(tab.streamOf(row), cursor)
      .then(
        (line) => {
          entry.text = line.text;
          entry.trunc = line.trunc;
          return line.text;
        },
        (e: unknown) => {
          entry.error = e instanceof Error ? e.message : String(e);
          throw e;
        },
      )
      .finally(() => {
        if (this.whole === entry) this.update();
      });
    entry.promise.catch(() => {}); // reported in the panel (and by Copy line)
    this.whole = entry;
    return entry;
  }
}
