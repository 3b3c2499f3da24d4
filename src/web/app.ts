import { type FrameLine, frameLines, samePosition } from "../protocol/lines-frame.js";
import type { ServerMessage, StreamInfo, WireLine } from "../protocol/messages.js";
import { AlertsPanel } from "./alerts-panel.js";
import { ActivityChart } from "./chart.js";
import { copyText } from "./clipboard.js";
import { Connection } from "./connection.js";
import { exitedText } from "./exit-marker.js";
import { download, type ExportFormat, exportBlob } from "./export-lines.js";
import type { FilterEvent, FilterSpec } from "./filter.js";
import { HelpOverlay } from "./help-overlay.js";
import { ApiError, fetchLines, fetchWholeLine, listStreams, searchStream } from "./history-api.js";
import { IntegrityView } from "./integrity-view.js";
import { installKeyboard } from "./keyboard.js";
import { MergedTab } from "./merged-tab.js";
import { MetricsPanel } from "./metrics-panel.js";
import { invalidRegexText } from "./regex-error-text.js";
import { safeText } from "./safe-text.js";
import { StatusView } from "./status-view.js";
import { DEFAULT_CAP, Lvl } from "./store.js";
import { StreamStateView } from "./stream-state-view.js";
import { StreamTab } from "./stream-tab.js";
import { allTabButton, layoutTabs, setTabKind } from "./tab-bar.js";
import { installThemeToggle } from "./theme-toggle.js";
import { formatTime, type TimeMode } from "./time-format.js";
import { TimeModeToggle } from "./time-mode-toggle.js";
import { installToolbarCollapse } from "./toolbar-collapse.js";
import { UnreadBadges } from "./unread-badge.js";
import { formatUrlState, readUrlState } from "./url-state.js";
import { LogView } from "./view/log-view.js";
import { appendHighlighted, formatBytes } from "./view/row-renderer.js";

/** Lines asked for on first subscribe, per history page, and per gap fill. */
const TAIL = 5_000;
const MAX_PAGE = 1_000;
const FILTER_DEBOUNCE_MS = 150;
/** Most long lines an export loads whole (one request each, in turn); beyond them it exports their heads. */
const MAX_WHOLE_FETCHES = 200;

/** The whole text of a cut row (the store holds its head), loaded from `GET /api/streams/:name/line`. */
interface WholeLine {
  tab: StreamTab;
  cursor: string;
  promise: Promise<string>;
  text?: string;
  /** Set when even the whole line was longer than the server keeps (maxLineBytes): its real length. */
  trunc?: number | undefined;
  error?: string;
}

export interface AppOptions {
  /** Most lines held per stream (default 1,000,000). */
  cap?: number;
}

const $ = <T extends HTMLElement = HTMLElement>(id: string): T => {
  const el = document.getElementById(id);
  if (!el) throw new Error(`page is missing #${id}`);
  return el as T;
};

/** Wires the page: connection -> stores -> filter -> view, and the controls around them. */
export class App {
  private readonly tabs = new Map<string, StreamTab>();
  private active: StreamTab | null = null;
  /** The merged view shown or last shown (one at a time; it holds copies of its members' rows). */
  private merged: MergedTab | null = null;
  private readonly allButton = allTabButton();
  /** A merged view named in the URL, opened once its streams are known. */
  private pendingMerge: string[] | null = null;
  private readonly view: LogView;
  private readonly chart: ActivityChart;
  private readonly status: StatusView;
  private readonly streamState: StreamStateView;
  private readonly timeToggle = new TimeModeToggle($("time-mode"), (mode) => this.setTimeMode(mode));
  private readonly help = new HelpOverlay({
    dialog: $<HTMLDialogElement>("help"),
    list: $("help-list"),
    open: $("help-open"),
    close: $("help-close"),
  });
  private readonly conn: Connection;
  private readonly integrity = new IntegrityView((name) => this.tabs.get(name)?.button);
  private readonly alerts = new AlertsPanel({
    banner: $("alert-banner"),
    bannerText: $("alert-banner-text"),
    toggle: $<HTMLButtonElement>("alerts-toggle"),
    count: $("alerts-count"),
    deliveryMark: $("alerts-delivery-mark"),
    panel: $("alerts-panel"),
    list: $("alerts-list"),
    delivery: $("alerts-delivery"),
    targets: $("alerts-targets"),
    notify: $<HTMLButtonElement>("alerts-notify"),
    close: $<HTMLButtonElement>("alerts-close"),
  });
  private readonly unread = new UnreadBadges();
  private readonly metrics = new MetricsPanel(
    {
      toggle: $<HTMLButtonElement>("metrics-toggle"),
      panel: $("metrics-panel"),
      now: $("metrics-now"),
      cpu: $("metrics-cpu"),
      load: $("metrics-load"),
      net: $("metrics-net"),
      disk: $("metrics-disk"),
    },
    {
      send: (m) => this.conn.send(m),
      onPick: (ms) => void this.jumpToTime(ms),
      store: () => this.active?.store ?? null,
    },
  );
  private readonly cap: number;
  /** History page size: a page must fit in memory beside what is held. */
  private readonly page: number;
  private readonly ui = {
    tabs: $("tabs"),
    search: $<HTMLInputElement>("search"),
    optCase: $("opt-case"),
    optRegex: $("opt-regex"),
    optOnly: $("opt-only"),
    matchCount: $("match-count"),
    pause: $("pause"),
    jumpTime: $<HTMLInputElement>("jump-time"),
    loadOlder: $<HTMLButtonElement>("load-older"),
    notice: $("notice"),
    newLines: $<HTMLButtonElement>("new-lines"),
    toEnd: $<HTMLButtonElement>("to-end"),
    detail: $("detail"),
    detailMeta: $("detail-meta"),
    detailText: $("detail-text"),
    detailStatus: $("detail-status"),
    results: $<HTMLDialogElement>("results"),
    resultsSummary: $("results-summary"),
    resultsList: $("results-list"),
    exportMenu: $<HTMLDetailsElement>("export-menu"),
  };
  private paused = false;
  /** The selected cut row's whole line (loading, loaded or failed). */
  private whole: WholeLine | null = null;
  private exporting = false;
  private timeMode: TimeMode = "utc";
  private filterTimer: ReturnType<typeof setTimeout> | null = null;
  private chartTimer: ReturnType<typeof setTimeout> | null = null;
  /** A line named in the URL, selected once its stream has caught up. */
  private pendingLine: string | null = null;
  private lastHash = "";
  private removeKeyboard: () => void = () => {};
  /** Duration of the last full filter pass (ms), for the debug hook. */
  lastFilterMs = 0;

