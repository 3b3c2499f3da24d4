import { request } from "node:http";
import { ENGINE_API_VERSION } from "../../backend/docker/engine-api.js";

/**
 * One container's counters from `GET /containers/{id}/stats?stream=false&one-shot=true` (Docker Engine API
 * v1.43, ContainerStatsResponse). One-shot answers at once but leaves `precpu_stats` empty, so the CPU share is
 * worked out between two of our own readings (containers-sample.ts), with Docker's CLI formula.
 */
export interface ContainerReading {
  id: string;
  /** Without the leading "/". */
  name: string;
  /** cpu_stats.cpu_usage.total_usage: nanoseconds of CPU the container used. */
  cpuNs: number;
  /** cpu_stats.system_cpu_usage: nanoseconds of CPU time the host had (all CPUs). */
  systemNs: number;
  /** cpu_stats.online_cpus (else the length of percpu_usage, else 1). */
  onlineCpus: number;
  /** memory_stats.usage less the page cache that can be dropped (inactive_file), as `docker stats` shows. */
  memoryBytes: number;
  memoryLimitBytes: number;
}

/** A stats answer is a few KiB; anything far larger is not one. */
const MAX_STATS_BYTES = 1024 * 1024;

/** The stats of one container, or a rejection (HTTP error, timeout, a body not in the documented shape). */
export function readContainerStats(
  socketPath: string,
  id: string,
  timeoutMs: number,
): Promise<ContainerReading> {
  const path = `/${ENGINE_API_VERSION}/containers/${encodeURIComponent(id)}/stats?stream=false&one-shot=true`;
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: "GET", timeout: timeoutMs }, (res) => {
      const chunks: Buffer[] = [];
      let size = 0;
      res.on("data", (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_STATS_BYTES) req.destroy(new Error(`stats of ${id.slice(0, 12)}: answer too large`));
        else chunks.push(chunk);
      });
      res.on("end", () => {
        if (res.statusCode !== 200) {
          reject(new Error(`stats of ${id.slice(0, 12)}: HTTP ${res.statusCode}`));
          return;
        }
        try {
          resolve(parseStats(id, JSON.parse(Buffer.concat(chunks).toString("utf8"))));
        } catch (error) {
          reject(error instanceof Error ? error : new Error(String(error)));
        }
      });
      res.on("error", reject);
    });
    req.on("timeout", () =>
      req.destroy(new Error(`stats of ${id.slice(0, 12)}: no answer in ${timeoutMs} ms`)),
    );
    req.on("error", reject);
    req.end();
  });
}

interface StatsBody {
  name?: unknown;
  cpu_stats?: {
    cpu_usage?: { total_usage?: unknown; percpu_usage?: unknown };
    system_cpu_usage?: unknown;
    online_cpus?: unknown;
  };
  memory_stats?: { usage?: unknown; limit?: unknown; stats?: Record<string, unknown> };
}

/** The fields used, checked; a stopped container answers zeros and no memory usage (then it is refused). */
export function parseStats(id: string, body: unknown): ContainerReading {
  const b = (typeof body === "object" && body !== null ? body : {}) as StatsBody;
  const cpuNs = b.cpu_stats?.cpu_usage?.total_usage;
  const systemNs = b.cpu_stats?.system_cpu_usage;
  const usage = b.memory_stats?.usage;
  const limit = b.memory_stats?.limit;
  if (!isCount(cpuNs) || !isCount(systemNs) || !isCount(usage) || !isCount(limit)) {
    throw new Error(`stats of ${id.slice(0, 12)}: not in the Engine API's shape (a stopped container?)`);
  }
  const percpu = b.cpu_stats?.cpu_usage?.percpu_usage;
  const online = b.cpu_stats?.online_cpus;
  const onlineCpus =
    isCount(online) && online > 0 ? online : Array.isArray(percpu) && percpu.length > 0 ? percpu.length : 1;
  // Docker's CLI: cgroup v1 reports total_inactive_file, v2 inactive_file; either is subtracted when smaller.
  const stats = b.memory_stats?.stats ?? {};
  const inactive = [stats.total_inactive_file, stats.inactive_file].find(
    (v): v is number => isCount(v) && v < usage,
  );
  const name = typeof b.name === "string" && b.name !== "" ? b.name.replace(/^\//, "") : id.slice(0, 12);
  return {
    id,
    name,
    cpuNs,
    systemNs,
    onlineCpus,
    memoryBytes: usage - (inactive ?? 0),
    memoryLimitBytes: limit,
  };
}

function isCount(v: unknown): v is number {
  return typeof v === "number" && Number.isFinite(v) && v >= 0;
}
