import { createServer, type Server } from "node:http";
import { containerSummary } from "../backend/docker/container-summary.js";

/** What the stand-in knows of a container; `stats` picks how its stats request is answered. */
export interface StandInContainer {
  id: string;
  name: string;
  state: string;
  /** Cumulative CPU nanoseconds, moved by the test between rounds. */
  cpuNs: number;
  memoryUsage: number;
  inactiveFile: number;
  limit: number;
  /** "ok" (default), "error" (HTTP 500), "hang" (never answers), "cgroup1" (total_inactive_file). */
  stats?: "ok" | "error" | "hang" | "cgroup1";
}

/**
 * A STAND-IN for the Docker Engine, not a real one (no engine can run containers on this machine): an HTTP server
 * on a Unix socket answering the calls the containers metrics source makes, with bodies in the shapes of the
 * Docker Engine API v1.43 reference (https://docs.docker.com/reference/api/engine/version/v1.43/):
 * `GET /containers/json?all=1` returns ContainerSummary objects (as test/backend/docker/engine-api.test.ts's
 * stand-in does), and `GET /containers/{id}/stats?stream=false&one-shot=true` returns a ContainerStatsResponse
 * (read, preread, name, id, cpu_stats/precpu_stats {cpu_usage {total_usage, percpu_usage, usage_in_kernelmode,
 * usage_in_usermode}, system_cpu_usage, online_cpus, throttling_data}, memory_stats {usage, limit, stats {...}},
 * pids_stats, blkio_stats, networks); with one-shot the daemon leaves precpu_stats zeroed, as here.
 */
export class EngineStatsStandIn {
  readonly requests: string[] = [];
  /** Host CPU nanoseconds (system_cpu_usage), moved by the test. */
  systemNs = 1_000_000_000_000;
  onlineCpus = 2;
  private server: Server | null = null;
  private readonly hanging = new Set<import("node:http").ServerResponse>();

  constructor(
    readonly socketPath: string,
    public containers: StandInContainer[],
  ) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.requests.push(req.url ?? "");
      const url = new URL(req.url ?? "/", "http://docker");
      const stats = /^\/v1\.43\/containers\/([0-9a-f]+)\/stats$/.exec(url.pathname);
      if (url.pathname === "/v1.43/containers/json") {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(JSON.stringify(this.containers.map(containerSummary)));
        return;
      }
      const c = stats === null ? undefined : this.containers.find((x) => x.id === stats[1]);
      if (
        c === undefined ||
        url.searchParams.get("stream") !== "false" ||
        url.searchParams.get("one-shot") !== "true"
      ) {
        res.writeHead(404, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ message: "page not found" }));
      } else if (c.stats === "hang") {
        this.hanging.add(res);
        res.on("close", () => this.hanging.delete(res));
      } else if (c.stats === "error") {
        res.writeHead(500, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ message: "cannot get stats" }));
      } else {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(JSON.stringify(this.statsBody(c)));
      }
    });
    const server = this.server;
    await new Promise<void>((resolve) => server.listen(this.socketPath, resolve));
  }

  private statsBody(c: StandInContainer) {
    const memStats: Record<string, number> =
      c.stats === "cgroup1"
        ? {
            cache: c.inactiveFile * 2,
            rss: c.memoryUsage - c.inactiveFile,
            total_inactive_file: c.inactiveFile,
          }
        : {
            anon: c.memoryUsage - c.inactiveFile,
            file: c.inactiveFile * 2,
            inactive_file: c.inactiveFile,
            active_file: c.inactiveFile,
          };
    const zeroCpu = {
      cpu_usage: { total_usage: 0, usage_in_kernelmode: 0, usage_in_usermode: 0 },
      throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
    };
    return {
      read: new Date().toISOString(),
      preread: "0001-01-01T00:00:00Z",
      name: `/${c.name}`,
      id: c.id,
      pids_stats: { current: 3, limit: 4613 },
      blkio_stats: { io_service_bytes_recursive: null },
      num_procs: 0,
      storage_stats: {},
      cpu_stats: {
        cpu_usage: {
          total_usage: c.cpuNs,
          usage_in_kernelmode: Math.floor(c.cpuNs / 3),
          usage_in_usermode: c.cpuNs - Math.floor(c.cpuNs / 3),
        },
        system_cpu_usage: this.systemNs,
        online_cpus: this.onlineCpus,
        throttling_data: { periods: 0, throttled_periods: 0, throttled_time: 0 },
      },
      precpu_stats: zeroCpu,
      memory_stats: { usage: c.memoryUsage, stats: memStats, limit: c.limit },
      networks: { eth0: { rx_bytes: 1000, rx_packets: 10, tx_bytes: 2000, tx_packets: 20 } },
    };
  }

  async stop(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    const server = this.server;
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}
