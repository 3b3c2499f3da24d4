import { cp } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import type { HostSample } from "../../src/protocol/messages.js";
import { useClosers } from "../helpers/closer.js";
import type { Received } from "../helpers/received.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { startServer, TestClient, writeLines } from "../server/harness.js";
import { ManualClock } from "./manual-clock.js";

const FIXTURES = fileURLToPath(new URL("fixtures/", import.meta.url));

type Sample = Extract<Received, { type: "metrics"; source: "host" }>;
type Snapshot = Extract<Received, { type: "metrics-snapshot"; source: "host" }>;
const samplesOf = (c: TestClient) => c.messages.filter((m): m is Sample => m.type === "metrics");

describe("host metrics over a real WebSocket", () => {
  const track = useClosers();
  const tempDir = useTempDirs("livetrail-metrics-ws-");

  /** A server sampling a copy of the fixture /proc on a clock the test moves. */
  async function serve() {
    const dir = await tempDir();
    await cp(`${FIXTURES}proc-1`, dir.file("proc"), { recursive: true });
    const log = dir.file("audit.log");
    await writeLines(log, ["[2026-12-04T10:00:00Z] hello"]);
    const clock = new ManualClock();
    const s = track(
      await startServer([{ name: "audit", file: log }], {
        hostMetrics: { clock, procDir: dir.file("proc"), filesystemPath: dir.path },
      }),
    );
    const connect = async () => track(await TestClient.connect(`${s.wsUrl}/ws`));
    return { ...s, dir, clock, connect };
  }

  it("sends a snapshot, then one sample per interval, only to sockets that subscribed", async () => {
    const { clock, connect, dir } = await serve();
    const watcher = await connect();
    const idle = await connect();
    expect(watcher.messages[0]).toMatchObject({
      type: "hello",
      metrics: { sources: ["host"], intervalMs: 1000 },
    });
    watcher.send({ type: "metrics-subscribe", id: "m1" });
    const first = await watcher.waitFor<Snapshot>((m) => m.type === "metrics-snapshot");
    // The first reading was taken at listen(); a rate needs a second one, so the history is empty yet.
    expect(first).toEqual({
      type: "metrics-snapshot",
      source: "host",
      intervalMs: 1000,
      minutes: [],
      seconds: [],
    });

    await cp(`${FIXTURES}proc-2`, dir.file("proc"), { recursive: true });
    clock.advance(1000);
    const one = await watcher.waitFor<Sample>((m) => m.type === "metrics");
    expect(one.source).toBe("host");
    expect(one.sample.t).toBe(clock.t);
    expect(one.sample.cpu.busy).toBe(45);
    expect(one.sample.load).toEqual([1.5, 0.6, 0.4]);
    for (let i = 0; i < 3; i++) {
      clock.advance(1000);
      await waitFor(() => samplesOf(watcher).length === 2 + i, { message: `sample ${2 + i}` });
    }
    const times = samplesOf(watcher).map((m) => m.sample.t);
    expect(times.slice(1).map((t, i) => t - (times[i] as number))).toEqual([1000, 1000, 1000]);

    // A socket that never asked got nothing; one that asks now gets the history so far.
    idle.send({ type: "ping", t: 1 });
    await idle.waitFor((m) => m.type === "pong");
    expect(idle.messages.some((m) => m.type.startsWith("metrics"))).toBe(false);
    idle.send({ type: "metrics-subscribe", history: 2 });
    const recent = await idle.waitFor<Snapshot>((m) => m.type === "metrics-snapshot");
    expect(recent.seconds.map((s: HostSample) => s.t)).toEqual(times.slice(-2));

    watcher.send({ type: "metrics-unsubscribe", id: "u" });
    await watcher.waitFor((m) => m.type === "metrics-unsubscribed" && m.id === "u");
    clock.advance(1000);
    await waitFor(() => samplesOf(idle).length === 1, { message: "the next sample on the other socket" });
    expect(samplesOf(watcher)).toHaveLength(4);
  });

  it("exposes the host's counters and levels on /metrics", async () => {
    const { url } = await serve();
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toContain('livetrail_host_cpu_seconds_total{mode="user"} 100');
    expect(text).toContain('livetrail_host_cpu_seconds_total{mode="steal"} 1');
    expect(text).toContain(`livetrail_host_memory_total_bytes ${8_000_000 * 1024}`);
    expect(text).toContain(`livetrail_host_memory_available_bytes ${6_000_000 * 1024}`);
    expect(text).toContain("livetrail_host_load1 0.52");
    expect(text).toContain("livetrail_host_load15 0.35");
    expect(text).toContain(`livetrail_host_disk_read_bytes_total{device="vda"} ${20_000 * 512}`);
    expect(text).not.toContain('device="vda1"');
    expect(text).toContain('livetrail_host_network_receive_bytes_total{device="eth0"} 1000000');
    expect(text).toContain('livetrail_host_network_transmit_bytes_total{device="docker0"} 0');
    expect(text).not.toContain('device="lo"');
    expect(text).toMatch(/livetrail_host_filesystem_avail_bytes\{path="[^"]+"\} \d+/);
  });

  it("refuses metrics-subscribe with a clear error when host metrics are off, and a bad history", async () => {
    const dir = await tempDir();
    const log = dir.file("audit.log");
    await writeLines(log, ["x"]);
    const s = track(await startServer([{ name: "audit", file: log }]));
    const c = track(await TestClient.connect(`${s.wsUrl}/ws`));
    expect(c.messages[0]).not.toHaveProperty("metrics");
    c.send({ type: "metrics-subscribe", id: "q" });
    expect(await c.waitFor((m) => m.type === "error")).toMatchObject({ code: "metrics_off", id: "q" });
    const on = await serve();
    const d = await on.connect();
    d.send({ type: "metrics-subscribe", history: 90_000 });
    expect(await d.waitFor((m) => m.type === "error")).toMatchObject({
      code: "bad_message",
      message: expect.stringContaining("from 0 to 86400"),
    });
  });

  it("samples this machine's /proc every second (arrival only, the real clock)", async () => {
    const dir = await tempDir();
    const log = dir.file("audit.log");
    await writeLines(log, ["x"]);
    const s = track(await startServer([{ name: "audit", file: log }], { hostMetrics: {} }));
    const c = track(await TestClient.connect(`${s.wsUrl}/ws`));
    c.send({ type: "metrics-subscribe" });
    await waitFor(() => samplesOf(c).length >= 2, { timeoutMs: 15_000, message: "two samples" });
    const [a, b] = samplesOf(c) as [Sample, Sample];
    expect(b.sample.t).toBeGreaterThan(a.sample.t);
    expect(b.sample.mem.total).toBeGreaterThan(0);
  });
});
