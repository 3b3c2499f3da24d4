import { describe, expect, it } from "vitest";
import { parseStats } from "../../src/metrics/containers/container-stats.js";
import { combineContainers, containerMetrics } from "../../src/metrics/containers/containers-sample.js";
import { ContainersSource } from "../../src/metrics/containers/containers-source.js";
import { useClosers } from "../helpers/closer.js";
import type { Received } from "../helpers/received.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { startServer, TestClient, writeLines } from "../server/harness.js";
import { EngineStatsStandIn, type StandInContainer } from "./engine-stats-stand-in.js";
import { ManualClock } from "./manual-clock.js";

type Sample = Extract<Received, { type: "metrics"; source: "containers" }>;
type Snapshot = Extract<Received, { type: "metrics-snapshot"; source: "containers" }>;
const MiB = 1024 * 1024;
const id = (c: string) => c.repeat(64);

function container(name: string, c: string, extra: Partial<StandInContainer> = {}): StandInContainer {
  return {
    id: id(c),
    name,
    state: "running",
    cpuNs: 1_000_000_000,
    memoryUsage: 100 * MiB,
    inactiveFile: 20 * MiB,
    limit: 512 * MiB,
    ...extra,
  };
}

describe("container CPU and memory (Docker's CLI arithmetic)", () => {
  it("CPU share between two readings × online CPUs; memory less inactive_file (v2) or total_inactive_file (v1)", () => {
    const body = (cpu: number, system: number, stats: Record<string, number>) => ({
      name: "/web",
      cpu_stats: { cpu_usage: { total_usage: cpu }, system_cpu_usage: system, online_cpus: 2 },
      memory_stats: { usage: 100 * MiB, limit: 512 * MiB, stats },
    });
    const a = parseStats(id("a"), body(1e9, 1e12, { inactive_file: 20 * MiB }));
    // Half a CPU second over one second of a 2-CPU host (2e9 ns of system time): 50 % of one CPU.
    const b = parseStats(id("a"), body(1.5e9, 1e12 + 2e9, { inactive_file: 20 * MiB }));
    expect(b).toMatchObject({
      name: "web",
      memoryBytes: 80 * MiB,
      memoryLimitBytes: 512 * MiB,
      onlineCpus: 2,
    });
    expect(containerMetrics(a, b)).toEqual({
      name: "web",
      cpuPercent: 50,
      memoryBytes: 80 * MiB,
      memoryLimitBytes: 512 * MiB,
    });
    expect(containerMetrics(undefined, b)).toBeNull();
    // Restarted: the counter went backwards, no share for this interval.
    expect(containerMetrics(b, a)).toBeNull();
    const v1 = parseStats(id("a"), body(1e9, 1e12, { cache: 50 * MiB, total_inactive_file: 30 * MiB }));
    expect(v1.memoryBytes).toBe(70 * MiB);
    expect(() => parseStats(id("a"), { name: "/gone", cpu_stats: {}, memory_stats: {} })).toThrow(/shape/);
    const minute = combineContainers(
      [
        { t: 1, containers: [{ name: "web", cpuPercent: 10, memoryBytes: 100, memoryLimitBytes: 1000 }] },
        {
          t: 2,
          containers: [
            { name: "web", cpuPercent: 20, memoryBytes: 201, memoryLimitBytes: 1000 },
            { name: "db", cpuPercent: 5, memoryBytes: 7, memoryLimitBytes: 9 },
          ],
        },
      ],
      0,
    );
    expect(minute).toEqual({
      t: 0,
      containers: [
        { name: "web", cpuPercent: 15, memoryBytes: 151, memoryLimitBytes: 1000 },
        { name: "db", cpuPercent: 5, memoryBytes: 7, memoryLimitBytes: 9 },
      ],
    });
  });
});