  constructor(options: AppOptions = {}) {
    this.cap = options.cap ?? DEFAULT_CAP;
    this.page = Math.max(1, Math.min(MAX_PAGE, Math.floor(this.cap / 4)));
    this.view = new LogView($("log"), {
      onSelect: (row) => this.select(row),
      onFillGap: (row) => void this.fillGap(row),
      onRendered: () => this.afterRender(),
    });
    this.chart = new ActivityChart($("chart"), (ms) => void this.jumpToTime(ms));
    this.status = new StatusView({
      root: $("status"),
      label: $("status-label"),
      updated: $("status-updated"),
      details: $("status-details"),
      meter: $("status-meter"),
    });
    this.streamState = new StreamStateView($("stream-state"), this.status);
    const wsUrl = new URL("ws", document.baseURI);
    wsUrl.protocol = wsUrl.protocol === "https:" ? "wss:" : "ws:";
    this.conn = new Connection({
      url: wsUrl.href,
      onMessage: (msg) => this.onMessage(msg),
      onStatus: (s) => {
        if (s.state !== "open") for (const t of this.tabs.values()) t.live = false;
        if (s.state === "reconnecting") this.checkSignedIn();
        this.status.update(s);
      },
    });
  }

  start(): void {
    const url = readUrlState(location.hash);
    this.lastHash = location.hash;
    this.pendingLine = url.line;
    this.pendingStream = url.stream;
    this.pendingMerge = url.merge ?? null;
    this.pendingSpec = url.filter;
    this.applySpecToControls(url.filter);
    const savedMode = localStorage.getItem("livetrail.timeMode");
    if (savedMode === "local") this.setTimeMode("local");
    this.bindControls();
    this.conn.start();
  }

  close(): void {
    this.conn.close();
    this.view.close();
    this.chart.close();
    this.metrics.close();
    this.status.close();
    this.removeKeyboard();
    if (this.filterTimer) clearTimeout(this.filterTimer);
    if (this.chartTimer) clearTimeout(this.chartTimer);
    for (const t of this.tabs.values()) t.close();
    this.merged?.close();
  }

  // ---- read-only facts for the debug hook ----
  get activeTab(): StreamTab | null {
    return this.active;
  }
  get domRows(): number {
    return this.view.domRowCount();
  }
  get following(): boolean {
    return this.view.follow;
  }
  get isPaused(): boolean {
    return this.paused;
  }
  get connectionStatus() {
    return { ...this.conn.status };
  }
  streamNames(): string[] {
    return [...this.tabs.keys()];
  }
  rowsOf(name: string): number {
    return this.tabs.get(name)?.store.length ?? 0;
  }
  mergedNames(): string[] | null {
    return this.active instanceof MergedTab ? this.active.names : null;
  }
  rowStreams(limit: number): string[] {
    const tab = this.active;
    if (!tab) return [];
    const out: string[] = [];
    for (let i = Math.max(0, tab.store.length - limit); i < tab.store.length; i++) out.push(tab.streamOf(i));
    return out;
  }

  private pendingStream: string | null = null;
  private pendingSpec: FilterSpec | null = null;

  // ---- messages ----

  private onMessage(msg: ServerMessage): void {
    switch (msg.type) {
      case "hello":
        this.onHello(msg.streams);
        this.integrity.onHello(msg.streams);
        this.metrics.onHello(msg.metrics);
        return;
      case "metrics":
      case "metrics-snapshot":
      case "metrics-unsubscribed":
        this.metrics.onMessage(msg);
        return;
      case "integrity":
        this.integrity.onIntegrity(msg.stream, msg.integrity);
        return;
      case "error":
        this.notice(`Server: ${msg.message}`);
        if (msg.code === "bad_cursor" && msg.stream) this.restartStream(msg.stream);
        return;
      case "pong":
      case "unsubscribed":
      case "subscribed":
        return;
      case "alerts":
        this.alerts.onSnapshot(msg.firing, msg.recent);
        return;
      case "alert":
        this.alerts.onAlert(msg.alert);
        return;
    }
    const tab = this.tabs.get(msg.stream);
    if (!tab) return;
    switch (msg.type) {
      case "live":
        tab.live = true;
        // An empty file delivers no line to take the resume cursor from; without this one a reconnect would ask
        // for the tail again and silently miss whatever was written beyond it meanwhile. (A missing file has no
        // cursor yet: null.)
        if (tab.store.resumeCursor === null && msg.cursor !== null) tab.store.resumeCursor = msg.cursor;
        if (tab === this.active) this.onActiveLive();
        break;
      case "lines":
        this.onLines(tab, frameLines(msg));
        break;
      case "gap":
        tab.store.appendGap({ from: msg.from, to: msg.to, skipped: msg.skipped, reason: msg.reason });
        this.changed(tab);
        break;
      case "truncated":
      case "rotated":
      case "restarted":
        tab.store.appendGap({
          from: msg.cursor,
          to: msg.cursor,
          reason: `marker-${msg.type}`,
          unavailable: true,
        });
        this.changed(tab);
        break;
      case "exited":
        tab.store.appendGap({
          from: msg.cursor,
          to: msg.cursor,
          reason: "marker-exited",
          unavailable: true,
          note: exitedText(msg),
        });
        this.changed(tab);
        break;
      case "missing":
        tab.missing = true;
        if (tab === this.active) this.afterRender();
        break;
    }
  }

