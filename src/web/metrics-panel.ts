import uPlot from "uplot";
import type { ClientMessage, HostSample } from "../protocol/messages.js";
import { type ContainerSeries, containerSeries, TOP_CONTAINERS } from "./container-series.js";
import { MetricsClient, type MetricsMessage } from "./metrics-client.js";
import { Lvl, type StreamStore } from "./store.js";
import { formatTime } from "./time-format.js";

/**
 * The host metrics panel beside the log: live CPU and memory (with the shown stream's errors per 10 s over
 * them), load, network and disk charts (uPlot), and the current values as text; where the server samples
 * containers too, a CPU and a memory chart with one line per container (the busiest few). Clicking a point of any chart
 * jumps the log to that time. Colours come from CSS custom properties; nothing is styled from strings.
 */

export interface MetricsPanelElements {
  toggle: HTMLButtonElement;
  panel: HTMLElement;
  now: HTMLElement;
  cpu: HTMLElement;
  load: HTMLElement;
  net: HTMLElement;
  disk: HTMLElement;
}

export interface MetricsPanelDeps {
  send: (message: ClientMessage) => boolean;
  /** Jump the log to this time (ms). */
  onPick: (ms: number) => void;
  /** The lines of the stream shown now, for the error overlay. */
  store: () => StreamStore | null;
}

/** The error overlay's bucket. */
export const ERROR_BUCKET_MS = 10_000;
/** Most rows one overlay pass looks at (a burst in the window): beyond them the newest are left uncounted. */
const MAX_ROWS_COUNTED = 200_000;

/**
 * Errors per bucket over the rows held, for each sample time (ms): the count of error lines in the bucket that
 * time falls in. Only the rows within the times' range are read (binary search for the first).
 */
export function errorsPerBucket(
  store: StreamStore,
  times: readonly number[],
  bucketMs = ERROR_BUCKET_MS,
): number[] {
  const first = times[0];
  const last = times[times.length - 1];
  if (first === undefined || last === undefined || store.length === 0) return times.map(() => 0);
  const from = Math.floor(first / bucketMs) * bucketMs;
  const to = (Math.floor(last / bucketMs) + 1) * bucketMs;
  const counts = new Map<number, number>();
  const end = Math.min(store.length, store.rowAtTime(from) + MAX_ROWS_COUNTED);
  for (let i = store.rowAtTime(from); i < end; i++) {
    const t = store.time(i);
    if (t >= to) break;
    if (Number.isNaN(t) || store.level(i) !== Lvl.error) continue;
    const b = Math.floor(t / bucketMs);
    counts.set(b, (counts.get(b) ?? 0) + 1);
  }
  return times.map((t) => counts.get(Math.floor(t / bucketMs)) ?? 0);
}

interface SeriesSpec {
  label: string;
  color: string;
  fallback: string;
  scale?: string;
  /** Drawn as a filled step (counts per bucket), not a line. */
  step?: boolean;
}

interface ChartSpec {
  title: string;
  series: SeriesSpec[];
  /** Formats the left axis' values. */
  unit: (v: number) => string;
  /** Fixed range of the left axis (percent charts). */
  range?: [number, number];
}

/** One live chart: time on x (seconds), the spec's series; a click reports the time of the nearest point. */
class LiveChart {
  private plot: uPlot | null = null;
  private data: uPlot.AlignedData = [[]];
  private readonly resize: ResizeObserver;
  utc = true;

  constructor(
    private readonly container: HTMLElement,
    private spec: ChartSpec,
    private readonly onPick: (ms: number) => void,
  ) {
    this.resize = new ResizeObserver(() => this.plot?.setSize(this.size()));
    this.resize.observe(container);
  }

  update(data: uPlot.AlignedData): void {
    this.data = data;
    // Read by tests and handy when looking at the page: how many points the chart holds.
    this.container.dataset.points = String(data[0].length);
    if (this.container.clientWidth === 0) return; // hidden: drawn when shown
    if (!this.plot) this.plot = this.create();
    else this.plot.setData(data);
  }

