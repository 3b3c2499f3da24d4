import { EngineApi } from "../../backend/docker/engine-api.js";
import type { ContainerMetrics, ContainersSample } from "../../protocol/messages.js";
import type { MetricsSource } from "../source.js";
import { type ContainerReading, readContainerStats } from "./container-stats.js";
import { combineContainers, containerMetrics } from "./containers-sample.js";

export interface ContainersSourceOptions {
  /** The Engine API, `unix:///var/run/docker.sock`. */
  host: string;
  /** Running containers sampled per round, the first the API lists (newest first). Default 50. */
  maxContainers?: number;
  /** Per stats request; a container that does not answer in time is left out of that round. Default 2,000 ms. */
  timeoutMs?: number;
  /** Called once, when the API first answers the list: the source is live from then on (hello lists it). */
  onAnswer?: () => void;
}

/**
 * Per-container CPU and memory from the Docker Engine API (docs/metrics.md, "Containers"): each round lists the
 * running containers and asks each for its stats at once, all requests concurrent. A container that fails is
 * skipped that round; the list failing fails the round (the feed reports it once).
 */
export class ContainersSource implements MetricsSource<ContainersSample> {
  readonly name = "containers";
  /** The newest reading of each container sampled last round: its counters are what /metrics exposes. */
  latest = new Map<string, ContainerReading>();
  /** Containers left out last round: failed or past the limit. */
  skipped = 0;
  private readonly api: EngineApi;
  private readonly maxContainers: number;
  private readonly timeoutMs: number;
  private rounds = 0;
  private answered = false;

  constructor(private readonly options: ContainersSourceOptions) {
    this.api = new EngineApi(options.host);
    this.maxContainers = options.maxContainers ?? 50;
    this.timeoutMs = options.timeoutMs ?? 2000;
  }

  async sample(nowMs: number): Promise<ContainersSample | null> {
    const running = (await this.api.containers()).filter((c) => c.State === "running");
    if (!this.answered) {
      this.answered = true;
      this.options.onAnswer?.();
    }
    const chosen = running.slice(0, this.maxContainers);
    const results = await Promise.allSettled(
      chosen.map((c) => readContainerStats(this.api.socketPath, c.Id, this.timeoutMs)),
    );
    const prev = this.latest;
    const next = new Map<string, ContainerReading>();
    const containers: ContainerMetrics[] = [];
    for (const r of results) {
      if (r.status !== "fulfilled") continue;
      next.set(r.value.id, r.value);
      const m = containerMetrics(prev.get(r.value.id), r.value);
      if (m !== null) containers.push(m);
    }
    this.latest = next;
    this.skipped = running.length - next.size;
    // The first round only has readings: CPU shares need two.
    if (this.rounds++ === 0) return null;
    containers.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
    return { t: nowMs, containers };
  }

  combine(samples: readonly ContainersSample[], t: number): ContainersSample {
    return combineContainers(samples, t);
  }
}
