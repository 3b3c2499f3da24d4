import type { ServerMessage, StreamInfo } from "../protocol/messages.js";
import { AlertsPanel } from "./alerts-panel.js";
import { ActivityChart } from "./chart.js";
import { ChartFeed } from "./chart-feed.js";
import { copyText } from "./clipboard.js";
import { Controls } from "./controls.js";
import { DetailPanel } from "./detail-panel.js";
import { $ } from "./dom.js";
import { download, type ExportFormat, exportBlob } from "./export-lines.js";
import type { FilterEvent, FilterSpec } from "./filter.js";
import { HelpOverlay } from "./help-overlay.js";
import { ApiError, fetchWholeLine, listStreams, searchStream } from "./history-api.js";
import { HistoryLoader } from "./history-loader.js";
import { IntegrityView } from "./integrity-view.js";
import { installKeyboard } from "./keyboard.js";
import { MergedTab } from "./merged-tab.js";
import { MetricsPanel } from "./metrics-panel.js";
import { safeText } from "./safe-text.js";
import { StatusView } from "./status-view.js";
import { DEFAULT_CAP, type GapInfo, Lvl } from "./store.js";
import { StreamClient } from "./stream-client.js";
import { StreamStateView } from "./stream-state-view.js";
import { StreamTab } from "./stream-tab.js";
import { allTabButton, layoutTabs, setTabKind } from "./tab-bar.js";
import { installThemeToggle } from "./theme-toggle.js";
import type { TimeMode } from "./time-format.js";
import { installToolbarCollapse } from "./toolbar-collapse.js";
import { UnreadBadges } from "./unread-badge.js";
import { readUrlState, type UrlState, UrlSync } from "./url-state.js";
import { LogView } from "./view/log-view.js";
import { appendHighlighted } from "./view/row-renderer.js";

/** Lines asked for on a stream's first subscribe, and most lines per page of older history. */
const TAIL = 5_000;
const MAX_PAGE = 1_000;
/** Most long lines an export loads whole (one request each, in turn); beyond them it exports their heads. */
const MAX_WHOLE_FETCHES = 200;

export interface AppOptions {
  /** Most lines held per stream (default 1,000,000). */
  cap?: number;
}