  private onHello(streams: StreamInfo[]): void {
    for (const s of streams) {
      const known = this.tabs.get(s.name);
      if (known) {
        known.host = s.host;
        setTabKind(known, s.source?.kind);
        known.setSource(s.source);
        continue;
      }
      const tab = new StreamTab(s.name, s.default, this.cap);
      tab.host = s.host;
      setTabKind(tab, s.source?.kind);
      tab.setSource(s.source);
      tab.filter.onUpdate((e) => this.onFilterUpdate(tab, e));
      this.tabs.set(s.name, tab);
    }
    layoutTabs(this.ui.tabs, [...this.tabs.values()], this.allButton);
    const merge = this.pendingMerge;
    this.pendingMerge = null;
    if (!this.active && merge) this.openMerged(merge);
    if (!this.active) {
      const wanted = this.pendingStream ? this.tabs.get(this.pendingStream) : undefined;
      const first =
        wanted ??
        streams.map((s) => this.tabs.get(s.name)).find((t) => t?.isDefault) ??
        this.tabs.values().next().value;
      if (first && this.pendingSpec) {
        this.setSpec(first, this.pendingSpec);
        this.pendingSpec = null;
      }
      if (first) this.activate(first);
    }
    // A new socket: (re)subscribe every stream, resuming after the last line each one holds.
    for (const tab of this.tabs.values()) {
      const since = tab.store.resumeCursor;
      this.conn.send(
        since !== null
          ? { type: "subscribe", stream: tab.name, since }
          : { type: "subscribe", stream: tab.name, tail: Math.min(TAIL, this.cap) },
      );
    }
  }

  /**
   * The server cannot read our resume cursor (e.g. a cursor format from another version): start the stream
   * over from its tail rather than show nothing. What was held is dropped, so nothing shows twice.
   */
  private restartStream(name: string): void {
    const tab = this.tabs.get(name);
    if (!tab) return;
    tab.store.clear();
    tab.store.resumeCursor = null;
    this.conn.send({ type: "subscribe", stream: name, tail: Math.min(TAIL, this.cap) });
    this.changed(tab);
  }

  private onLines(tab: StreamTab, lines: FrameLine[]): void {
    // The protocol resumes exactly after our cursor; this only guards against a repeated boundary line.
    const first = lines[0];
    const fresh = first && samePosition(first.c, tab.store.resumeCursor) ? lines.slice(1) : lines;
    if (fresh.length === 0) return;
    tab.missing = false;
    // The first tail of a stream is what was there, not news; lines after it (live or resumed) are.
    const news = tab.live || tab.store.resumeCursor !== null;
    tab.store.appendLive(fresh);
    if (news && !this.shows(tab)) this.countUnread(tab, fresh.length);
    if (this.active instanceof MergedTab && this.active.members.includes(tab))
      this.status.linesArrived(Date.now());
    if (tab === this.active) {
      this.status.linesArrived(Date.now());
      if (this.pendingLine && tab.live) void this.restoreLine();
    }
    this.changed(tab);
  }

  /** Whether the tab's lines are on screen: it is shown, or it is a member of the merged view shown. */
  private shows(tab: StreamTab): boolean {
    const a = this.active;
    return tab === a || (a instanceof MergedTab && a.members.includes(tab));
  }

  /** The newest `n` rows arrived unseen: the tab's badge counts them, errors apart. */
  private countUnread(tab: StreamTab, n: number): void {
    const s = tab.store;
    let errors = 0;
    for (let i = Math.max(0, s.length - n); i < s.length; i++) if (s.level(i) === Lvl.error) errors++;
    this.unread.arrived(tab.button, n, errors);
  }

  private changed(tab: StreamTab): void {
    const a = this.active;
    if (a instanceof MergedTab && a.members.includes(tab)) this.scheduleChart(); // its store tells the view itself
    if (tab !== a) return;
    this.view.invalidate();
    this.scheduleChart();
  }

  private onActiveLive(): void {
    this.afterRender();
    if (this.pendingLine) void this.restoreLine();
  }

  /**
   * A browser cannot see why a WebSocket upgrade failed. When the server requires sign-in and our session is gone
   * (it ended, or the server restarted), reconnecting would fail forever: ask the API, and on a 401 go to the
   * sign-in page, which brings the user back to this very view.
   */
  private checkSignedIn(): void {
    if (this.probingAuth) return;
    this.probingAuth = true;
    listStreams()
      .catch((e: unknown) => {
        if (e instanceof ApiError && e.status === 401) this.toSignIn();
      })
      .finally(() => {
        this.probingAuth = false;
      });
  }

  private probingAuth = false;

  private toSignIn(): void {
    const next = `${location.pathname}${location.search}${location.hash}`;
    location.assign(new URL(`login?next=${encodeURIComponent(next)}`, document.baseURI).href);
  }

  // ---- tabs ----

  private activate(tab: StreamTab): void {
    if (this.active === tab) return;
    if (this.active) {
      this.active.viewState = this.view.saveState();
      this.active.button.setAttribute("aria-selected", "false");
    }
    this.active = tab;
    tab.button.setAttribute("aria-selected", "true");
    for (const t of tab instanceof MergedTab ? tab.members : [tab]) this.unread.seen(t.button);
    this.metrics.redraw();
    this.applySpecToControls(tab.spec);
    this.view.setSource(
      this.viewSource(tab),
      tab.viewState ?? { follow: true, anchor: null, selectedAbs: null },
    );
    this.updateDetail();
    this.updateMatchCount();
    this.notice("");
    this.chart.update(tab.store);
    this.syncUrl();
  }

