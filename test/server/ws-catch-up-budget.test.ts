import { writeFile } from "node:fs/promises";
import type { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { readAfter } from "../../src/backend/file/history.js";
import { useClosers } from "../helpers/closer.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { startServer, TestClient } from "./harness.js";

const track = useClosers();
const tempDir = useTempDirs("livetrail-budget-");

/** The client's TCP socket (ws keeps it in a private field): pausing it makes the client stop reading. */
function socketOf(client: TestClient): Socket {
  return (client.ws as unknown as { _socket: Socket })._socket;
}

const MAX_BUFFERED = 1024 * 1024;
const MAX_FRAME = 256 * 1024;
// ~19 MB: far more than the kernel's socket buffers absorb, so the server's own queue has to hold the rest.
const LINES = Array.from(
  { length: 1200 },
  (_, i) => `[2025-12-17T17:40:00Z] line ${String(i).padStart(4, "0")} ${"x".repeat(16_000)}`,
);

describe("catch-up respects maxBufferedBytes", () => {
  for (const source of ["window", "file"] as const) {
    it(`a client that does not read gets catch-up from the ${source} only as fast as it drains`, async () => {
      const dir = await tempDir();
      const file = dir.file("a.log");
      await writeFile(file, `${LINES.join("\n")}\n`);
      const { server, wsUrl } = track(
        await startServer([{ name: "a", file }], {
          maxBufferedBytes: MAX_BUFFERED,
          maxFrameBytes: MAX_FRAME,
          ...(source === "window" ? { windowBytes: 64 * 1024 * 1024 } : { windowLines: 10 }),
        }),
      );
      const client = track(await TestClient.connect(`${wsUrl}/ws`));
      let peak = 0;
      const sample = (): number => {
        const queued = server.connections.maxBufferedBytes();
        peak = Math.max(peak, queued);
        return queued;
      };
      socketOf(client).pause();
      let expected: string[];
      if (source === "window") {
        client.send({ type: "subscribe", stream: "a", tail: LINES.length });
        expected = LINES;
      } else {
        const first = await readAfter(file, null, 1);
        client.send({ type: "subscribe", stream: "a", since: first.cursor });
        expected = LINES.slice(1);
      }
      // The kernel's buffers are full and the server queues the rest: catch-up must now wait for the client.
      await waitFor(() => sample() > MAX_BUFFERED / 2, {
        message: "the server queueing for the paused client",
      });
      client.ws.on("message", sample);
      socketOf(client).resume();
      await client.waitFor((m) => m.type === "live", { timeoutMs: 30_000 });
      await client.waitForLines(expected.length, "a", 30_000);
      expect(client.texts("a")).toEqual(expected);
      expect(client.messages.some((m) => m.type === "gap")).toBe(false);
      // One frame (plus its JSON) may go to a queue just under the limit.
      expect(peak).toBeLessThanOrEqual(MAX_BUFFERED + MAX_FRAME + 64 * 1024);
    });
  }
});

describe("SSE catch-up respects maxBufferedBytes too", () => {
  it("an SSE client that does not read gets its tail only as fast as it drains", async () => {
    const dir = await tempDir();
    const file = dir.file("a.log");
    await writeFile(file, `${LINES.join("\n")}\n`);
    const { server, url } = track(
      await startServer([{ name: "a", file }], {
        maxBufferedBytes: MAX_BUFFERED,
        maxFrameBytes: MAX_FRAME,
        windowLines: 10,
      }),
    );
    const { request } = await import("node:http");
    let body = "";
    let peak = 0;
    const sample = (): number => {
      const queued = server.connections.maxBufferedBytes();
      peak = Math.max(peak, queued);
      return queued;
    };
    const response = await new Promise<import("node:http").IncomingMessage>((resolve, reject) => {
      const req = request(`${url}/api/streams/a/events?tail=${LINES.length}`, {
        headers: { accept: "text/event-stream" },
      });
      req.on("response", resolve);
      req.on("error", reject);
      req.end();
    });
    track({ close: async () => response.destroy() });
    response.pause();
    await waitFor(() => sample() > MAX_BUFFERED / 2, {
      message: "the server queueing for the paused SSE client",
    });
    response.setEncoding("utf8");
    response.on("data", (chunk: string) => {
      sample();
      body += chunk;
    });
    response.resume();
    await waitFor(() => body.includes("event: live"), { timeoutMs: 30_000, message: "live" });
    const texts = body
      .split("\n")
      .filter((l) => l.startsWith('data: {"seq"'))
      .map((l) => (JSON.parse(l.slice(6)) as { text: string }).text);
    // A tail holds at most 8 MiB of lines (~520 of these), the newest, in order.
    expect(texts.length).toBeGreaterThan(400);
    expect(texts).toEqual(LINES.slice(LINES.length - texts.length));
    // SSE events are JSON objects per line: one frame of them may go to a queue just under the limit.
    expect(peak).toBeLessThanOrEqual(MAX_BUFFERED + MAX_FRAME + 64 * 1024);
  });
});