/**
 * Wires the page: the stream client and history loader fill the stores, the filter and view (and the chart) follow
 * them; the tabs, the selection and the notices live here, the toolbar, detail panel and URL in their modules.
 */
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
  private readonly client: StreamClient<StreamTab>;
  private readonly streamState: StreamStateView;
  private readonly help = new HelpOverlay({
    dialog: $<HTMLDialogElement>("help"),
    list: $("help-list"),
    open: $("help-open"),
    close: $("help-close"),
  });
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
      send: (m) => this.client.send(m),
      onPick: (ms) => void this.jumpToTime(ms),
      store: () => this.active?.store ?? null,
    },
  );
  private readonly cap: number;
  private readonly loader: HistoryLoader;
  /** Gap fills running, to stop one when its row is clicked again. */
  private readonly fills = new Map<GapInfo, AbortController>();
  private readonly ui = {
    tabs: $("tabs"),
    notice: $("notice"),
    results: $<HTMLDialogElement>("results"),
    resultsSummary: $("results-summary"),
    resultsList: $("results-list"),
    exportMenu: $<HTMLDetailsElement>("export-menu"),
  };
  private readonly controls = new Controls(
    {
      filter: (spec) => {
        if (this.active) this.setSpec(this.active, spec);
      },
      step: (dir) => this.stepMatch(dir),
      togglePause: () => this.togglePause(),
      setTimeMode: (mode) => this.setTimeMode(mode),
      jump: (ms) => void this.jumpToTime(ms),
      loadOlder: () => void this.loadOlder(),
      newLines: () => this.view.scrollToBottom(),
      toEnd: () => this.toEnd(),
      export: (format) => void this.exportLines(format),
    },
    () => this.active,
  );
  private readonly detail = new DetailPanel(
    {
      detail: $("detail"),
      detailMeta: $("detail-meta"),
      detailText: $("detail-text"),
      detailStatus: $("detail-status"),
    },
    () => {
      const row = this.selectedRow();
      return this.active && row !== null ? { tab: this.active, row } : null;
    },
  );
  private readonly url = new UrlSync((state) => this.onHashChange(state));
  private readonly chartFeed: ChartFeed;
  private paused = false;
  private exporting = false;
  /** A line named in the URL, selected once its stream has caught up. */
  private pendingLine: string | null = null;
  private removeKeyboard: () => void = () => {};
  /** Duration of the last full filter pass (ms), for the debug hook. */
  lastFilterMs = 0;

  constructor(options: AppOptions = {}) {
    this.cap = options.cap ?? DEFAULT_CAP;
    // History page size: a page must fit in memory beside what is held.
    this.loader = new HistoryLoader({ page: Math.max(1, Math.min(MAX_PAGE, Math.floor(this.cap / 4))) });
    this.view = new LogView($("log"), {
      onSelect: (row) => this.select(row),
      onFillGap: (row) => void this.fillGap(row),
      onRendered: () => this.afterRender(),
    });
    this.chart = new ActivityChart($("chart"), (ms) => void this.jumpToTime(ms));
    this.chartFeed = new ChartFeed(this.chart);
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
    this.client = new StreamClient<StreamTab>({
      url: wsUrl.href,
      tail: TAIL,
      hooks: {
        hello: (streams, msg) => {
          this.onHello(streams);
          this.integrity.onHello(streams);
          this.metrics.onHello(msg.metrics);
        },
        lines: (tab, n, news) => this.onLines(tab, n, news),
        live: (tab) => {
          if (tab === this.active) this.onActiveLive();
        },
        missing: (tab) => {
          if (tab === this.active) this.afterRender();
        },
        gap: (tab) => this.gapsChanged(tab),
        message: (msg) => this.onMessage(msg),
        status: (s) => {
          if (s.state === "reconnecting") this.checkSignedIn();
          this.status.update(s);
        },
      },
    });
  }

  start(): void {
    const url = this.url.start();
    this.pendingLine = url.line;
    this.pendingStream = url.stream;
    this.pendingMerge = url.merge ?? null;
    this.pendingSpec = url.filter;
    this.controls.applySpec(url.filter);
    const savedMode = localStorage.getItem("livetrail.timeMode");
    if (savedMode === "local") this.setTimeMode("local");
    this.bindControls();
    this.client.start();
  }

  close(): void {
    this.client.close();
    this.view.close();
    this.chartFeed.close();
    this.chart.close();
    this.metrics.close();
    this.status.close();
    this.controls.close();
    this.url.close();
    this.removeKeyboard();
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
    return { ...this.client.status };
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

  /** The messages that are not a stream's delivery (the stream client handles those). */
  private onMessage(msg: ServerMessage): void {
    switch (msg.type) {
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
        return;
      case "alerts":
        this.alerts.onSnapshot(msg.firing, msg.recent);
        return;
      case "alert":
        this.alerts.onAlert(msg.alert);
        return;
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
      this.client.add(tab);
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
  }

  private onLines(tab: StreamTab, n: number, news: boolean): void {
    if (news && !this.shows(tab)) this.countUnread(tab, n);
    if (this.active instanceof MergedTab && this.active.members.includes(tab))
      this.status.linesArrived(Date.now());
    if (tab === this.active) {
      this.status.linesArrived(Date.now());
      if (this.pendingLine && tab.live) void this.restoreLine();
    }
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
    this.controls.applySpec(tab.spec);
    this.view.setSource(
      this.viewSource(tab),
      tab.viewState ?? { follow: true, anchor: null, selectedAbs: null },
    );
    this.detail.update();
    this.controls.showCount();
    this.notice("");
    this.chartFeed.show(tab.store);
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
      this.controls.showCount();
      // The selected line's panel shows the new filter's highlights (or none), not the previous one's.
      this.detail.update();
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
      this.controls.showCount();
      this.detail.update();
      return;
    }
    if (tab !== this.active) return;
    if (e === "matches") this.view.invalidate();
    else {
      this.view.refresh();
      this.detail.update();
      if (this.ui.results.open && this.hits?.tab === tab) this.renderHits();
    }
  }

  /** Selects the next (dir 1) or previous (-1) matching line after the selection or the top of the view. */
  private stepMatch(dir: 1 | -1): void {
    const tab = this.active;
    if (!tab?.filter.active) return;
    const f = tab.filter;
    const s = tab.store;
    // From the live bottom with nothing selected, either way goes to the newest match (there is nothing later, and
    // the top of the view would skip every match on screen).
    const fromBottom = this.view.follow && this.view.selectedAbs === null;
    const step = fromBottom ? -1 : dir;
    const fromAbs = this.view.selectedAbs ?? s.base + Math.max(0, this.view.topRow());
    let k = fromBottom ? f.count - 1 : dir === 1 ? f.countBelow(fromAbs + 1) : f.countBelow(fromAbs) - 1;
    while (k >= 0 && k < f.count && s.isGap(f.matchAbs(k) - s.base)) k += step;
    if (k < 0 || k >= f.count) {
      this.notice(
        dir === 1 && !fromBottom
          ? "No later match in memory"
          : "No earlier match in memory (try Search file)",
      );
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
    this.detail.retryFailed();
    this.view.refresh();
    this.detail.update();
    this.syncUrl();
  }

  private selectedRow(): number | null {
    const tab = this.active;
    if (!tab || this.view.selectedAbs === null) return null;
    const row = this.view.selectedAbs - tab.store.base;
    return row >= 0 && row < tab.store.length && !tab.store.isGap(row) ? row : null;
  }

  /** The view as the URL says it: stream or merged streams, filter and the selected line (null: none). */
  private urlState(line: string | null): UrlState {
    const tab = this.active;
    return {
      stream: tab?.name ?? null,
      merge: tab instanceof MergedTab ? tab.names : null,
      filter: tab?.spec ?? readUrlState("").filter,
      line,
    };
  }

  private syncUrl(): void {
    if (!this.active) return;
    const row = this.selectedRow();
    this.url.write(this.urlState(row === null ? null : this.active.store.cursor(row)));
  }

  /** The user changed the hash (pasted a link into this page): show what it names. */
  private onHashChange(url: UrlState): void {
    if (url.merge) this.openMerged(url.merge);
    const tab = url.merge ? this.active : url.stream ? this.tabs.get(url.stream) : this.active;
    if (!tab) return;
    this.activate(tab);
    this.controls.applySpec(url.filter);
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
    await this.history(tab, "Loading older lines", () => this.loader.loadOlder(tab.name, tab.store));
    this.gapsChanged(tab); // beyond the cap, the newest rows became a gap row
  }

  /** "Load them" on a gap row streams its lines in; on a gap being loaded it stops the load. */
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
    const running = this.fills.get(info);
    if (running) {
      running.abort();
      return;
    }
    const stop = new AbortController();
    this.fills.set(info, stop);
    const pending = this.history(tab, "Loading skipped lines", () =>
      this.loader.fillGap(tab.name, tab.store, info, {
        signal: stop.signal,
        onProgress: (done, total) =>
          this.notice(
            `Loading skipped lines: ${done.toLocaleString("en")}${total === null ? "" : ` of ${total.toLocaleString("en")}`}…`,
          ),
      }),
    );
    this.view.refresh(); // the row shows the load running (and its Stop button) before the first page is in
    const end = await pending;
    this.fills.delete(info);
    if (end === "budget")
      this.notice(
        `Stopped at the page's line budget (${tab.store.cap.toLocaleString("en")} lines): the rest stays a gap`,
      );
    else if (end === "cancelled") this.notice("Loading stopped: the rest stays a gap");
    this.gapsChanged(tab);
  }

  /** Gap rows were added or changed: ask for the counts not known yet, and draw the rows again. */
  private gapsChanged(tab: StreamTab): void {
    if (this.shows(tab)) this.view.refresh();
    if (tab instanceof MergedTab) return;
    void this.loader.countGaps(tab.name, tab.store).then((learned) => {
      if (learned && this.shows(tab)) this.view.refresh();
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
      const row = await this.loader.loadAt(tab.name, s, ms);
      this.gapsChanged(tab);
      if (row === null) {
        this.view.scrollToBottom();
        return;
      }
      this.view.scrollToRow(row, true);
      this.select(row);
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
      const at = await this.loader.loadThrough(tab.name, tab.store, cursor);
      this.gapsChanged(tab);
      if (at >= 0) {
        this.view.scrollToRow(at, true);
        this.select(at);
      }
    });
  }

  // ---- server search ----

  private async searchFile(): Promise<void> {
    const tab = this.active;
    if (!tab) return;
    if (tab instanceof MergedTab) {
      this.notice("Search file searches one stream on the server: open its tab");
      return;
    }
    const spec = this.controls.readSpec();
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
    this.controls.showPaused(this.paused);
    if (this.active) {
      const keep = this.view.saveState();
      this.view.setSource(this.viewSource(this.active), keep);
    }
    this.afterRender();
  }

  private setTimeMode(mode: TimeMode): void {
    this.view.timeMode = mode;
    this.status.timeMode = mode;
    this.controls.showTimeMode(mode);
    localStorage.setItem("livetrail.timeMode", mode);
    this.chart.utc = mode === "utc";
    this.chart.restyle();
    this.metrics.utc = mode === "utc";
    this.view.refresh();
    this.detail.update();
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
    this.controls.showList({
      newBelow: this.view.newBelow(),
      follow: this.view.follow,
      paused: this.paused,
      held: tab.pauseAbs === null ? 0 : tab.store.base + tab.store.length - tab.pauseAbs,
      busy: tab.busy,
      store: tab.store,
    });
    this.controls.countChanged();
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
    $("search-file").addEventListener("click", () => void this.searchFile());
    $("results-close").addEventListener("click", () => ui.results.close());
    $("copy-line").addEventListener("click", () => {
      const row = this.selectedRow();
      const tab = this.active;
      if (row === null || !tab) return;
      // A cut row is copied whole (loaded when the row was selected; waited for if still on its way). The line as
      // shown: control and bidi characters escaped, so a paste cannot carry them on.
      void this.detail.text(tab, row).then(
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
        void copyText(safeText(this.url.link(this.urlState(this.active.store.cursor(row))))).then((ok) =>
          this.notice(ok ? "Link copied" : "Copy failed"),
        );
      }
    });
    $("detail-close").addEventListener("click", () => this.select(null));
    installThemeToggle($<HTMLSelectElement>("theme"), () => {
      this.chart.restyle();
      this.metrics.restyle();
    });
    installToolbarCollapse($("toolbar"), $<HTMLButtonElement>("tools-toggle"));
    this.removeKeyboard = installKeyboard({
      focusSearch: () => this.controls.focusSearch(),
      clearSearch: () => {
        if (!ui.results.open) this.controls.clearSearch();
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
