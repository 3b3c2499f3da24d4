import type { Registry } from "prom-client";
import type { ContainersSource } from "../metrics/containers/containers-source.js";
import type { HostSource } from "../metrics/host/host-source.js";
import { CPU_MODES } from "../metrics/host/proc-stat.js";
import { monotonic } from "./metrics.js";

type PromClient = typeof import("prom-client");

/**
 * The host's counters and levels on /metrics, as of the newest reading (at most one interval old), named like
 * node_exporter's with the `livetrail_host_` prefix (docs/metrics.md): a scrape reads no /proc file itself.
 */
export function hostPrometheus(client: PromClient, register: Registry, host: HostSource): void {
  const reading = () => host.latest;
  monotonic(
    client,
    register,
    "livetrail_host_cpu_seconds_total",
    "Seconds all CPUs spent in each mode since boot.",
    ["mode"],
    (emit) => {
      const r = reading();
      if (r) for (const mode of CPU_MODES) emit({ mode }, r.cpu[mode]);
    },
  );
  const gauge = (name: string, help: string, read: () => number | undefined) =>
    new client.Gauge({
      name,
      help,
      registers: [register],
      collect() {
        const v = read();
        if (v !== undefined) this.set(v);
      },
    });
  gauge(
    "livetrail_host_memory_total_bytes",
    "Memory of the host (MemTotal).",
    () => reading()?.memory.totalBytes,
  );
  gauge(
    "livetrail_host_memory_available_bytes",
    "Memory available for new work without swapping (MemAvailable).",
    () => reading()?.memory.availableBytes,
  );
  gauge("livetrail_host_load1", "1-minute load average.", () => reading()?.load[0]);
  gauge("livetrail_host_load5", "5-minute load average.", () => reading()?.load[1]);
  gauge("livetrail_host_load15", "15-minute load average.", () => reading()?.load[2]);
  const perDisk = (name: string, help: string, key: "readBytes" | "writtenBytes") =>
    monotonic(client, register, name, help, ["device"], (emit) => {
      for (const d of reading()?.disks ?? []) emit({ device: d.device }, d[key]);
    });
  perDisk("livetrail_host_disk_read_bytes_total", "Bytes read from each whole disk since boot.", "readBytes");
  perDisk(
    "livetrail_host_disk_written_bytes_total",
    "Bytes written to each whole disk since boot.",
    "writtenBytes",
  );
  const perFs = (name: string, help: string, key: "sizeBytes" | "freeBytes") =>
    new client.Gauge({
      name,
      help,
      labelNames: ["path"],
      registers: [register],
      collect() {
        const fs = reading()?.filesystem;
        if (fs) this.set({ path: fs.path }, fs[key]);
      },
    });
  perFs(
    "livetrail_host_filesystem_size_bytes",
    "Size of the state or log directory's filesystem.",
    "sizeBytes",
  );
  perFs(
    "livetrail_host_filesystem_avail_bytes",
    "Bytes of that filesystem free to unprivileged users.",
    "freeBytes",
  );
  const perNet = (name: string, help: string, key: "receiveBytes" | "transmitBytes") =>
    monotonic(client, register, name, help, ["device"], (emit) => {
      for (const n of reading()?.net ?? []) emit({ device: n.device }, n[key]);
    });
  perNet(
    "livetrail_host_network_receive_bytes_total",
    "Bytes received per interface (lo left out).",
    "receiveBytes",
  );
  perNet(
    "livetrail_host_network_transmit_bytes_total",
    "Bytes sent per interface (lo left out).",
    "transmitBytes",
  );
}

/**
 * Each container's CPU seconds (a counter, cAdvisor's `container_cpu_usage_seconds_total` with our prefix) and
 * memory in use, as of the newest round: a scrape asks the Engine API nothing itself.
 */
export function containersPrometheus(client: PromClient, register: Registry, source: ContainersSource): void {
  monotonic(
    client,
    register,
    "livetrail_container_cpu_seconds_total",
    "CPU seconds each running container used (Engine API cpu_usage.total_usage).",
    ["container"],
    (emit) => {
      for (const r of source.latest.values()) emit({ container: r.name }, r.cpuNs / 1e9);
    },
  );
  const perContainer = (name: string, help: string, key: "memoryBytes" | "memoryLimitBytes") =>
    new client.Gauge({
      name,
      help,
      labelNames: ["container"],
      registers: [register],
      collect() {
        this.reset();
        for (const r of source.latest.values()) this.set({ container: r.name }, r[key]);
      },
    });
  perContainer(
    "livetrail_container_memory_usage_bytes",
    "Memory each running container uses, less inactive page cache (as docker stats shows).",
    "memoryBytes",
  );
  perContainer(
    "livetrail_container_memory_limit_bytes",
    "Each running container's memory limit (the host's memory when it has none).",
    "memoryLimitBytes",
  );
}
