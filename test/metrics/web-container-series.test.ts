import { describe, expect, it } from "vitest";
import type { ClientMessage, ContainersSample } from "../../src/protocol/messages.js";
import { containerSeries } from "../../src/web/container-series.js";
import { MetricsClient } from "../../src/web/metrics-client.js";

const c = (name: string, cpuPercent: number, memoryBytes = 1000) => ({
  name,
  cpuPercent,
  memoryBytes,
  memoryLimitBytes: 4000,
});

describe("the per-container charts' series (DOM-free)", () => {
  it("one series per container, the busiest by mean CPU, null where a container is missing", () => {
    const samples: ContainersSample[] = [
      { t: 1000, containers: [c("web", 10, 100), c("db", 50, 500), c("idle", 0)] },
      { t: 2000, containers: [c("web", 90, 110), c("cron", 1)] },
      { t: 3000, containers: [c("web", 20, 120), c("db", 40, 520), c("idle", 0)] },
    ];
    const all = containerSeries(samples);
    expect(all.names).toEqual(["web", "db", "cron", "idle"]);
    expect(all.xs).toEqual([1, 2, 3]);
    expect(all.cpu).toEqual([
      [10, 90, 20],
      [50, null, 40],
      [null, 1, null],
      [0, null, 0],
    ]);
    expect(all.memory[1]).toEqual([500, null, 520]);
    const two = containerSeries(samples, 2);
    expect(two.names).toEqual(["web", "db"]);
    expect(two.cpu).toHaveLength(2);
    expect(containerSeries([])).toEqual({ names: [], xs: [], cpu: [], memory: [] });
  });

  it("the client keeps container samples apart from host ones and subscribes when only containers are sampled", () => {
    const sent: ClientMessage[] = [];
    const client = new MetricsClient(
      (m) => sent.push(m) > 0,
      () => undefined,
      60,
    );
    client.setWanted(true);
    client.onHello({ sources: ["containers"] });
    expect(client.available).toBe(false);
    expect(client.containersAvailable).toBe(true);
    expect(sent).toEqual([{ type: "metrics-subscribe", history: 60 }]);
    client.onMessage({
      type: "metrics-snapshot",
      source: "containers",
      intervalMs: 1000,
      minutes: [],
      seconds: [{ t: 1000, containers: [c("web", 1)] }],
    });
    client.onMessage({
      type: "metrics",
      source: "containers",
      sample: { t: 2000, containers: [c("web", 2)] },
    });
    client.onMessage({ type: "metrics", source: "containers", sample: { t: 1500, containers: [] } }); // older: ignored
    client.onMessage({ type: "metrics", source: "containers", sample: { t: 62_000, containers: [] } });
    expect(client.containerSamples.map((s) => s.t)).toEqual([2000, 62_000]);
    expect(client.samples).toEqual([]);
  });
});
