import type { Command } from "commander";
import type { HostMetricsOptions } from "../server/metrics-feed-host.js";

/** `serve`'s host metrics flag (docs/metrics.md). Commander sets `hostMetrics` false for `--no-host-metrics`. */
export interface MetricsFlags {
  hostMetrics: boolean;
}

export function addMetricsFlags(command: Command): Command {
  return command
    .optionsGroup("Host metrics (docs/metrics.md):")
    .option(
      "--no-host-metrics",
      "do not sample the host's CPU, memory, load, disk and network (/proc) for the dashboard and /metrics",
    );
}

/** On unless turned off: sampled every second, the state or log directory's filesystem reported. */
export function hostMetricsFromFlags(flags: MetricsFlags): HostMetricsOptions | undefined {
  return flags.hostMetrics === false ? undefined : {};
}