  /** New series (the containers drawn changed): uPlot cannot add or drop series in place, so it is made again. */
  setSeries(series: SeriesSpec[]): void {
    const labels = (list: SeriesSpec[]) => list.map((x) => x.label).join("\n");
    if (labels(series) === labels(this.spec.series)) return;
    this.spec = { ...this.spec, series };
    this.plot?.destroy();
    this.plot = null;
  }

  restyle(): void {
    this.plot?.destroy();
    this.plot = null;
    this.update(this.data);
  }

  close(): void {
    this.resize.disconnect();
    this.plot?.destroy();
    this.plot = null;
  }

  private size(): { width: number; height: number } {
    return {
      width: Math.max(160, this.container.clientWidth),
      height: Math.max(80, this.container.clientHeight),
    };
  }

  private create(): uPlot {
    const css = getComputedStyle(document.documentElement);
    const color = (name: string, fallback: string) => css.getPropertyValue(name).trim() || fallback;
    const fg = color("--muted", "#888");
    const grid = color("--grid", "rgba(128,128,128,0.2)");
    const stepped = uPlot.paths.stepped?.({ align: 1 });
    const hasErr = this.spec.series.some((s) => s.scale === "err");
    const axis = { stroke: fg, grid: { stroke: grid }, ticks: { show: false }, font: "11px system-ui" };
    const range = this.spec.range;
    const opts: uPlot.Options = {
      ...this.size(),
      legend: { show: true, live: false },
      // No drag-to-zoom, and a click after a small move is still a click (uPlot swallows clicks it takes for drags).
      cursor: {
        y: false,
        points: { show: false },
        drag: { x: false, y: false, setScale: false, click: () => {} },
      },
      scales: {
        x: { time: true },
        y: range ? { range: () => range } : { range: (_u, _min, max) => [0, Math.max(1, max)] },
        err: { range: (_u, _min, max) => [0, Math.max(1, max)] },
      },
      axes: [
        {
          ...axis,
          grid: { show: false },
          size: 22,
          values: (_u, splits) =>
            splits.map((s) => formatTime(s * 1000, this.utc ? "utc" : "local")[1].slice(0, 8)),
        },
        { ...axis, size: 48, values: (_u, splits) => splits.map((v) => this.spec.unit(v)) },
        ...(hasErr ? [{ ...axis, scale: "err", side: 1, size: 28, grid: { show: false } }] : []),
      ],
      series: [
        {},
        ...this.spec.series.map((s) => {
          const stroke = color(s.color, s.fallback);
          return {
            label: s.label,
            stroke,
            width: 1.5,
            scale: s.scale ?? "y",
            points: { show: false },
            ...(s.step ? { fill: stroke, paths: stepped, width: 0 } : {}),
          };
        }),
      ],
    };
    const plot = new uPlot(opts, this.data, this.container);
    plot.over.addEventListener("click", (e) => {
      // The nearest point to where the click landed (not the cursor's state, which follows mousemove).
      const idx = plot.posToIdx(e.clientX - plot.over.getBoundingClientRect().left);
      const x = plot.data[0][idx] as number | undefined;
      if (x !== undefined) this.onPick(x * 1000);
    });
    plot.over.title = `${this.spec.title}: click a point to jump the log to that time`;
    return plot;
  }
}

const percent = (v: number) => `${Math.round(v)} %`;

