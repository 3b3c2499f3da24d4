import { cp } from "node:fs/promises";
import type { Socket } from "node:net";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { useClosers } from "../helpers/closer.js";
import type { Received } from "../helpers/received.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { appendLines, makeLines, startServer, TestClient, writeLines } from "../server/harness.js";
import { ManualClock } from "./manual-clock.js";

const FIXTURES = fileURLToPath(new URL("fixtures/", import.meta.url));
const socketOf = (c: TestClient) => (c.ws as unknown as { _socket: Socket })._socket;
const sampleTimes = (c: TestClient) =>
  c.messages
    .filter((m): m is Extract<Received, { type: "metrics" }> => m.type === "metrics")
    .map((m) => m.sample.t);

describe("metrics to a client that stopped reading (a real paused socket)", () => {
  const track = useClosers();
  const tempDir = useTempDirs("livetrail-metrics-slow-");

  it("skips its samples while its queue is at the budget, never queues past it, and sends again once it drained", async () => {
    const dir = await tempDir();
    await cp(`${FIXTURES}proc-1`, dir.file("proc"), { recursive: true });
    const file = dir.file("audit.log");
    await writeLines(file, []);
    const cap = 256 * 1024;
    const clock = new ManualClock();
    const { server, wsUrl } = track(
      await startServer([{ name: "audit", file }], {
        maxBufferedBytes: cap,
        maxFrameBytes: 32 * 1024,
        hostMetrics: { clock, procDir: dir.file("proc"), filesystemPath: dir.path },
      }),
    );
    const fast = track(await TestClient.connect(`${wsUrl}/ws`));
    const slow = track(await TestClient.connect(`${wsUrl}/ws`));
    await fast.subscribe("audit");
    await slow.subscribe("audit");
    slow.send({ type: "metrics-subscribe" });
    await slow.waitFor((m) => m.type === "metrics-snapshot");
    clock.advance(1000);
    await slow.waitFor((m) => m.type === "metrics");
    socketOf(slow).pause();

    // Lines until the kernel's buffers and then the slow client's queue are full (the fast one keeps up).
    let lines = 0;
    // Full: the queue stops short of the budget by less than one lines frame (32 KiB) once delivery is behind.
    for (let i = 0; i < 200 && server.connections.maxBufferedBytes() < cap - 40 * 1024; i++) {
      await appendLines(file, makeLines(i * 1000, 1000, `chunk ${i} ${"x".repeat(60)}`));
      lines += 1000;
      await fast.waitForLines(lines, "audit", 30_000);
    }
    expect(server.connections.maxBufferedBytes()).toBeGreaterThanOrEqual(cap - 40 * 1024);

    // 120 samples (~50 KB) on top of a queue with less room than that: those that fit go, the rest are skipped,
    // and the queue never passes the budget.
    const pausedFrom = clock.t;
    for (let i = 0; i < 120; i++) {
      clock.advance(1000);
      await new Promise((resolve) => setImmediate(resolve));
      expect(server.connections.maxBufferedBytes()).toBeLessThanOrEqual(cap);
    }

    socketOf(slow).resume();
    await slow.waitForLines(lines, "audit", 60_000);
    await waitFor(() => server.connections.maxBufferedBytes() === 0, { message: "the slow client drained" });
    clock.advance(1000);
    await waitFor(() => sampleTimes(slow).includes(clock.t), { message: "a sample after the drain" });
    const during = sampleTimes(slow).filter((t) => t > pausedFrom && t < clock.t);
    expect(during.length).toBeLessThan(120);
  }, 120_000);
});