  private viewSource(tab: StreamTab) {
    return {
      store: tab.store,
      filter: tab.filter,
      onlyMatching: tab.spec.onlyMatching,
      limitAbs: tab.pauseAbs,
      mark: tab instanceof MergedTab ? (row: number) => tab.markOf(row) : undefined,
    };
  }

  /**
   * Shows the named streams merged by time (unknown names are left out; fewer than two known: nothing). The
   * merged tab is made anew when the set changes; its members stay subscribed as they are.
   */
  private openMerged(names: readonly string[]): void {
    const members = [...new Set(names)].flatMap((n) => this.tabs.get(n) ?? []);
    if (members.length < 2) {
      if (members[0]) this.activate(members[0]);
      return;
    }
    const key = members.map((m) => m.name).join(",");
    if (this.merged?.name !== key) {
      const all = [...this.tabs.keys()];
      const old = this.merged;
      const button = key === this.allButton.dataset.merge ? this.allButton : this.hostButton(key);
      const tab = new MergedTab(
        members,
        members.map((m) => all.indexOf(m.name)),
        this.cap,
        button,
      );
      tab.filter.onUpdate((e) => this.onFilterUpdate(tab, e));
      tab.spec = { ...(this.active?.spec ?? tab.spec) };
      tab.filter.setSpec(tab.spec);
      if (this.paused) tab.pauseAbs = tab.store.base + tab.store.length;
      this.merged = tab;
      if (this.active === old) this.active = null;
      old?.button.setAttribute("aria-selected", "false");
      old?.close();
    }
    this.activate(this.merged as MergedTab);
  }

  /** A host header's button (tab-bar.ts), or a detached one for a merge the bar has no button for (from a URL). */
  private hostButton(key: string): HTMLButtonElement {
    for (const b of this.ui.tabs.querySelectorAll<HTMLButtonElement>("button[data-merge]"))
      if (b.dataset.merge === key) return b;
    return allTabButton();
  }

  // ---- filter ----

  private readSpecFromControls(): FilterSpec {
    return {
      text: this.ui.search.value,
      caseSensitive: this.ui.optCase.getAttribute("aria-pressed") === "true",
      regex: this.ui.optRegex.getAttribute("aria-pressed") === "true",
      onlyMatching: this.ui.optOnly.getAttribute("aria-pressed") === "true",
    };
  }

  private applySpecToControls(spec: FilterSpec): void {
    this.ui.search.value = spec.text;
    this.ui.optCase.setAttribute("aria-pressed", String(spec.caseSensitive));
    this.ui.optRegex.setAttribute("aria-pressed", String(spec.regex));
    this.ui.optOnly.setAttribute("aria-pressed", String(spec.onlyMatching));
  }

  private scheduleFilter(delay = FILTER_DEBOUNCE_MS): void {
    if (this.filterTimer) clearTimeout(this.filterTimer);
    this.filterTimer = setTimeout(() => {
      this.filterTimer = null;
      if (this.active) this.setSpec(this.active, this.readSpecFromControls());
    }, delay);
  }

  private setSpec(tab: StreamTab, spec: FilterSpec): void {
    const prev = tab.spec;
    tab.spec = spec;
    const keep = tab === this.active ? this.view.saveState() : null;
    if (
      prev.text !== spec.text ||
      prev.caseSensitive !== spec.caseSensitive ||
      prev.regex !== spec.regex ||
      !tab.filter.active
    ) {
      tab.filter.setSpec(spec);
      if (!tab.filter.pending) this.lastFilterMs = tab.filter.lastPassMs;
    }
    // A regex runs in the worker: its rows come later ("settled"), and the view is framed again then.
    tab.keepForFilter = tab.filter.pending && keep ? keep : null;
    if (tab === this.active && keep) {
      this.reframe(tab, keep);
      this.updateMatchCount();
      this.syncUrl();
    }
  }

  /** Shows the tab's rows for its filter, keeping the view where it was (or on the selected line). */
  private reframe(tab: StreamTab, keep: ReturnType<LogView["saveState"]>): void {
    this.view.setSource(this.viewSource(tab), keep.follow ? keep : { ...keep, anchor: null });
    if (!keep.follow && keep.selectedAbs !== null && !tab.filter.pending) {
      const row = keep.selectedAbs - tab.store.base;
      if (row >= 0 && row < tab.store.length) this.view.scrollToRow(row);
    }
  }

  /** The filter moved on by itself: a regex's rows or highlights arrived, or it went too slow. */
  private onFilterUpdate(tab: StreamTab, e: FilterEvent): void {
    if (e === "settled") {
      this.lastFilterMs = tab.filter.lastPassMs;
      const keep = tab.keepForFilter;
      tab.keepForFilter = null;
      if (tab !== this.active) return;
      this.reframe(tab, keep && tab.spec.onlyMatching ? keep : this.view.saveState());
      this.updateMatchCount();
      return;
    }
    if (tab !== this.active) return;
    if (e === "matches") this.view.invalidate();
    else {
      this.view.refresh();
      this.updateDetail();
      if (this.ui.results.open && this.hits?.tab === tab) this.renderHits();
    }
  }

  private updateMatchCount(): void {
    const tab = this.active;
    const el = this.ui.matchCount;
    if (!tab) return;
    const f = tab.filter;
    el.classList.toggle("error", f.error !== null);
    el.dataset.state = f.state;
    this.ui.search.setAttribute("aria-invalid", String(f.error !== null));
    const n = tab.store.length.toLocaleString("en");
    if (f.state === "invalid") setText(el, invalidRegexText(f.error ?? "", tab.spec.text));
    else if (f.error !== null) setText(el, f.error);
    else if (f.pending) setText(el, `Filtering ${n} lines…`);
    else if (f.active) setText(el, `${f.matchCount.toLocaleString("en")} matches in ${n} lines`);
    else setText(el, `${n} lines`);
  }

