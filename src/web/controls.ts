import { $, setHidden, setText } from "./dom.js";
import type { ExportFormat } from "./export-lines.js";
import type { FilterIndex, FilterSpec } from "./filter.js";
import { invalidRegexText } from "./regex-error-text.js";
import type { StreamStore } from "./store.js";
import type { TimeMode } from "./time-format.js";
import { TimeModeToggle } from "./time-mode-toggle.js";

/**
 * The toolbar: the filter box and its options (debounced into a FilterSpec), the match count, match stepping,
 * pause, UTC/local, jump to a time, load older, and the "new lines" and "newest" buttons. It reads and draws the
 * controls; what they do is the hooks' business.
 */

const FILTER_DEBOUNCE_MS = 150;
/** The line count changes with every batch; rewriting it each frame costs a toolbar layout: 4 times a second. */
const COUNT_EVERY_MS = 250;

export interface ControlsHooks {
  /** The filter box or an option changed (after the debounce). */
  filter(spec: FilterSpec): void;
  step(dir: 1 | -1): void;
  togglePause(): void;
  setTimeMode(mode: TimeMode): void;
  jump(ms: number): void;
  loadOlder(): void;
  newLines(): void;
  toEnd(): void;
  export(format: ExportFormat): void;
}

/** What the match count reads: the shown tab's rows and filter. */
export interface CountSource {
  store: StreamStore;
  filter: FilterIndex;
  spec: FilterSpec;
}

/** What the buttons around the list show. */
export interface ListState {
  newBelow: number;
  follow: boolean;
  paused: boolean;
  /** Rows held back while paused. */
  held: number;
  /** A history request is running. */
  busy: boolean;
  store: StreamStore;
}

export class Controls {
  readonly search = $<HTMLInputElement>("search");
  private readonly optCase = $("opt-case");
  private readonly optRegex = $("opt-regex");
  private readonly optOnly = $("opt-only");
  private readonly matchCount = $("match-count");
  private readonly pause = $("pause");
  private readonly timeMode: TimeModeToggle;
  private readonly jumpTime = $<HTMLInputElement>("jump-time");
  private readonly loadOlder = $<HTMLButtonElement>("load-older");
  private readonly newLines = $<HTMLButtonElement>("new-lines");
  private readonly toEnd = $<HTMLButtonElement>("to-end");
  private filterTimer: ReturnType<typeof setTimeout> | null = null;
  private countTimer: ReturnType<typeof setTimeout> | null = null;
  private countShownAt = Number.NEGATIVE_INFINITY;
  private mode: TimeMode = "utc";

  constructor(
    private readonly hooks: ControlsHooks,
    /** The shown tab's rows and filter, read when the count is drawn. */
    private readonly counted: () => CountSource | null,
  ) {
    this.timeMode = new TimeModeToggle($("time-mode"), (mode) => hooks.setTimeMode(mode));
    this.bind();
  }

  /** The filter as the controls say it. */
  readSpec(): FilterSpec {
    return {
      text: this.search.value,
      caseSensitive: this.optCase.getAttribute("aria-pressed") === "true",
      regex: this.optRegex.getAttribute("aria-pressed") === "true",
      onlyMatching: this.optOnly.getAttribute("aria-pressed") === "true",
    };
  }

  /** Shows a tab's filter in the controls. */
  applySpec(spec: FilterSpec): void {
    this.search.value = spec.text;
    this.optCase.setAttribute("aria-pressed", String(spec.caseSensitive));
    this.optRegex.setAttribute("aria-pressed", String(spec.regex));
    this.optOnly.setAttribute("aria-pressed", String(spec.onlyMatching));
  }

  /** Applies what the controls say after `delay` (typing restarts the wait). */
  scheduleFilter(delay = FILTER_DEBOUNCE_MS): void {
    if (this.filterTimer) clearTimeout(this.filterTimer);
    this.filterTimer = setTimeout(() => {
      this.filterTimer = null;
      this.hooks.filter(this.readSpec());
    }, delay);
  }

  focusSearch(): void {
    this.search.focus();
    this.search.select();
  }

  clearSearch(): void {
    this.search.value = "";
    this.scheduleFilter(0);
    this.search.blur();
  }

