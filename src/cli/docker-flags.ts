import { resolve } from "node:path";
import type { StreamSource } from "../backend/backend.js";
import type { ContainerMetricsOptions } from "../server/metrics-feed-containers.js";

/** The container settings (src/cli/settings/sources.ts), already checked there. */
export interface DockerSettings {
  docker: boolean;
  dockerRoot: string;
  dockerHost: string;
}

export interface DockerServeSettings {
  pollIntervalMs?: number | undefined;
  watch?: boolean | undefined;
  maxLineBytes: number;
  hostLabel: string;
  /** Names of the server's other streams (files, stdin). */
  taken: string[];
}

/**
 * The StreamSource of `serve --docker`, or null without --docker. Notes (a container on another log driver, the
 * Engine API unreachable) go to stderr like the server's other start-up messages.
 */
export async function dockerFromSettings(
  docker: DockerSettings,
  settings: DockerServeSettings,
): Promise<{ source: StreamSource; label: string; containerMetrics?: ContainerMetricsOptions } | null> {
  if (!docker.docker) return null;
  const host = docker.dockerHost === "none" ? null : docker.dockerHost;
  const root = resolve(docker.dockerRoot);
  const { DockerContainers } = await import("../backend/docker/docker-containers.js");
  const source = new DockerContainers({
    root,
    host,
    hostLabel: settings.hostLabel,
    taken: settings.taken,
    maxLineBytes: settings.maxLineBytes,
    ...(settings.pollIntervalMs === undefined ? {} : { pollIntervalMs: settings.pollIntervalMs }),
    ...(settings.watch === undefined ? {} : { watch: settings.watch }),
    onNote: (message) => process.stderr.write(`livetrail: docker: ${message}\n`),
  });
  const label = `the containers in ${root}${host === null ? "" : ` (Engine API ${host})`}`;
  // Per-container CPU and memory come from the same socket (docs/metrics.md, "Containers"); none without it.
  return host === null ? { source, label } : { source, label, containerMetrics: { host } };
}
