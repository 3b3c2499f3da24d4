import { App } from "./app.js";
import { installSignOut } from "./sign-out.js";

/**
 * Entry point. Also exposes a small read-only debug hook for benchmarks and troubleshooting:
 * `window.__livetrail` (documented in docs/dashboard.md). It only reads state; it changes nothing.
 */
const params = new URLSearchParams(location.search);
const capParam = Number(params.get("cap"));
const app = new App(Number.isInteger(capParam) && capParam > 0 ? { cap: capParam } : {});
app.start();
installSignOut(document.getElementById("sign-out") as HTMLButtonElement);

const hook = Object.freeze({
  version: 1,
  /** Rows (lines and gap rows) held for the shown stream. */
  lineCount: () => app.activeTab?.store.length ?? 0,
  /** Rows held per stream. */
  lineCounts: () => Object.fromEntries(app.streamNames().map((n) => [n, app.rowsOf(n)])),
  /** Row elements in the DOM now (the virtual list draws only what is in view). */
  domRowCount: () => app.domRows,
  /** Matching lines for the shown stream's filter (0 without a filter). */
  matchCount: () => app.activeTab?.filter.matchCount ?? 0,
  /** Duration of the last full filter pass in ms (for a regex: until the worker's answer). */
  lastFilterMs: () => app.lastFilterMs,
  /** The shown stream's filter: off, pending (a regex running), ready, invalid, slow (over its time budget), failed. */
  filterState: () => app.activeTab?.filter.state ?? "off",
  /** Connection state, RTT, lines/s. */
  connection: () => app.connectionStatus,
  stream: () => app.activeTab?.name ?? null,
  /** The streams of the merged view shown, in order, or null when one stream is shown. */
  merged: () => app.mergedNames(),
  /** For the merged view shown: the stream of each of the newest `limit` rows, oldest first. */
  rowStreams: (limit = 10_000) => app.rowStreams(limit),
  /** Whether the shown stream's catch-up is done (what follows is live). */
  live: () => app.activeTab?.live ?? false,
  following: () => app.following,
  paused: () => app.isPaused,
  /** Rows of the shown stream whose text contains `part` (exactly-once checks). */
  countText: (part: string) => {
    const s = app.activeTab?.store;
    let n = 0;
    if (s) for (let i = 0; i < s.length; i++) if (!s.isGap(i) && s.text(i).includes(part)) n++;
    return n;
  },
  /** Texts of the newest `limit` rows of the shown stream, oldest first (gap rows as null). */
  lineTexts: (limit = 10_000) => {
    const s = app.activeTab?.store;
    if (!s) return [];
    const out: (string | null)[] = [];
    for (let i = Math.max(0, s.length - limit); i < s.length; i++) out.push(s.isGap(i) ? null : s.text(i));
    return out;
  },
  /** The newest row's text (for checks that a line arrived). */
  lastLine: () => {
    const s = app.activeTab?.store;
    return s && s.length > 0 ? s.text(s.length - 1) : null;
  },
});
Object.defineProperty(window, "__livetrail", { value: hook, enumerable: false });
