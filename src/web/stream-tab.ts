import type { StreamSourceInfo } from "../protocol/messages.js";
import { EMPTY_FILTER, FilterIndex, type FilterSpec } from "./filter.js";
import { StreamStore } from "./store.js";

/** One stream as the page holds it: its lines, its filter and where the user was looking. */
export class StreamTab {
  readonly store: StreamStore;
  readonly filter: FilterIndex;
  spec: FilterSpec = { ...EMPTY_FILTER };
  /** Scroll state saved while another tab is shown. */
  viewState: {
    follow: boolean;
    anchor: { abs: number; offset: number } | null;
    selectedAbs: number | null;
  } | null = null;
  /** The scroll state when a regex filter was set, to frame the view with once its rows arrive. */
  keepForFilter: {
    follow: boolean;
    anchor: { abs: number; offset: number } | null;
    selectedAbs: number | null;
  } | null = null;
  /** Catch-up done on the current socket. */
  live = false;
  /** The server says the file does not exist (yet). */
  missing = false;
  /** Paused at this absolute row (rows from here on are held back). */
  pauseAbs: number | null = null;
  /** A history request is running (one at a time per tab). */
  busy = false;
  readonly button: HTMLButtonElement;
  /** The host the stream's lines come from (hello's `host`), when the server says. */
  host: string | undefined;

  constructor(
    readonly name: string,
    readonly isDefault: boolean,
    cap: number,
    /** A button of its own (a merged tab's); default: one naming the stream. */
    button?: HTMLButtonElement,
  ) {
    this.store = new StreamStore({ cap });
    this.filter = new FilterIndex(this.store);
    if (button) {
      this.button = button;
      return;
    }
    this.button = document.createElement("button");
    this.button.type = "button";
    this.button.setAttribute("role", "tab");
    this.button.textContent = name;
    this.button.dataset.stream = name;
  }

  /**
   * What hello says the stream's source is (a container: its state, a note such as "the Engine API is not
   * reachable"): the state after the name, the note in the button's title. Text only, never HTML.
   */
  setSource(source: StreamSourceInfo | undefined): void {
    this.button.querySelector(".tab-state")?.remove();
    if (source === undefined) return;
    if (source.state !== undefined) {
      const state = document.createElement("span");
      state.className = source.state === "running" ? "tab-state is-running" : "tab-state";
      state.textContent = source.state;
      this.button.append(state);
    }
    const about = [`${this.name}: a ${source.kind}${source.state === undefined ? "" : `, ${source.state}`}`];
    if (source.note !== undefined) about.push(source.note);
    this.button.title = about.join(". ");
  }

  /** The stream a row comes from (a merged tab's rows come from several). */
  streamOf(_row: number): string {
    return this.name;
  }

  close(): void {
    this.filter.close();
  }
}