  /** Selects the next (dir 1) or previous (-1) matching line after the selection or the top of the view. */
  private stepMatch(dir: 1 | -1): void {
    const tab = this.active;
    if (!tab?.filter.active) return;
    const f = tab.filter;
    const s = tab.store;
    const fromAbs = this.view.selectedAbs ?? s.base + Math.max(0, this.view.topRow());
    let k = dir === 1 ? f.countBelow(fromAbs + 1) : f.countBelow(fromAbs) - 1;
    while (k >= 0 && k < f.count && s.isGap(f.matchAbs(k) - s.base)) k += dir;
    if (k < 0 || k >= f.count) {
      this.notice(dir === 1 ? "No later match in memory" : "No earlier match in memory (try Search file)");
      return;
    }
    this.notice("");
    const row = f.matchAbs(k) - s.base;
    this.view.scrollToRow(row, true);
    this.select(row);
  }

  // ---- selection, detail, URL ----

  private select(row: number | null): void {
    const tab = this.active;
    if (!tab) return;
    this.view.selectedAbs = row === null ? null : tab.store.base + row;
    // Choosing a line again retries a whole line that failed to load.
    if (this.whole?.error !== undefined) this.whole = null;
    this.view.refresh();
    this.updateDetail();
    this.syncUrl();
  }

  private selectedRow(): number | null {
    const tab = this.active;
    if (!tab || this.view.selectedAbs === null) return null;
    const row = this.view.selectedAbs - tab.store.base;
    return row >= 0 && row < tab.store.length && !tab.store.isGap(row) ? row : null;
  }

