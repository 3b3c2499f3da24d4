import { ContainersSource } from "../metrics/containers/containers-source.js";
import type { HistoryLimits } from "../metrics/history.js";
import type { ContainersSample } from "../protocol/messages.js";
import { type FeedClock, MetricsFeed } from "./metrics-feed.js";

/** `ServerOptions.containerMetrics`: per-container CPU and memory from the Engine API (docs/metrics.md). */
export interface ContainerMetricsOptions {
  /** The Engine API socket, `unix:///var/run/docker.sock`. */
  host: string;
  /** Sampling interval (ms, 100..60,000). Default: the host metrics' interval, else 1,000. */
  intervalMs?: number;
  /** Running containers sampled per round (1..500). Default 50. */
  maxContainers?: number;
  /** Per stats request (ms). Default 2,000. */
  timeoutMs?: number;
  clock?: FeedClock;
  limits?: HistoryLimits;
}

/**
 * The containers feed, or null when off. It samples from the start but is `active` (listed in hello, served to
 * subscribers) only once the Engine API has answered: where it never does, there is no `containers` source.
 */
export function containersFeed(
  options: ContainerMetricsOptions | undefined,
  defaultIntervalMs: number,
  onActive: (feed: MetricsFeed<ContainersSample>) => void,
  onError: (error: Error) => void,
): { feed: MetricsFeed<ContainersSample>; source: ContainersSource } | null {
  if (options === undefined) return null;
  const intervalMs = options.intervalMs ?? defaultIntervalMs;
  if (!Number.isInteger(intervalMs) || intervalMs < 100 || intervalMs > 60_000) {
    throw new TypeError(
      `option containerMetrics.intervalMs must be an integer from 100 to 60000 (got ${String(intervalMs)})`,
    );
  }
  const max = options.maxContainers ?? 50;
  if (!Number.isInteger(max) || max < 1 || max > 500) {
    throw new TypeError(
      `option containerMetrics.maxContainers must be an integer from 1 to 500 (got ${String(max)})`,
    );
  }
  let feed: MetricsFeed<ContainersSample> | null = null;
  const source = new ContainersSource({
    host: options.host,
    maxContainers: max,
    ...(options.timeoutMs === undefined ? {} : { timeoutMs: options.timeoutMs }),
    onAnswer: () => {
      if (feed !== null) onActive(feed);
    },
  });
  feed = new MetricsFeed(source, {
    intervalMs,
    onError,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.limits === undefined ? {} : { limits: options.limits }),
  });
  return { feed, source };
}