describe("ContainersSource against a stand-in of Engine API v1.43 on a Unix socket", () => {
  const track = useClosers();
  const tempDir = useTempDirs("livetrail-cmetrics-");

  async function engine(containers: StandInContainer[]) {
    const dir = await tempDir();
    const e = new EngineStatsStandIn(dir.file("docker.sock"), containers);
    await e.start();
    track({ close: () => e.stop() });
    return { e, dir };
  }

  it("samples every running container at once; one that errs or hangs is skipped that round", async () => {
    const { e } = await engine([
      container("web", "a"),
      container("db", "b", { stats: "cgroup1", inactiveFile: 10 * MiB }),
      container("broken", "c", { stats: "error" }),
      container("stuck", "d", { stats: "hang" }),
      container("old", "e", { state: "exited" }),
    ]);
    let answered = 0;
    const source = new ContainersSource({
      host: `unix://${e.socketPath}`,
      timeoutMs: 300,
      onAnswer: () => answered++,
    });
    expect(await source.sample(1000)).toBeNull();
    expect(answered).toBe(1);
    // The exited container is never asked; the four running ones are.
    const statsAsked = e.requests.filter((r) => r.includes("/stats?"));
    expect(statsAsked.sort()).toEqual(
      ["a", "b", "c", "d"].map((c) => `/v1.43/containers/${id(c)}/stats?stream=false&one-shot=true`),
    );
    (e.containers[0] as StandInContainer).cpuNs += 500_000_000; // web: 0.5 CPU s
    (e.containers[1] as StandInContainer).cpuNs += 2_000_000_000; // db: 2 CPU s
    e.systemNs += 2_000_000_000; // one second of a 2-CPU host
    const sample = await source.sample(2000);
    expect(sample).toEqual({
      t: 2000,
      containers: [
        { name: "db", cpuPercent: 200, memoryBytes: 90 * MiB, memoryLimitBytes: 512 * MiB },
        { name: "web", cpuPercent: 50, memoryBytes: 80 * MiB, memoryLimitBytes: 512 * MiB },
      ],
    });
    expect(source.skipped).toBe(2);
    expect([...source.latest.values()].map((r) => r.name).sort()).toEqual(["db", "web"]);
    expect(answered).toBe(1);
  });

  it("asks for at most maxContainers a round", async () => {
    const { e } = await engine(["a", "b", "c"].map((c, i) => container(`c${i}`, c)));
    const source = new ContainersSource({ host: `unix://${e.socketPath}`, maxContainers: 2 });
    await source.sample(1000);
    expect(e.requests.filter((r) => r.includes("/stats?"))).toHaveLength(2);
    expect(source.skipped).toBe(1);
  });

  it("fails the round when the Engine API does not answer", async () => {
    const dir = await tempDir();
    let answered = 0;
    const source = new ContainersSource({
      host: `unix://${dir.file("none.sock")}`,
      onAnswer: () => answered++,
    });
    await expect(source.sample(1000)).rejects.toThrow(/ENOENT|ECONNREFUSED/);
    expect(answered).toBe(0);
  });
});

describe("the containers source over a real WebSocket and /metrics", () => {
  const track = useClosers();
  const tempDir = useTempDirs("livetrail-cmetrics-ws-");

  async function serve(socketPath: string | null) {
    const dir = await tempDir();
    const log = dir.file("audit.log");
    await writeLines(log, ["x"]);
    const clock = new ManualClock();
    const e = socketPath === null ? null : new EngineStatsStandIn(socketPath, [container("web", "a")]);
    await e?.start();
    if (e !== null) track({ close: () => e.stop() });
    const s = track(
      await startServer([{ name: "audit", file: log }], {
        containerMetrics: { host: `unix://${socketPath ?? dir.file("absent.sock")}`, clock },
      }),
    );
    const client = track(await TestClient.connect(`${s.wsUrl}/ws`));
    return { ...s, e, clock, client };
  }

  it("hello lists it, samples arrive as metrics messages with source containers, /metrics has the counters", async () => {
    const dir = await tempDir();
    const { e, clock, client, url } = await serve(dir.file("docker.sock"));
    expect(client.messages[0]).toMatchObject({
      type: "hello",
      metrics: { sources: ["containers"], intervalMs: 1000 },
    });
    client.send({ type: "metrics-subscribe" });
    const snap = await client.waitFor<Snapshot>((m) => m.type === "metrics-snapshot");
    expect(snap).toMatchObject({ source: "containers", seconds: [], minutes: [] });
    const web = (e as EngineStatsStandIn).containers[0] as StandInContainer;
    web.cpuNs += 250_000_000;
    (e as EngineStatsStandIn).systemNs += 2_000_000_000;
    clock.advance(1000);
    const one = await client.waitFor<Sample>((m) => m.type === "metrics");
    expect(one).toEqual({
      type: "metrics",
      source: "containers",
      sample: {
        t: clock.t,
        containers: [{ name: "web", cpuPercent: 25, memoryBytes: 80 * MiB, memoryLimitBytes: 512 * MiB }],
      },
    });
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toContain('livetrail_container_cpu_seconds_total{container="web"} 1.25');
    expect(text).toContain(`livetrail_container_memory_usage_bytes{container="web"} ${80 * MiB}`);
    expect(text).toContain(`livetrail_container_memory_limit_bytes{container="web"} ${512 * MiB}`);
  });

  it("no source where the Engine API is unreachable: hello has no metrics, subscribing is refused", async () => {
    const { client, url } = await serve(null);
    expect(client.messages[0]).toMatchObject({ type: "hello" });
    expect(client.messages[0]).not.toHaveProperty("metrics");
    client.send({ type: "metrics-subscribe", id: "s" });
    await client.waitFor((m) => m.type === "error" && m.code === "metrics_off");
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).not.toMatch(/^livetrail_container_cpu_seconds_total\{/m);
  });
});
