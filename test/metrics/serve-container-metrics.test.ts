import { describe, expect, it } from "vitest";
import { makeContainer } from "../backend/docker/docker-dir.js";
import { toJsonLog } from "../backend/docker/json-file.js";
import { CLI, finished, killStrays, start } from "../cli/run-cli.js";
import { useClosers } from "../helpers/closer.js";
import type { Received } from "../helpers/received.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { TestClient } from "../server/harness.js";
import { EngineStatsStandIn, type StandInContainer } from "./engine-stats-stand-in.js";

killStrays();
type Sample = Extract<Received, { type: "metrics"; source: "containers" }>;

/** `livetrail serve --docker` (the built bundle) samples each running container where the Engine API answers. */
describe("serve --docker and container metrics", () => {
  const track = useClosers();
  const tempDir = useTempDirs("livetrail-serve-cmetrics-");

  async function serve(dockerHost: (root: string) => string, engine: boolean) {
    const root = (await tempDir()).path;
    const { id } = await makeContainer(root, { name: "web", log: toJsonLog(["GET / 200"]) });
    const web: StandInContainer = {
      id,
      name: "web",
      state: "running",
      cpuNs: 1e9,
      memoryUsage: 64 * 1024 * 1024,
      inactiveFile: 0,
      limit: 1 << 30,
    };
    if (engine) {
      // A STAND-IN for the Docker Engine API v1.43 (engine-stats-stand-in.ts): no engine runs here.
      const e = new EngineStatsStandIn(`${root}/docker.sock`, [web]);
      await e.start();
      track({ close: () => e.stop() });
      const moving = setInterval(() => {
        web.cpuNs += 0.05e9;
        e.systemNs += 0.2e9;
      }, 100);
      track({ close: async () => clearInterval(moving) });
    }
    const child = start(process.execPath, [
      CLI,
      "serve",
      "--docker",
      "--docker-root",
      root,
      "--docker-host",
      dockerHost(root),
      "--port",
      "0",
    ]);
    const done = finished(child, 60_000);
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const url = await waitFor(() => /at (http:\/\/\S+)/.exec(out)?.[1], {
      timeoutMs: 20_000,
      message: "url",
    });
    const client = track(await TestClient.connect(`${url.replace(/^http/, "ws")}/ws`));
    const stop = async () => {
      await client.close();
      child.kill("SIGTERM");
      return done;
    };
    return { url, client, stop };
  }

  it("with an answering Engine API: hello lists containers, samples arrive, /metrics has livetrail_container_*", async () => {
    const { url, client, stop } = await serve((root) => `unix://${root}/docker.sock`, true);
    expect(client.messages[0]).toMatchObject({
      metrics: { sources: ["host", "containers"], intervalMs: 1000 },
    });
    client.send({ type: "metrics-subscribe", history: 60 });
    const sample = await client.waitFor<Sample>((m) => m.type === "metrics" && m.source === "containers", {
      timeoutMs: 15_000,
      message: "a containers sample",
    });
    expect(sample.sample.containers.map((c) => c.name)).toEqual(["web"]);
    // 0.05 CPU s per 0.2 s of a 2-CPU host's time: 50 % of one CPU (the two readings a second apart).
    expect(sample.sample.containers[0]?.cpuPercent).toBeCloseTo(50, 0);
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toMatch(/^livetrail_container_cpu_seconds_total\{container="web"\} \d/m);
    expect(text).toContain(`livetrail_container_memory_usage_bytes{container="web"} ${64 * 1024 * 1024}`);
    expect((await stop()).code).toBe(0);
  });

  it("--docker-host none, or a socket nobody listens on: no containers source", async () => {
    for (const host of [() => "none", (root: string) => `unix://${root}/nobody.sock`]) {
      const { client, stop } = await serve(host, false);
      expect(client.messages[0]).toMatchObject({ metrics: { sources: ["host"] } });
      expect((await stop()).code).toBe(0);
    }
  });
});
