import { dirname } from "node:path";
import type { HistoryLimits } from "../metrics/history.js";
import { HostSource } from "../metrics/host/host-source.js";
import type { HostSample } from "../protocol/messages.js";
import { type FeedClock, MetricsFeed } from "./metrics-feed.js";

/** `ServerOptions.hostMetrics`: the host's /proc sampled for dashboards and /metrics (docs/metrics.md). */
export interface HostMetricsOptions {
  /** Sampling interval (ms, 100..60,000). Default 1,000. */
  intervalMs?: number;
  /** Where procfs is mounted. Default /proc. */
  procDir?: string;
  /** A directory whose filesystem's used and free bytes are reported. Default: the state directory, else the first file stream's directory, else the working directory. */
  filesystemPath?: string;
  /** Tests drive time with their own clock. */
  clock?: FeedClock;
  /** History sizes (default one hour at full resolution, 24 hours of minutes). */
  limits?: HistoryLimits;
}

/** The host feed for a server's options, or null when host metrics are off (absent from the options). */
export function hostFeed(
  options: HostMetricsOptions | undefined,
  stateDir: string | null,
  streams: readonly { file?: string }[],
  onError: (error: Error) => void,
): { feed: MetricsFeed<HostSample>; source: HostSource } | null {
  if (options === undefined) return null;
  const intervalMs = options.intervalMs ?? 1000;
  if (!Number.isInteger(intervalMs) || intervalMs < 100 || intervalMs > 60_000) {
    throw new TypeError(
      `option hostMetrics.intervalMs must be an integer from 100 to 60000 (got ${String(intervalMs)})`,
    );
  }
  const firstFile = streams.find((s) => typeof s.file === "string")?.file;
  const source = new HostSource({
    procDir: options.procDir ?? "/proc",
    filesystemPath:
      options.filesystemPath ?? stateDir ?? (firstFile === undefined ? process.cwd() : dirname(firstFile)),
  });
  const feed = new MetricsFeed(source, {
    intervalMs,
    onError,
    ...(options.clock === undefined ? {} : { clock: options.clock }),
    ...(options.limits === undefined ? {} : { limits: options.limits }),
  });
  return { feed, source };
}
