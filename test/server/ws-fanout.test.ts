import { describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { useClosers } from "../helpers/closer.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { appendLines, makeLines, startServer, writeLines } from "./harness.js";

const track = useClosers();
const tempDir = useTempDirs("livetrail-fanout-");

const CLIENTS = 1000;
const LINES = 1000;

/** A lean client: counts lines and checks order without keeping every message (1,000 of them at once). */
class CountingClient {
  received = 0;
  live = false;
  outOfOrder = 0;
  lastText = "";
  constructor(readonly ws: WebSocket) {
    ws.on("message", (data: Buffer) => {
      const m = JSON.parse(data.toString()) as { type: string; text?: string[] };
      if (m.type === "live") this.live = true;
      if (m.type !== "lines" || m.text === undefined) return;
      for (const text of m.text) {
        if (this.received < LINES && text !== expected[this.received]) this.outOfOrder++;
        this.received++;
        this.lastText = text;
      }
    });
  }
}

const expected = makeLines(0, LINES, "fan");

describe("fan-out", () => {
  it(`${CLIENTS} concurrent clients each get all of ${LINES} appended lines, once`, async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await writeLines(file, []);
    const { server, wsUrl } = track(await startServer([{ name: "audit", file }]));
    const clients: CountingClient[] = [];
    track({
      close: async () => {
        for (const c of clients) c.ws.terminate();
      },
    });
    // Connect in groups to keep the accept queue short on a shared machine.
    for (let i = 0; i < CLIENTS; i += 100) {
      const group = await Promise.all(
        Array.from({ length: Math.min(100, CLIENTS - i) }, async () => {
          const ws = new WebSocket(`${wsUrl}/ws`, { perMessageDeflate: false });
          const client = new CountingClient(ws);
          await new Promise<void>((resolve, reject) => {
            ws.once("open", () => resolve());
            ws.once("error", reject);
          });
          ws.send(JSON.stringify({ type: "subscribe", stream: "audit" }));
          return client;
        }),
      );
      clients.push(...group);
    }
    await waitFor(() => clients.every((c) => c.live), { timeoutMs: 60_000, message: "all clients live" });
    expect(server.streams.get("audit")?.clientCount).toBe(CLIENTS);

    for (let i = 0; i < LINES; i += 100) await appendLines(file, expected.slice(i, i + 100));
    await waitFor(() => clients.every((c) => c.received >= LINES), {
      timeoutMs: 60_000,
      message: `every client to have ${LINES} lines (slowest has ${Math.min(...clients.map((c) => c.received))})`,
    });
    await appendLines(file, ["END"]);
    await waitFor(() => clients.every((c) => c.lastText === "END"), {
      timeoutMs: 60_000,
      message: "END everywhere",
    });
    for (const c of clients) {
      expect(c.received).toBe(LINES + 1);
      expect(c.outOfOrder).toBe(0);
    }
    // Each line was read from the file once, whatever the number of clients.
    expect(server.streams.get("audit")?.counters.linesRead).toBe(LINES + 1);
  }, 180_000);
});