  showTimeMode(mode: TimeMode): void {
    this.mode = mode;
    this.timeMode.show(mode);
  }

  showPaused(paused: boolean): void {
    this.pause.setAttribute("aria-pressed", String(paused));
  }

  /** The buttons around the list, after each render of it. */
  showList(state: ListState): void {
    const { newBelow, paused, store: s } = state;
    setHidden(this.newLines, newBelow === 0 || paused);
    setHidden(this.toEnd, state.follow && !paused);
    if (newBelow > 0)
      setText(this.newLines, `${newBelow.toLocaleString("en")} new line${newBelow === 1 ? "" : "s"} ↓`);
    if (paused)
      setText(this.pause, state.held > 0 ? `Resume (${state.held.toLocaleString("en")} new)` : "Resume");
    else setText(this.pause, "Pause");
    const atStart = s.atFileStart && s.headCursor === null;
    const disabled = state.busy || s.length === 0 || atStart || s.isGap(0);
    if (this.loadOlder.disabled !== disabled) this.loadOlder.disabled = disabled;
    setText(this.loadOlder, atStart ? "Start of file" : "Load older lines");
  }

  /**
   * The rows or matches changed: the count is drawn at most every COUNT_EVERY_MS, and always once after the last
   * change, so it ends equal to what the page holds (a quiet log's first tail, the last of a run of batches).
   */
  countChanged(): void {
    if (this.countTimer !== null) return;
    const wait = this.countShownAt + COUNT_EVERY_MS - performance.now();
    if (wait <= 0) this.showCount();
    else
      this.countTimer = setTimeout(() => {
        this.countTimer = null;
        this.showCount();
      }, wait);
  }

  /** Draws the count now (a new tab or filter). */
  showCount(): void {
    if (this.countTimer !== null) clearTimeout(this.countTimer);
    this.countTimer = null;
    this.countShownAt = performance.now();
    const src = this.counted();
    if (!src) return;
    const f = src.filter;
    const el = this.matchCount;
    el.classList.toggle("error", f.error !== null);
    el.dataset.state = f.state;
    this.search.setAttribute("aria-invalid", String(f.error !== null));
    const n = src.store.length.toLocaleString("en");
    if (f.state === "invalid") setText(el, invalidRegexText(f.error ?? "", src.spec.text));
    else if (f.error !== null) setText(el, f.error);
    else if (f.pending) setText(el, `Filtering ${n} lines…`);
    else if (f.active) setText(el, `${f.matchCount.toLocaleString("en")} matches in ${n} lines`);
    else setText(el, `${n} lines`);
  }

  close(): void {
    if (this.filterTimer) clearTimeout(this.filterTimer);
    if (this.countTimer) clearTimeout(this.countTimer);
  }

  private bind(): void {
    const { hooks } = this;
    this.search.addEventListener("input", () => this.scheduleFilter());
    this.search.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") {
        ev.preventDefault();
        if (this.filterTimer) this.scheduleFilter(0);
        else hooks.step(ev.shiftKey ? -1 : 1);
      }
    });
    for (const b of [this.optCase, this.optRegex, this.optOnly]) {
      b.addEventListener("click", () => {
        b.setAttribute("aria-pressed", String(b.getAttribute("aria-pressed") !== "true"));
        this.scheduleFilter(0);
      });
    }
    $("match-prev").addEventListener("click", () => hooks.step(-1));
    $("match-next").addEventListener("click", () => hooks.step(1));
    this.pause.addEventListener("click", () => hooks.togglePause());
    $("jump-go").addEventListener("click", () => {
      // datetime-local is in local time; UTC mode reads the same digits as UTC.
      const v = this.jumpTime.value;
      if (!v) return;
      const ms =
        this.mode === "utc" ? Date.parse(`${v.length === 16 ? `${v}:00` : v}Z`) : new Date(v).getTime();
      hooks.jump(ms);
    });
    this.loadOlder.addEventListener("click", () => hooks.loadOlder());
    this.newLines.addEventListener("click", () => hooks.newLines());
    this.toEnd.addEventListener("click", () => hooks.toEnd());
    $("export-log").addEventListener("click", () => hooks.export("log"));
    $("export-json").addEventListener("click", () => hooks.export("json"));
  }
}
