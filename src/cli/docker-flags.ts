import { resolve } from "node:path";
import type { Command } from "commander";
import type { StreamSource } from "../backend/backend.js";
import type { ContainerMetricsOptions } from "../server/metrics-feed-containers.js";
import { CliError } from "./cli-error.js";

export interface DockerFlags {
  docker?: boolean;
  dockerRoot: string;
  dockerHost: string;
}

export const DEFAULT_DOCKER_ROOT = "/var/lib/docker";
export const DEFAULT_DOCKER_HOST = "unix:///var/run/docker.sock";

/** The `serve` flags of container logs (docs/sources.md, "Container logs"). */
export function addDockerFlags(command: Command): Command {
  return command
    .optionsGroup("Container logs (docs/sources.md):")
    .option("--docker", "serve a stream per Docker container, from its json-file log (as containers appear)")
    .option("--docker-root <dir>", "Docker's root directory (holds containers/<id>/)", DEFAULT_DOCKER_ROOT)
    .option(
      "--docker-host <unix://path>",
      'the Engine API socket, for container states and events ("none": read the files only)',
      DEFAULT_DOCKER_HOST,
    );
}

export interface DockerServeSettings {
  pollIntervalMs?: number | undefined;
  watch?: boolean | undefined;
  maxLineBytes: number;
  hostLabel: string;
  /** Names of the server's other streams (files, stdin). */
  taken: string[];
}

/** Usage errors of the docker flags, found before anything starts (exit status 2). */
export function checkDockerFlags(flags: DockerFlags & { redis?: string }): void {
  if (flags.docker !== true) return;
  if (flags.redis !== undefined) throw new CliError("use either --docker or --redis, not both", 2);
  const host = flags.dockerHost;
  if (host !== "none" && (!host.startsWith("unix://") || host.length <= "unix://".length)) {
    throw new CliError(`--docker-host needs unix:///path/to/docker.sock (or "none"), got "${host}"`, 2);
  }
}

/**
 * The StreamSource of `serve --docker`, or null without --docker. Notes (a container on another log driver, the
 * Engine API unreachable) go to stderr like the server's other start-up messages.
 */
export async function dockerFromFlags(
  flags: DockerFlags & { redis?: string },
  settings: DockerServeSettings,
): Promise<{ source: StreamSource; label: string; containerMetrics?: ContainerMetricsOptions } | null> {
  if (flags.docker !== true) return null;
  checkDockerFlags(flags);
  const host = flags.dockerHost === "none" ? null : flags.dockerHost;
  const root = resolve(flags.dockerRoot);
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