  private updateDetail(): void {
    const tab = this.active;
    const row = this.selectedRow();
    this.ui.detail.hidden = row === null;
    if (!tab || row === null) return;
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
      const w = this.wholeLine(tab, s.cursor(row), tab.streamOf(row));
      if (w.text !== undefined) {
        text = w.text;
        if (w.trunc !== undefined)
          status = `This line is ${formatBytes(w.trunc)}, longer than the server keeps whole: it is cut at ${formatBytes(new TextEncoder().encode(w.text).length)}.`;
      } else if (w.error !== undefined) {
        status = `Could not load the whole line (${formatBytes(cut)}): ${w.error}. Showing only its start.`;
        failed = true;
      } else status = `Loading the whole line (${formatBytes(cut)})…`;
    }
    setText(this.ui.detailStatus, status);
    setHidden(this.ui.detailStatus, status === "");
    this.ui.detailStatus.classList.toggle("failed", failed);
    this.ui.detailText.replaceChildren();
    appendHighlighted(this.ui.detailText, text, 0, tab.filter.highlighter);
  }

  /** The whole line at `cursor` of a tab: loaded once (the selected one is kept); the panel is redrawn when it arrives. */
  private wholeLine(tab: StreamTab, cursor: string, stream = tab.name): WholeLine {
    const w = this.whole;
    if (w && w.tab === tab && w.cursor === cursor) return w;
    const entry = { tab, cursor } as WholeLine;
    entry.promise = fetchWholeLine(stream, cursor)
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
        if (this.whole === entry) this.updateDetail();
      });
    entry.promise.catch(() => {}); // reported in the panel (and by Copy line)
    this.whole = entry;
    return entry;
  }

  private linkFor(cursor: string | null): string {
    const tab = this.active;
    const hash = formatUrlState({
      stream: tab?.name ?? null,
      merge: tab instanceof MergedTab ? tab.names : null,
      filter: tab?.spec ?? readUrlState("").filter,
      line: cursor,
    });
    return `${location.origin}${location.pathname}${location.search}${hash}`;
  }

  private syncUrl(): void {
    const tab = this.active;
    if (!tab) return;
    const row = this.selectedRow();
    const hash = formatUrlState({
      stream: tab.name,
      merge: tab instanceof MergedTab ? tab.names : null,
      filter: tab.spec,
      line: row === null ? null : tab.store.cursor(row),
    });
    if (hash === this.lastHash) return;
    this.lastHash = hash;
    history.replaceState(null, "", `${location.pathname}${location.search}${hash}`);
  }

  private onHashChange(): void {
    if (location.hash === this.lastHash) return;
    this.lastHash = location.hash;
    const url = readUrlState(location.hash);
    if (url.merge) this.openMerged(url.merge);
    const tab = url.merge ? this.active : url.stream ? this.tabs.get(url.stream) : this.active;
    if (!tab) return;
    this.activate(tab);
    this.applySpecToControls(url.filter);
    this.setSpec(tab, url.filter);
    this.pendingLine = url.line;
    if (this.pendingLine) void this.restoreLine();
  }

  /** Selects the line named in the URL: from memory, or loaded from the server's history. */
  private async restoreLine(): Promise<void> {
    const cursor = this.pendingLine;
    const tab = this.active;
    if (!cursor || !tab) return;
    this.pendingLine = null;
    await this.jumpToCursor(tab, cursor);
  }

  // ---- history ----

  /** Makes sure the store knows the position before its first row (needed to page back from it). */
  private async ensureHeadCursor(tab: StreamTab): Promise<void> {
    const s = tab.store;
    if (s.headCursor !== null || s.atFileStart || s.length === 0 || s.isGap(0)) return;
    const first = s.cursor(0);
    const page = await fetchLines(tab.name, { before: first }, 1);
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

  private async history<T>(tab: StreamTab, what: string, run: () => Promise<T>): Promise<T | undefined> {
    if (tab.busy) return undefined;
    tab.busy = true;
    this.notice(`${what}…`);
    try {
      const result = await run();
      this.notice("");
      return result;
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) this.toSignIn();
      this.notice(`${what} failed: ${e instanceof Error ? e.message : String(e)}`);
      return undefined;
    } finally {
      tab.busy = false;
      this.afterRender();
    }
  }

  private async loadOlder(tab = this.active): Promise<void> {
    if (!tab) return;
    // A merged view pages back each of its streams, each from its own first line; the merge places the pages.
    if (tab instanceof MergedTab) {
      await this.history(tab, "Loading older lines of each stream", async () => {
        await Promise.all(tab.members.map((m) => this.loadOlder(m)));
        tab.store.atFileStart = tab.merge.atStart;
      });
      return;
    }
    await this.history(tab, "Loading older lines", async () => {
      await this.ensureHeadCursor(tab);
      const s = tab.store;
      if (s.atFileStart && s.headCursor === null) return;
      const from = s.headCursor;
      if (from === null) return;
      const page = await fetchLines(tab.name, { before: from }, this.page);
      s.prepend(page.lines, page.before, !page.more || page.lines.length === 0);
      this.changed(tab);
    });
  }

  private async fillGap(row: number, tab = this.active): Promise<void> {
    if (!tab) return;
    if (tab instanceof MergedTab) {
      // The gap is its stream's: filled there, from that stream's cursors (the merge is rebuilt after).
      const at = tab.merge.memberGap(row);
      const member = at ? tab.members[at.member] : undefined;
      if (at && member) await this.fillGap(at.row, member);
      return;
    }
    const info = tab.store.gap(row);
    if (!info) return;
    await this.history(tab, "Loading skipped lines", async () => {
      const page = await fetchLines(tab.name, { after: info.from }, this.page);
      const end = page.lines.findIndex((l) => samePosition(l.c, info.to));
      const lines = end >= 0 ? page.lines.slice(0, end + 1) : page.lines;
      // The gap row may have moved while we waited (lines dropped or prepended): find it again.
      const at = tab.store.gap(row) === info ? row : findGapRow(tab, info);
      if (at < 0) return;
      tab.store.fillGap(at, lines, end >= 0);
      if (end < 0 && !page.more) {
        const again = findGapRow(tab, info);
        if (again >= 0) tab.store.fillGap(again, [], false);
      }
      this.changed(tab);
    });
  }

  /** Scrolls to the first line at or after a time, loading it from the server when it is older than memory. */
  private async jumpToTime(ms: number): Promise<void> {
    const tab = this.active;
    if (!tab || Number.isNaN(ms)) return;
    const s = tab.store;
    const [oldest] = s.timeRange();
    if (s.length > 0 && !Number.isNaN(oldest) && (ms >= oldest || s.atFileStart)) {
      const row = s.rowAtTime(ms);
      if (row >= s.length) this.view.scrollToBottom();
      else this.view.scrollToRow(row, true);
      this.select(row < s.length ? row : null);
      return;
    }
    if (tab instanceof MergedTab) {
      this.notice("That time is older than the merged view holds: load older lines first");
      return;
    }
    await this.history(tab, "Loading history", async () => {
      await this.ensureHeadCursor(tab);
      const page = await fetchLines(tab.name, { at: new Date(ms).toISOString() }, this.page);
      if (page.lines.length === 0) {
        this.view.scrollToBottom();
        return;
      }
      this.placeBlock(tab, page.lines, page.before);
      const row = tab.store.rowAtTime(ms);
      this.view.scrollToRow(Math.min(row, tab.store.length - 1), true);
      this.select(Math.min(row, tab.store.length - 1));
    });
  }

  private async jumpToCursor(tab: StreamTab, cursor: string): Promise<void> {
    const row = tab.store.rowOfCursor(cursor);
    if (row >= 0) {
      this.view.scrollToRow(row, true);
      this.select(row);
      return;
    }
    if (tab instanceof MergedTab) {
      this.notice("The linked line is not in the merged view: open its stream's tab to load it");
      return;
    }
    await this.history(tab, "Loading the linked line", async () => {
      await this.ensureHeadCursor(tab);
      const page = await fetchLines(tab.name, { before: cursor }, 200);
      const end = page.lines.findIndex((l) => samePosition(l.c, cursor));
      if (end < 0) throw new Error("that line is no longer in the file");
      if (!this.placeBlock(tab, page.lines.slice(0, end + 1), page.before)) {
        throw new Error("that line lies in a skipped range: load the skipped lines first");
      }
      const at = tab.store.rowOfCursor(cursor);
      if (at >= 0) {
        this.view.scrollToRow(at, true);
        this.select(at);
      }
    });
  }

  /**
   * Puts a block of history older than the first row in memory: joined to it when they touch, else in front
   * with a gap row between. Returns false when the block is not older than what is held.
   */
  private placeBlock(tab: StreamTab, lines: WireLine[], before: string | null): boolean {
    const s = tab.store;
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
    this.changed(tab);
    return true;
  }

  // ---- server search ----

  private async searchFile(): Promise<void> {
    const tab = this.active;
    if (!tab) return;
    if (tab instanceof MergedTab) {
      this.notice("Search file searches one stream on the server: open its tab");
      return;
    }
    const spec = this.readSpecFromControls();
    const { results, resultsSummary, resultsList } = this.ui;
    resultsList.replaceChildren();
    this.hits = null;
    if (!results.open) results.showModal();
    if (spec.text === "") {
      resultsSummary.textContent = "Type something to search for first.";
      return;
    }
    resultsSummary.textContent = `Searching ${tab.name} for “${safeText(spec.text)}”…`;
    try {
      const r = await searchStream(tab.name, {
        q: spec.text,
        regex: spec.regex,
        caseSensitive: spec.caseSensitive,
        limit: 500,
      });
      const more = r.limited ? " (first ones only)" : r.timedOut ? " (stopped at the time limit)" : "";
      resultsSummary.textContent = `${r.matches.length} matching lines in the file${more}.`;
      this.hits = { tab, matches: r.matches };
      this.renderHits();
    } catch (e) {
      resultsSummary.textContent = `Search failed: ${e instanceof Error ? e.message : String(e)}`;
    }
  }

  /** The server's search hits shown in the results dialog (drawn again when highlights arrive). */
  private hits: { tab: StreamTab; matches: { text: string; c: string }[] } | null = null;

  private renderHits(): void {
    const hits = this.hits;
    const { results, resultsList } = this.ui;
    if (!hits) return;
    const matcher = hits.tab.filter.highlighter;
    const items = hits.matches.map((m) => {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      appendHighlighted(b, m.text, 0, matcher);
      b.addEventListener("click", () => {
        results.close();
        void this.jumpToCursor(hits.tab, m.c);
      });
      li.append(b);
      return li;
    });
    resultsList.replaceChildren(...items);
  }

  // ---- pause, time, export ----

  togglePause(): void {
    this.paused = !this.paused;
    for (const t of [...this.tabs.values(), ...(this.merged ? [this.merged] : [])])
      t.pauseAbs = this.paused ? t.store.base + t.store.length : null;
    this.ui.pause.setAttribute("aria-pressed", String(this.paused));
    if (this.active) {
      const keep = this.view.saveState();
      this.view.setSource(this.viewSource(this.active), keep);
    }
    this.afterRender();
  }

  private setTimeMode(mode: TimeMode): void {
    this.timeMode = mode;
    this.view.timeMode = mode;
    this.status.timeMode = mode;
    this.timeToggle.show(mode);
    localStorage.setItem("livetrail.timeMode", mode);
    this.chart.utc = mode === "utc";
    this.chart.restyle();
    this.metrics.utc = mode === "utc";
    this.view.refresh();
    this.updateDetail();
  }

  private async exportLines(format: ExportFormat): Promise<void> {
    const tab = this.active;
    if (!tab || this.exporting) return;
    const s = tab.store;
    const f = tab.filter;
    if (f.pending) {
      this.notice("The filter is still running: export once it shows its matches");
      return;
    }
    const rows = () =>
      f.active
        ? (function* () {
            for (let k = 0; k < f.count; k++) yield f.matchAbs(k) - s.base;
          })()
        : (function* () {
            for (let i = 0; i < s.length; i++) yield i;
          })();
    this.ui.exportMenu.open = false;
    // Rows holding only the head of a long line are exported whole: load those lines first, one at a time.
    const cut: string[] = [];
    const streamOf = new Map<string, string>();
    for (const r of rows())
      if (s.trunc(r) !== undefined && !s.isGap(r)) {
        cut.push(s.cursor(r));
        streamOf.set(s.cursor(r), tab.streamOf(r));
      }
    const whole = new Map<string, string>();
    let failed = 0;
    let overLimit = 0;
    if (cut.length > 0) {
      this.exporting = true;
      try {
        const n = Math.min(cut.length, MAX_WHOLE_FETCHES);
        for (let k = 0; k < n; k++) {
          const cursor = cut[k] as string;
          this.notice(`Export: loading long line ${k + 1} of ${n} whole…`);
          try {
            const line = await fetchWholeLine(streamOf.get(cursor) ?? tab.name, cursor);
            whole.set(cursor, line.text);
            if (line.trunc !== undefined) overLimit++;
          } catch {
            failed++;
          }
        }
      } finally {
        this.exporting = false;
      }
      if (f.pending) {
        this.notice(
          "The filter changed while long lines were loading: export again once it shows its matches",
        );
        return;
      }
    }
    let heads = 0;
    if (cut.length > 0)
      for (const r of rows()) if (s.trunc(r) !== undefined && !s.isGap(r) && !whole.has(s.cursor(r))) heads++;
    const stamp = new Date().toISOString().slice(0, 19).replace(/[:T]/g, "-");
    download(
      exportBlob(s, rows(), format, whole),
      `${tab instanceof MergedTab ? "merged" : tab.name}-${stamp}${f.active ? "-filtered" : ""}.${format}`,
    );
    if (cut.length === 0) return;
    const notes: string[] = [];
    if (heads > 0) {
      const why = [
        cut.length > MAX_WHOLE_FETCHES ? `more than ${MAX_WHOLE_FETCHES} to load` : "",
        failed > 0 ? `${failed} failed to load` : "",
      ]
        .filter(Boolean)
        .join(", ");
      notes.push(
        `${heads.toLocaleString("en")} long line${heads === 1 ? "" : "s"} exported cut to their first 64 KiB${why ? ` (${why})` : ""}`,
      );
    }
    if (overLimit > 0)
      notes.push(`${overLimit} longer than the server keeps whole (1 MiB by default), cut there`);
    this.notice(
      notes.length > 0
        ? `Exported: ${notes.join("; ")}`
        : `Exported (${whole.size} long line${whole.size === 1 ? "" : "s"} loaded whole)`,
    );
  }

  // ---- rendering around the list ----

  private afterRender(): void {
    const tab = this.active;
    this.streamState.show(tab);
    if (!tab) return;
    const newBelow = this.view.newBelow();
    setHidden(this.ui.newLines, newBelow === 0 || this.paused);
    setHidden(this.ui.toEnd, this.view.follow && !this.paused);
    if (newBelow > 0)
      setText(this.ui.newLines, `${newBelow.toLocaleString("en")} new line${newBelow === 1 ? "" : "s"} ↓`);
    if (this.paused) {
      const held = tab.pauseAbs === null ? 0 : tab.store.base + tab.store.length - tab.pauseAbs;
      setText(this.ui.pause, held > 0 ? `Resume (${held.toLocaleString("en")} new)` : "Resume");
    } else setText(this.ui.pause, "Pause");
    const s = tab.store;
    const disabled = tab.busy || s.length === 0 || (s.atFileStart && s.headCursor === null) || s.isGap(0);
    if (this.ui.loadOlder.disabled !== disabled) this.ui.loadOlder.disabled = disabled;
    setText(this.ui.loadOlder, s.atFileStart && s.headCursor === null ? "Start of file" : "Load older lines");
    // The line count changes with every batch; rewriting it each frame costs a toolbar layout: 4 times a second.
    const now = performance.now();
    if (now - this.countShownAt > 250) {
      this.countShownAt = now;
      this.updateMatchCount();
    }
  }

  private countShownAt = 0;

  private scheduleChart(): void {
    if (this.chartTimer) return;
    this.chartTimer = setTimeout(() => {
      this.chartTimer = null;
      if (this.active) this.chart.update(this.active.store);
    }, 1000);
  }

  private notice(text: string): void {
    this.ui.notice.textContent = text;
  }

  // ---- controls ----

  private bindControls(): void {
    const { ui } = this;
    ui.tabs.addEventListener("click", (ev) => {
      const el = ev.target instanceof HTMLElement ? ev.target : null;
      if (el?.dataset.merge !== undefined) {
        this.openMerged(el.dataset.merge.split(","));
        return;
      }
      const name = el?.dataset.stream;
      const tab = name ? this.tabs.get(name) : undefined;
      if (tab) this.activate(tab);
    });
    ui.search.addEventListener("input", () => this.scheduleFilter());
    ui.search.addEventListener("keydown", (ev) => {
      if (ev.key === "Enter") {
        ev.preventDefault();
        if (this.filterTimer) this.scheduleFilter(0);
        else this.stepMatch(ev.shiftKey ? -1 : 1);
      }
    });
    for (const b of [ui.optCase, ui.optRegex, ui.optOnly]) {
      b.addEventListener("click", () => {
        b.setAttribute("aria-pressed", String(b.getAttribute("aria-pressed") !== "true"));
        this.scheduleFilter(0);
      });
    }
    $("match-prev").addEventListener("click", () => this.stepMatch(-1));
    $("match-next").addEventListener("click", () => this.stepMatch(1));
    $("search-file").addEventListener("click", () => void this.searchFile());
    $("results-close").addEventListener("click", () => ui.results.close());
    ui.pause.addEventListener("click", () => this.togglePause());
    $("jump-go").addEventListener("click", () => {
      // datetime-local is in local time; UTC mode reads the same digits as UTC.
      const v = ui.jumpTime.value;
      if (!v) return;
      const ms =
        this.timeMode === "utc" ? Date.parse(`${v.length === 16 ? `${v}:00` : v}Z`) : new Date(v).getTime();
      void this.jumpToTime(ms);
    });
    ui.loadOlder.addEventListener("click", () => void this.loadOlder());
    ui.newLines.addEventListener("click", () => this.view.scrollToBottom());
    ui.toEnd.addEventListener("click", () => this.toEnd());
    $("export-log").addEventListener("click", () => void this.exportLines("log"));
    $("export-json").addEventListener("click", () => void this.exportLines("json"));
    $("copy-line").addEventListener("click", () => {
      const row = this.selectedRow();
      const tab = this.active;
      if (row === null || !tab) return;
      const s = tab.store;
      // A cut row is copied whole (loaded when the row was selected; waited for if still on its way).
      const text =
        s.trunc(row) === undefined
          ? Promise.resolve(s.text(row))
          : this.wholeLine(tab, s.cursor(row), tab.streamOf(row)).promise;
      // The line as shown: control and bidi characters escaped, so a paste cannot carry them on.
      void text.then(
        (t) => copyText(safeText(t)).then((ok) => this.notice(ok ? "Line copied" : "Copy failed")),
        (e: unknown) =>
          this.notice(
            `Copy failed: the whole line could not be loaded (${e instanceof Error ? e.message : String(e)})`,
          ),
      );
    });
    $("copy-link").addEventListener("click", () => {
      const row = this.selectedRow();
      if (row !== null && this.active) {
        // Percent-encoded already (URLSearchParams); escaping is a guard, not a change.
        void copyText(safeText(this.linkFor(this.active.store.cursor(row)))).then((ok) =>
          this.notice(ok ? "Link copied" : "Copy failed"),
        );
      }
    });
    $("detail-close").addEventListener("click", () => this.select(null));
    window.addEventListener("hashchange", () => this.onHashChange());
    installThemeToggle($<HTMLSelectElement>("theme"), () => {
      this.chart.restyle();
      this.metrics.restyle();
    });
    installToolbarCollapse($("toolbar"), $<HTMLButtonElement>("tools-toggle"));
    this.removeKeyboard = installKeyboard({
      focusSearch: () => {
        ui.search.focus();
        ui.search.select();
      },
      clearSearch: () => {
        if (ui.results.open) return;
        ui.search.value = "";
        this.scheduleFilter(0);
        ui.search.blur();
      },
      togglePause: () => this.togglePause(),
      toEnd: () => this.toEnd(),
      showHelp: () => this.help.show(),
    });
  }

  private toEnd(): void {
    if (this.paused) this.togglePause();
    this.view.scrollToBottom();
  }
}

/** DOM writes only when something changed: an unchanged write still costs a layout. */
function setText(el: HTMLElement, text: string): void {
  if (el.textContent !== text) el.textContent = text;
}

function setHidden(el: HTMLElement, hidden: boolean): void {
  if (el.hidden !== hidden) el.hidden = hidden;
}

function findGapRow(tab: StreamTab, info: object): number {
  const s = tab.store;
  for (let i = s.length - 1; i >= 0; i--) if (s.gap(i) === info) return i;
  return -1;
}
