import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import { frameLines } from "../../src/protocol/lines-frame.js";
import type { LinesFrame, ServerMessage } from "../../src/protocol/messages.js";
import { Connection } from "../../src/web/connection.js";
import { useClosers } from "../helpers/closer.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { appendLines, makeLines, startServer, writeLines } from "../server/harness.js";

const track = useClosers();
const tempDir = useTempDirs("livetrail-connection-binary-");

/** Binary messages the dashboard's sockets received. */
let binaryMessages = 0;

function connect(url: string, got: ServerMessage[], logs: string[] = []): Connection {
  const conn = new Connection({
    url,
    onMessage: (m) => {
      got.push(m);
      if (m.type === "hello") conn.send({ type: "subscribe", stream: "audit", tail: 5 });
    },
    createSocket: (u) => {
      const socket = new WebSocket(u);
      socket.on("message", (_data, isBinary) => {
        if (isBinary) binaryMessages++;
      });
      return socket as unknown as globalThis.WebSocket;
    },
    pingIntervalMs: 2_000,
    log: (m) => logs.push(m),
  });
  track(conn);
  conn.start();
  return conn;
}

describe("the dashboard's connection and binary lines frames", () => {
  it("asks a server that offers them for binary frames and hands on the same lines messages JSON gives", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await writeLines(file, [...makeLines(0, 4), "çà et là 😀"]);
    const { wsUrl } = track(await startServer([{ name: "audit", file }]));
    const got: ServerMessage[] = [];
    connect(`${wsUrl}/ws`, got);
    await waitFor(() => got.some((m) => m.type === "live"), { message: "live" });
    await appendLines(file, makeLines(5, 100, "live"));
    const lines = () => got.filter((m): m is LinesFrame => m.type === "lines").flatMap(frameLines);
    await waitFor(() => lines().length === 105, { message: "105 lines" });
    expect(lines().map((l) => l.text)).toEqual([
      ...makeLines(0, 4),
      "çà et là 😀",
      ...makeLines(5, 100, "live"),
    ]);
    expect(binaryMessages).toBe(got.filter((m) => m.type === "lines").length);

    // What a plain `ws` client asking for JSON receives, cursors included.
    const json = new WebSocket(`${wsUrl}/ws`);
    track({ close: () => json.close() });
    const frames: LinesFrame[] = [];
    json.on("message", (data, isBinary) => {
      expect(isBinary).toBe(false);
      const m = JSON.parse(String(data)) as ServerMessage;
      if (m.type === "hello") json.send(JSON.stringify({ type: "subscribe", stream: "audit", tail: 105 }));
      if (m.type === "lines") frames.push(m);
    });
    await waitFor(() => frames.flatMap(frameLines).length === 105, { message: "105 JSON lines" });
    expect(lines()).toEqual(frames.flatMap(frameLines));
  });

  it("a server without binary frames gets plain subscribes; a broken binary frame is logged and skipped", async () => {
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise((resolve) => wss.once("listening", resolve));
    track({ close: () => new Promise<void>((resolve) => wss.close(() => resolve())) });
    const received: unknown[] = [];
    wss.on("connection", (socket) => {
      socket.send(JSON.stringify({ type: "hello", v: 2, server: "old", streams: [], heartbeatMs: 15000 }));
      socket.on("message", (data) => {
        received.push(JSON.parse(String(data)));
        socket.send(Buffer.from([0x4c, 1, 0, 0, 9, 9]), { binary: true });
        socket.send(JSON.stringify({ type: "live", stream: "audit", cursor: null }));
      });
    });
    const got: ServerMessage[] = [];
    const logs: string[] = [];
    connect(`ws://127.0.0.1:${(wss.address() as AddressInfo).port}`, got, logs);
    await waitFor(() => got.some((m) => m.type === "live"), { message: "live after the broken frame" });
    expect(received.find((m) => (m as { type: string }).type === "subscribe")).toEqual({
      type: "subscribe",
      stream: "audit",
      tail: 5,
    });
    expect(logs).toContain("ignored a binary frame: frame of 6 bytes is shorter than its header");
    for (const c of wss.clients) c.terminate();
  });
});