/** Binary-prefixed bytes, short ("1.2 Ki", "340 Mi") for axes and the summary. */
export function shortBytes(n: number): string {
  const units = ["", "Ki", "Mi", "Gi", "Ti"];
  let v = n;
  let u = 0;
  while (Math.abs(v) >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return `${v >= 100 || u === 0 ? Math.round(v) : v.toFixed(1)} ${units[u]}B`;
}

const sum = (net: HostSample["net"], key: "rx" | "tx") => Object.values(net).reduce((a, n) => a + n[key], 0);

/** The containers' lines take these colours in turn (CSS custom properties, styles.css). */
const CONTAINER_COLORS = ["#3a7bd5", "#d9822b", "#4a8", "#8a5cc7", "#c44"].map((fallback, i) => ({
  color: `--chart-container-${i + 1}`,
  fallback,
}));

/** The section of the two per-container charts, made here (not in index.html): shown only with the source. */
function containerSection(panel: HTMLElement): { section: HTMLElement; cpu: HTMLElement; mem: HTMLElement } {
  const section = document.createElement("section");
  section.className = "metrics-containers";
  section.id = "metrics-containers";
  section.hidden = true;
  const head = (text: string) => {
    const h = document.createElement("h2");
    h.textContent = text;
    return h;
  };
  const chart = (id: string) => {
    const div = document.createElement("div");
    div.className = "metrics-chart";
    div.id = id;
    return div;
  };
  const cpu = chart("metrics-containers-cpu");
  const mem = chart("metrics-containers-mem");
  section.append(head(`Containers: CPU % (busiest ${TOP_CONTAINERS})`), cpu, head("Containers: memory"), mem);
  panel.append(section);
  return { section, cpu, mem };
}

export class MetricsPanel {
  readonly client: MetricsClient;
  private readonly charts: {
    cpu: LiveChart;
    load: LiveChart;
    net: LiveChart;
    disk: LiveChart;
    containersCpu: LiveChart;
    containersMem: LiveChart;
  };
  private readonly containers: { section: HTMLElement; cpu: HTMLElement; mem: HTMLElement };
  private shown = false;

  constructor(
    private readonly el: MetricsPanelElements,
    private readonly deps: MetricsPanelDeps,
  ) {
    this.client = new MetricsClient(deps.send, () => this.redraw());
    const pick = (ms: number) => deps.onPick(ms);
    this.containers = containerSection(el.panel);
    this.charts = {
      containersCpu: new LiveChart(
        this.containers.cpu,
        { title: "CPU % per container (100 = one CPU)", unit: percent, series: [] },
        pick,
      ),
      containersMem: new LiveChart(
        this.containers.mem,
        { title: "Memory per container", unit: shortBytes, series: [] },
        pick,
      ),
      cpu: new LiveChart(
        el.cpu,
        {
          title: "CPU and memory, with the stream's errors per 10 s",
          unit: percent,
          range: [0, 100],
          series: [
            { label: "CPU %", color: "--chart-cpu", fallback: "#3a7bd5" },
            { label: "memory %", color: "--chart-mem", fallback: "#8a5cc7" },
            { label: "errors/10 s", color: "--chart-errors", fallback: "#d44", scale: "err", step: true },
          ],
        },
        pick,
      ),
      load: new LiveChart(
        el.load,
        {
          title: "Load averages",
          unit: (v) => v.toFixed(1),
          series: [
            { label: "1 min", color: "--chart-cpu", fallback: "#3a7bd5" },
            { label: "5 min", color: "--chart-mem", fallback: "#8a5cc7" },
            { label: "15 min", color: "--muted", fallback: "#888" },
          ],
        },
        pick,
      ),
      net: new LiveChart(
        el.net,
        {
          title: "Network bytes per second",
          unit: shortBytes,
          series: [
            { label: "received", color: "--chart-entries", fallback: "#4a8" },
            { label: "sent", color: "--chart-cpu", fallback: "#3a7bd5" },
          ],
        },
        pick,
      ),
      disk: new LiveChart(
        el.disk,
        {
          title: "Disk bytes per second",
          unit: shortBytes,
          series: [
            { label: "read", color: "--chart-entries", fallback: "#4a8" },
            { label: "written", color: "--chart-mem", fallback: "#8a5cc7" },
          ],
        },
        pick,
      ),
    };
    el.toggle.addEventListener("click", () => this.setShown(!this.shown));
  }

  onHello(metrics: { sources: string[] } | undefined): void {
    this.client.onHello(metrics);
    const any = this.client.available || this.client.containersAvailable;
    this.el.toggle.hidden = !any;
    this.containers.section.hidden = !this.client.containersAvailable;
    if (!any && this.shown) this.setShown(false);
  }

  onMessage(message: MetricsMessage): void {
    this.client.onMessage(message);
  }

  setShown(on: boolean): void {
    this.shown = on;
    this.el.panel.hidden = !on;
    this.el.toggle.setAttribute("aria-pressed", String(on));
    this.client.setWanted(on);
    this.redraw();
  }

  set utc(on: boolean) {
    for (const c of Object.values(this.charts)) {
      c.utc = on;
      c.restyle();
    }
  }

  restyle(): void {
    for (const c of Object.values(this.charts)) c.restyle();
  }

  /** Draws the samples held (after each sample, and when the shown stream changes). */
  redraw(): void {
    if (!this.shown) return;
    const samples = this.client.samples;
    const xs = samples.map((s) => s.t / 1000);
    const store = this.deps.store();
    const errors = store
      ? errorsPerBucket(
          store,
          samples.map((s) => s.t),
        )
      : samples.map(() => 0);
    this.el.cpu.dataset.errors = String(errors.reduce((a, b) => Math.max(a, b), 0));
    this.charts.cpu.update([
      xs,
      samples.map((s) => s.cpu.busy),
      samples.map((s) => (s.mem.total > 0 ? Math.round((s.mem.used / s.mem.total) * 1000) / 10 : 0)),
      errors,
    ]);
    this.charts.load.update([
      xs,
      samples.map((s) => s.load[0]),
      samples.map((s) => s.load[1]),
      samples.map((s) => s.load[2]),
    ]);
    this.charts.net.update([xs, samples.map((s) => sum(s.net, "rx")), samples.map((s) => sum(s.net, "tx"))]);
    this.charts.disk.update([xs, samples.map((s) => s.disk.read), samples.map((s) => s.disk.write)]);
    if (this.client.containersAvailable) this.drawContainers(containerSeries(this.client.containerSamples));
    const last = samples[samples.length - 1];
    if (this.client.available)
      this.el.now.textContent = last === undefined ? "Waiting for the first sample…" : summary(last);
  }

  private drawContainers(series: ContainerSeries): void {
    const specs = series.names.map((label, i) => ({
      label,
      ...(CONTAINER_COLORS[i % CONTAINER_COLORS.length] as { color: string; fallback: string }),
    }));
    this.charts.containersCpu.setSeries(specs);
    this.charts.containersMem.setSeries(specs);
    this.containers.section.dataset.containers = series.names.join(",");
    this.charts.containersCpu.update([series.xs, ...series.cpu] as uPlot.AlignedData);
    this.charts.containersMem.update([series.xs, ...series.memory] as uPlot.AlignedData);
  }

  close(): void {
    for (const c of Object.values(this.charts)) c.close();
  }
}

/** The newest sample in one line of text. */
export function summary(s: HostSample): string {
  const parts = [
    `CPU ${s.cpu.busy.toFixed(1)} %`,
    `memory ${shortBytes(s.mem.used)} of ${shortBytes(s.mem.total)}`,
    `load ${s.load.map((v) => v.toFixed(2)).join(" ")}`,
    `net ↓ ${shortBytes(sum(s.net, "rx"))}/s ↑ ${shortBytes(sum(s.net, "tx"))}/s`,
    `disk ${shortBytes(s.disk.read)}/s read, ${shortBytes(s.disk.write)}/s written`,
  ];
  if (s.disk.free !== undefined) parts.push(`${shortBytes(s.disk.free)} free`);
  return parts.join(" · ");
}
