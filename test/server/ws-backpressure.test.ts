import type { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import type { LinesPage, ServerMessage, WireLine } from "../../src/protocol/messages.js";
import { useClosers } from "../helpers/closer.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { appendLines, makeLines, startServer, TestClient, writeLines } from "./harness.js";

const track = useClosers();
const tempDir = useTempDirs("livetrail-slow-");

type Gap = Extract<ServerMessage, { type: "gap" }>;

/** The client's TCP socket (ws keeps it in a private field): pausing it makes the client stop reading. */
function socketOf(client: TestClient): Socket {
  return (client.ws as unknown as { _socket: Socket })._socket;
}

/**
 * Appends 60 chunks of 1,000 lines while another client is paused, letting `fast` catch up every 10 chunks; returns the
 * lines written and the most the server queued for any one client meanwhile (checked against the cap).
 */
async function writeWhileOnePaused(
  server: { connections: { maxBufferedBytes(): number } },
  file: string,
  fast: TestClient,
): Promise<{ all: string[]; maxQueued: number }> {
  const all: string[] = [];
  let maxQueued = 0;
  for (let i = 0; i < 60; i++) {
    const lines = makeLines(i * 1000, 1000, `chunk ${i} ${"x".repeat(60)}`);
    all.push(...lines);
    await appendLines(file, lines);
    maxQueued = Math.max(maxQueued, server.connections.maxBufferedBytes());
    if (i % 10 === 9) {
      await waitFor(
        () => {
          maxQueued = Math.max(maxQueued, server.connections.maxBufferedBytes());
          return fast.lines().length >= all.length;
        },
        { timeoutMs: 30_000, message: "fast client to keep up" },
      );
    }
  }
  await fast.waitForLines(all.length, undefined, 30_000);
  return { all, maxQueued };
}

/** Two clients on "audit": `slow` stops reading once subscribed; `largestFrame()` is the largest `fast` got. */
async function fastAndPausedSlow(
  wsUrl: string,
): Promise<{ fast: TestClient; slow: TestClient; largestFrame: () => number }> {
  const fast = track(await TestClient.connect(`${wsUrl}/ws`));
  const slow = track(await TestClient.connect(`${wsUrl}/ws`));
  let largest = 0;
  fast.ws.on("message", (data: Buffer) => {
    largest = Math.max(largest, data.length);
  });
  await fast.subscribe("audit");
  await slow.subscribe("audit");
  socketOf(slow).pause();
  return { fast, slow, largestFrame: () => largest };
}

describe("a slow client", () => {
  it("is caught up once it drains (default): every line exactly once, and the server's queue stays bounded", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await writeLines(file, []);
    const cap = 256 * 1024;
    const { server, wsUrl } = track(
      await startServer([{ name: "audit", file }], {
        maxBufferedBytes: cap,
        maxFrameBytes: 32 * 1024,
        windowLines: 1000,
      }),
    );
    const { fast, slow, largestFrame } = await fastAndPausedSlow(wsUrl);
    const { all, maxQueued } = await writeWhileOnePaused(server, file, fast);
    expect(fast.texts()).toEqual(all);
    expect(maxQueued).toBeLessThanOrEqual(cap + largestFrame());
    expect(maxQueued).toBeGreaterThan(0);

    socketOf(slow).resume();
    await appendLines(file, ["END"]);
    await slow.waitForText("END", {
      timeoutMs: 60_000,
    });
    expect(slow.texts()).toEqual([...all, "END"]);
    expect(slow.messages.some((m) => m.type === "gap")).toBe(false);
    expect(server.streams.get("audit")?.counters.slowClientCatchUps).toBeGreaterThan(0);
  }, 120_000);

  it('with slowClients "gap" gets a gap naming what it missed, while a fast client gets everything and the server\'s queue stays bounded', async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await writeLines(file, []);
    const cap = 256 * 1024;
    const { server, url, wsUrl } = track(
      await startServer([{ name: "audit", file }], {
        maxBufferedBytes: cap,
        maxFrameBytes: 32 * 1024,
        slowClients: "gap",
      }),
    );
    const { fast, slow, largestFrame } = await fastAndPausedSlow(wsUrl);

    // Enough data to fill the kernel's socket buffers on both ends and then the server's queue several times.
    const { all, maxQueued } = await writeWhileOnePaused(server, file, fast);
    expect(fast.texts()).toEqual(all);
    // The server never queued more than the cap plus one frame for the paused client.
    expect(maxQueued).toBeLessThanOrEqual(cap + largestFrame());
    expect(maxQueued).toBeGreaterThan(0);

    // The slow client reads again: it drains, then learns what it missed.
    socketOf(slow).resume();
    const gap = await slow.waitFor<Gap>((m) => m.type === "gap", { timeoutMs: 30_000 });
    expect(gap.reason).toBe("slow-client");
    await appendLines(file, ["END"]);
    await slow.waitForText("END", {
      timeoutMs: 30_000,
    });

    const gapIndex = slow.messages.indexOf(gap);
    const before: WireLine[] = [];
    const after: WireLine[] = [];
    slow.messages.forEach((m, i) => {
      if (m.type === "lines") (i < gapIndex ? before : after).push(...m.lines);
    });
    // Before the gap: a prefix of everything, ending at gap.from.
    expect(before.map((l) => l.text)).toEqual(all.slice(0, before.length));
    expect(gap.from).toBe(before.length === 0 ? null : (before[before.length - 1] as WireLine).c);
    expect(before.length).toBeLessThan(all.length);
    // After the gap: continues exactly at gap.to.
    const fastLines = fast.lines();
    const toIndex = fastLines.findIndex((l) => l.c === gap.to);
    expect(toIndex).toBeGreaterThanOrEqual(before.length - 1);
    expect(after.map((l) => l.text)).toEqual([...all.slice(toIndex + 1), "END"]);
    expect(gap.skipped).toBe(toIndex + 1 - before.length);

    // The missed lines can be fetched over HTTP from gap.from up to gap.to.
    const missed: string[] = [];
    let cursor = gap.from ?? "start";
    while (missed.length < toIndex + 1 - before.length) {
      const page = (await (
        await fetch(`${url}/api/streams/audit/lines?after=${encodeURIComponent(cursor)}&limit=5000`)
      ).json()) as LinesPage;
      expect(page.lines.length).toBeGreaterThan(0);
      missed.push(...page.lines.map((l) => l.text));
      cursor = page.after as string;
    }
    expect(missed.slice(0, toIndex + 1 - before.length)).toEqual(all.slice(before.length, toIndex + 1));
    expect(slow.closeCode).toBeNull();
  }, 120_000);
});

