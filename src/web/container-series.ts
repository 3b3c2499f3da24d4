import type { ContainersSample } from "../protocol/messages.js";

/** Containers drawn at most: more lines than this on a 130 px chart cannot be told apart. */
export const TOP_CONTAINERS = 5;

export interface ContainerSeries {
  /** The containers drawn, busiest first. */
  names: string[];
  /** Sample times (s, as uPlot's x). */
  xs: number[];
  /** Per name, CPU % per sample time; null where the container was not in that sample (a gap in its line). */
  cpu: (number | null)[][];
  /** Per name, memory bytes per sample time (null: not in that sample). */
  memory: (number | null)[][];
}

/**
 * The per-container charts' data (DOM-free): one series per container, the `top` ones with the highest mean CPU
 * over the samples held (a mean, not the newest value, so the set does not flicker with every sample); ties and
 * idle containers by name.
 */
export function containerSeries(samples: readonly ContainersSample[], top = TOP_CONTAINERS): ContainerSeries {
  const totals = new Map<string, number>();
  for (const s of samples)
    for (const c of s.containers) totals.set(c.name, (totals.get(c.name) ?? 0) + c.cpuPercent);
  const names = [...totals]
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))
    .slice(0, top)
    .map(([name]) => name);
  const index = new Map(names.map((n, i) => [n, i]));
  const cpu = names.map(() => samples.map((): number | null => null));
  const memory = names.map(() => samples.map((): number | null => null));
  samples.forEach((s, k) => {
    for (const c of s.containers) {
      const i = index.get(c.name);
      if (i === undefined) continue;
      (cpu[i] as (number | null)[])[k] = c.cpuPercent;
      (memory[i] as (number | null)[])[k] = c.memoryBytes;
    }
  });
  return { names, xs: samples.map((s) => s.t / 1000), cpu, memory };
}
