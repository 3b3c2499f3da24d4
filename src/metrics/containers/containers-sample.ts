import type { ContainerMetrics, ContainersSample } from "../../protocol/messages.js";
import type { ContainerReading } from "./container-stats.js";

/**
 * A container's metrics over the interval between two readings, with Docker's CLI formula
 * (cpuDelta / systemDelta × onlineCpus × 100). A container seen for the first time, or whose counters went
 * backwards (restarted), has no CPU share yet: it is left out until its next reading.
 */
export function containerMetrics(
  prev: ContainerReading | undefined,
  now: ContainerReading,
): ContainerMetrics | null {
  if (prev === undefined) return null;
  const cpuDelta = now.cpuNs - prev.cpuNs;
  const systemDelta = now.systemNs - prev.systemNs;
  if (cpuDelta < 0 || systemDelta <= 0) return null;
  return {
    name: now.name,
    cpuPercent: Math.round((cpuDelta / systemDelta) * now.onlineCpus * 1000) / 10,
    memoryBytes: now.memoryBytes,
    memoryLimitBytes: now.memoryLimitBytes,
  };
}

/** A minute's samples as one: each container's mean over the samples it is in (CPU to 0.1, bytes whole). */
export function combineContainers(samples: readonly ContainersSample[], t: number): ContainersSample {
  const sums = new Map<string, { cpu: number; mem: number; limit: number; n: number }>();
  for (const s of samples) {
    for (const c of s.containers) {
      const sum = sums.get(c.name) ?? { cpu: 0, mem: 0, limit: 0, n: 0 };
      sum.cpu += c.cpuPercent;
      sum.mem += c.memoryBytes;
      sum.limit = c.memoryLimitBytes;
      sum.n++;
      sums.set(c.name, sum);
    }
  }
  const containers = [...sums].map(([name, s]) => ({
    name,
    cpuPercent: Math.round((s.cpu / s.n) * 10) / 10,
    memoryBytes: Math.round(s.mem / s.n),
    memoryLimitBytes: s.limit,
  }));
  return { t, containers };
}
