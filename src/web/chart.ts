import uPlot from "uplot";
import type { StreamStore } from "./store.js";
import { formatTime } from "./time-format.js";

/**
 * Entries and errors per minute over the lines in memory, as bars (uPlot). Clicking a bar asks to jump to that
 * minute. Error bars are drawn over the entry bars of the same minute (errors are a part of all entries).
 * The window is the last WINDOW_MIN minutes up to now, or up to the newest line when the log is quiet.
 */

const WINDOW_MIN = 120;
const MINUTE = 60_000;

export class ActivityChart {
  private plot: uPlot | null = null;
  private readonly resize: ResizeObserver;
  private xs: number[] = [];
  /** Axis labels in UTC (as the file writes times) or the browser's zone. */
  utc = true;

  constructor(
    private readonly container: HTMLElement,
    private readonly onPick: (minuteMs: number) => void,
  ) {
    this.resize = new ResizeObserver(() => {
      if (this.plot) this.plot.setSize(this.size());
    });
    this.resize.observe(container);
  }

  /** Redraws from the store's per-minute counts (cheap: at most WINDOW_MIN buckets). */
  update(store: StreamStore, now = Date.now()): void {
    let newest = Number.NEGATIVE_INFINITY;
    for (const m of store.minutes.keys()) if (m > newest) newest = m;
    const nowMin = Math.floor(now / MINUTE);
    const end = newest === Number.NEGATIVE_INFINITY || nowMin - newest < WINDOW_MIN ? nowMin : newest;
    const xs: number[] = [];
    const entries: (number | null)[] = [];
    const errors: (number | null)[] = [];
    for (let m = end - WINDOW_MIN + 1; m <= end; m++) {
      const b = store.minutes.get(m);
      xs.push((m * MINUTE) / 1000);
      // null, not 0: uPlot would draw a flat bar for a zero.
      entries.push(b && b.entries > 0 ? b.entries : null);
      errors.push(b && b.errors > 0 ? b.errors : null);
    }
    this.xs = xs;
    const data: uPlot.AlignedData = [xs, entries, errors];
    if (!this.plot) this.plot = this.create(data);
    else this.plot.setData(data);
  }

  /** Colours come from CSS custom properties: call again when the colour scheme or time zone changes. */
  restyle(): void {
    const plot = this.plot;
    if (!plot) return;
    const data = plot.data;
    plot.destroy();
    this.plot = this.create(data as uPlot.AlignedData);
  }

  close(): void {
    this.resize.disconnect();
    this.plot?.destroy();
    this.plot = null;
  }

  private size(): { width: number; height: number } {
    return {
      width: Math.max(200, this.container.clientWidth),
      height: Math.max(60, this.container.clientHeight),
    };
  }

  private create(data: uPlot.AlignedData): uPlot {
    const css = getComputedStyle(document.documentElement);
    const color = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
    const fg = color("--muted", "#888");
    const grid = color("--grid", "rgba(128,128,128,0.2)");
    const bars = uPlot.paths.bars?.({ size: [0.8, 40], align: 0 });
    const opts: uPlot.Options = {
      ...this.size(),
      legend: { show: false },
      cursor: { y: false, points: { show: false } },
      scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(1, max)] } },
      axes: [
        {
          stroke: fg,
          grid: { show: false },
          ticks: { stroke: grid, size: 4 },
          size: 22,
          font: "11px system-ui",
          // 24-hour HH:MM in the chosen zone (uPlot's default is 12-hour local time).
          values: (_u, splits) =>
            splits.map((s) => formatTime(s * 1000, this.utc ? "utc" : "local")[1].slice(0, 5)),
        },
        { stroke: fg, grid: { stroke: grid }, ticks: { show: false }, size: 36, font: "11px system-ui" },
      ],
      series: [
        {},
        {
          label: "entries/min",
          stroke: color("--chart-entries", "#4a8"),
          fill: color("--chart-entries", "#4a8"),
          paths: bars,
          points: { show: false },
        },
        {
          label: "errors/min",
          stroke: color("--chart-errors", "#d44"),
          fill: color("--chart-errors", "#d44"),
          paths: bars,
          points: { show: false },
        },
      ],
    };
    const plot = new uPlot(opts, data, this.container);
    plot.over.addEventListener("click", () => {
      const idx = plot.cursor.idx;
      const x = idx === null || idx === undefined ? undefined : this.xs[idx];
      if (x !== undefined) this.onPick(x * 1000);
    });
    plot.over.title = "Entries and errors per minute: click a bar to jump to that minute";
    return plot;
  }
}
