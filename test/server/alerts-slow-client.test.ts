import type { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import type { WireAlert } from "../../src/protocol/messages.js";
import { parseAlertsConfig } from "../../src/server/alerts-config.js";
import { useClosers } from "../helpers/closer.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { appendLines, makeLines, startServer, TestClient, writeLines } from "./harness.js";

const tempDir = useTempDirs("livetrail-alerts-slow-");
const track = useClosers();

const socketOf = (c: TestClient): Socket => (c.ws as unknown as { _socket: Socket })._socket;

describe("alerts to a client that stopped reading", () => {
  it("are not queued past its budget: once it drains, one alerts snapshot stands for what it missed", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await writeLines(file, []);
    const cap = 64 * 1024;
    const rules = [1, 2, 3, 4, 5].map((i) => ({ name: `alarm-${i}`, kind: "match", pattern: `ALARM-${i}` }));
    const { server, wsUrl } = track(
      await startServer([{ name: "audit", file }], {
        alerts: parseAlertsConfig({ rules }),
        maxBufferedBytes: cap,
        maxFrameBytes: 4 * 1024,
        windowLines: 1000,
      }),
    );
    const slow = await TestClient.connect(`${wsUrl}/ws`);
    track({ close: () => slow.ws.close() });
    await slow.waitFor((m) => m.type === "alerts");
    slow.send({ type: "subscribe", stream: "audit" });
    await slow.waitFor((m) => m.type === "live");
    socketOf(slow).pause();

    // Enough lines to fill the socket buffers and then the server's queue for this client.
    const pad = "x".repeat(200);
    for (let i = 0; i < 60 && server.connections.maxBufferedBytes() < cap - 8 * 1024; i++) {
      await appendLines(file, makeLines(i * 2000, 2000, `filler ${pad}`));
      await waitFor(() => server.streams.get("audit")?.counters.linesRead === (i + 1) * 2000);
    }
    // Within 8 KiB of the budget: five alerts carrying a 1 KiB line each do not fit.
    expect(server.connections.maxBufferedBytes()).toBeGreaterThan(cap - 8 * 1024);
    const queued = server.connections.maxBufferedBytes();

    await appendLines(
      file,
      rules.map((r) => `${r.pattern} ${"y".repeat(1500)}`),
    );
    await waitFor(() => server.alerts?.snapshot().firing.length === 5);
    // Nothing was queued for the alerts beyond the budget.
    expect(server.connections.maxBufferedBytes()).toBeLessThanOrEqual(Math.max(queued, cap));

    socketOf(slow).resume();
    const first = slow.messages.findIndex((m) => m.type === "alerts");
    const again = (await slow.waitFor((m) => m.type === "alerts", {
      from: first + 1,
      timeoutMs: 30_000,
    })) as {
      firing: WireAlert[];
    };
    const seen = new Set([
      ...again.firing.map((a) => a.rule),
      ...slow.messages.filter((m) => m.type === "alert").map((m) => (m as { alert: WireAlert }).alert.rule),
    ]);
    expect([...seen].sort()).toEqual(rules.map((r) => r.name));
    expect(slow.messages.filter((m) => m.type === "alert").length).toBeLessThan(5);
  }, 90_000);
});