describe("the old /ws/audit feed", () => {
  it('with slowClients "gap", closes a client that stops reading with 4008, while others get every line', async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await writeLines(file, []);
    const { wsUrl } = track(
      await startServer([{ name: "audit", file }], {
        maxBufferedBytes: 64 * 1024,
        maxFrameBytes: 16 * 1024,
        slowClients: "gap",
      }),
    );
    const { WebSocket } = await import("ws");
    const open = async () => {
      const ws = new WebSocket(`${wsUrl}/ws/audit`);
      const frames: string[] = [];
      let code: number | null = null;
      ws.on("message", (d) => frames.push(d.toString()));
      ws.on("close", (c) => {
        code = c;
      });
      await new Promise<void>((resolve, reject) => {
        ws.once("open", () => resolve());
        ws.once("error", reject);
      });
      track({ close: async () => ws.terminate() });
      await waitFor(() => frames.length >= 1, { message: "initial frame" });
      return { ws, frames, closeCode: () => code };
    };
    const reader = await open();
    const stalled = await open();
    (stalled.ws as unknown as { _socket: Socket })._socket.pause();
    const all: string[] = [];
    for (let i = 0; i < 60; i++) {
      const lines = makeLines(i * 1000, 1000, `old feed ${"y".repeat(60)}`);
      all.push(...lines);
      await appendLines(file, lines);
      if (i % 10 === 9) {
        await waitFor(() => reader.frames.join("").length >= all.join("\n").length, { timeoutMs: 30_000 });
      }
    }
    await waitFor(() => reader.frames.slice(1).join("") === `${all.join("\n")}\n`, { timeoutMs: 30_000 });
    (stalled.ws as unknown as { _socket: Socket })._socket.resume();
    await waitFor(() => stalled.closeCode() !== null, {
      timeoutMs: 30_000,
      message: "stalled client closed",
    });
    expect(stalled.closeCode()).toBe(4008);
    // What it did get before being closed is whole lines, in order, without duplicates.
    const got = stalled.frames.slice(1).join("");
    expect(got.endsWith("\n") || got === "").toBe(true);
    expect(`${all.join("\n")}\n`.startsWith(got)).toBe(true);
  }, 120_000);
});
