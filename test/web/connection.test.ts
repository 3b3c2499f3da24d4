import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import WebSocket, { WebSocketServer } from "ws";
import type { ServerMessage } from "../../src/protocol/messages.js";
import { backoffDelay, Connection, type ConnectionState } from "../../src/web/connection.js";
import { useClosers } from "../helpers/closer.js";
import { waitFor } from "../helpers/wait-for.js";

/** A real `ws` server that says hello and answers pings, as the protocol does. */
async function helloServer(
  port = 0,
): Promise<{ wss: WebSocketServer; port: number; close(): Promise<void> }> {
  const wss = new WebSocketServer({ host: "127.0.0.1", port });
  await new Promise((resolve) => wss.once("listening", resolve));
  wss.on("connection", (socket) => {
    socket.send(JSON.stringify({ type: "hello", v: 1, server: "test", streams: [], heartbeatMs: 15000 }));
    socket.on("message", (data) => {
      const msg = JSON.parse(String(data)) as { type: string; t?: number };
      if (msg.type === "ping") socket.send(JSON.stringify({ type: "pong", t: msg.t }));
    });
  });
  return {
    wss,
    port: (wss.address() as AddressInfo).port,
    close: () =>
      new Promise((resolve) => {
        for (const c of wss.clients) c.terminate();
        wss.close(() => resolve());
      }),
  };
}

describe("Connection", () => {
  const track = useClosers();

  it("connects, gets hello, measures round trip with pings, and closes idempotently", async () => {
    const server = track(await helloServer());
    const got: ServerMessage[] = [];
    const logs: string[] = [];
    const conn = new Connection({
      url: `ws://127.0.0.1:${server.port}`,
      onMessage: (m) => got.push(m),
      createSocket: (url) => new WebSocket(url) as unknown as globalThis.WebSocket,
      // Long enough that a busy machine never mistakes this live socket for a dead one (3 silent intervals).
      pingIntervalMs: 2_000,
      log: (m) => logs.push(m),
    });
    track(conn);
    conn.start();
    await waitFor(() => got.some((m) => m.type === "hello"));
    await waitFor(() => conn.status.rttMs !== null, { message: "a pong" });
    expect(conn.status.state).toBe("open");
    expect(conn.status.server).toBe("test");
    expect(logs.some((l) => l.startsWith("connected"))).toBe(true);
    conn.close();
    conn.close();
    expect(conn.status.state).toBe("closed");
  });

  it("computes backoff as a doubling step, capped, jittered between half and all of it", () => {
    expect([0, 1, 2, 3].map((a) => backoffDelay(a, 500, 30_000, 1))).toEqual([500, 1000, 2000, 4000]);
    expect(backoffDelay(3, 500, 30_000, 0)).toBe(2000);
    expect(backoffDelay(20, 500, 30_000, 1)).toBe(30_000);
    expect(backoffDelay(20, 500, 30_000, 0.5)).toBe(22_500);
  });

  it("reconnects with growing delays and reports the countdown", async () => {
    const first = await helloServer();
    const port = first.port;
    const states: ConnectionState[] = [];
    const delays: number[] = [];
    const conn = new Connection({
      url: `ws://127.0.0.1:${port}`,
      onMessage: () => {},
      onStatus: (s) => {
        states.push(s.state);
        if (s.state === "reconnecting" && s.retryAt !== null) delays.push(s.retryAt - Date.now());
      },
      createSocket: (url) => new WebSocket(url) as unknown as globalThis.WebSocket,
      minDelayMs: 20,
      maxDelayMs: 200,
      random: () => 1, // no jitter: the delay is the full exponential step
      log: () => {},
    });
    track(conn);
    conn.start();
    await waitFor(() => conn.status.state === "open");
    await first.close();
    // Nothing listens now: each failed attempt doubles the wait, up to the maximum.
    await waitFor(() => conn.status.attempt >= 5, { message: "five failed attempts" });
    expect(delays.length).toBeGreaterThanOrEqual(5);
    for (let k = 1; k < 4; k++) expect(delays[k] as number).toBeGreaterThan((delays[k - 1] as number) * 1.5);
    expect(Math.max(...delays)).toBeLessThanOrEqual(200);
    const again = track(await helloServer(port));
    expect(again.port).toBe(port);
    await waitFor(() => conn.status.state === "open", { message: "reconnection" });
    expect(conn.status.attempt).toBe(0);
    expect(states).toContain("reconnecting");
  });

  it("drops a connection whose server stops answering", async () => {
    const wss = new WebSocketServer({ host: "127.0.0.1", port: 0 });
    await new Promise((resolve) => wss.once("listening", resolve));
    track({ close: () => new Promise<void>((r) => wss.close(() => r())) });
    let connections = 0;
    wss.on("connection", (s) => {
      connections++;
      track({ close: () => s.terminate() });
    }); // accepts, then never says anything
    const logs: string[] = [];
    const conn = track(
      new Connection({
        url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
        onMessage: () => {},
        createSocket: (url) => new WebSocket(url) as unknown as globalThis.WebSocket,
        pingIntervalMs: 30,
        minDelayMs: 10,
        log: (m) => logs.push(m),
      }),
    );
    conn.start();
    await waitFor(() => logs.some((l) => l.includes("no answer to heartbeats")));
    await waitFor(() => connections >= 2, { message: "a new connection after the dead one" });
  });

  it("delivers each line once after the browser goes offline and online again", async () => {
    // The module listens for offline/online on `window`; in Node a plain EventTarget stands in for it.
    const g = globalThis as { window?: EventTarget };
    const hadWindow = "window" in g;
    const savedWindow = g.window;
    const fakeWindow = new EventTarget();
    g.window = fakeWindow;
    track({
      close: () => {
        if (hadWindow) g.window = savedWindow;
        else delete g.window;
      },
    });
    // Each socket subscribes on hello (as the app does); the server sends lines to every subscribed socket.
    const server = track(await helloServer());
    const subscribed = new Set<WebSocket>();
    server.wss.on("connection", (socket) => {
      socket.on("message", (data) => {
        if ((JSON.parse(String(data)) as { type: string }).type === "subscribe") subscribed.add(socket);
      });
    });
    let hellos = 0;
    const seqs: number[] = [];
    const conn: Connection = track(
      new Connection({
        url: `ws://127.0.0.1:${server.port}`,
        onMessage: (m) => {
          if (m.type === "hello") {
            hellos++;
            conn.send({ type: "subscribe", stream: "audit", tail: 10 });
          } else if (m.type === "lines") seqs.push(...m.text.map((_, i) => m.seq + i));
        },
        createSocket: (url) => new WebSocket(url) as unknown as globalThis.WebSocket,
        pingIntervalMs: 2_000,
        log: () => {},
      }),
    );
    conn.start();
    await waitFor(() => subscribed.size === 1, { message: "the first subscription" });

    fakeWindow.dispatchEvent(new Event("offline"));
    fakeWindow.dispatchEvent(new Event("online"));
    // Whatever the connection did about it, wait until it is open and every hello it got has subscribed.
    await waitFor(() => conn.status.state === "open" && subscribed.size === hellos, {
      message: "the connection settled after offline/online",
    });

    // One batch on every socket the server has open. A socket the client dropped never delivers its copy, so
    // wait for a copy from each socket that is still open (a dropped one leaves the count as it closes).
    const open = [...subscribed].filter((s) => s.readyState === WebSocket.OPEN);
    const batch = { type: "lines", stream: "audit", seq: 1, cursor: "1.0123456789ab.0.r.3" };
    for (const s of open) {
      s.send(JSON.stringify({ ...batch, text: ["line 1", "line 2", "line 3"], sizes: [7, 7, 7] }));
    }
    await waitFor(() => seqs.length >= 3 * open.filter((s) => s.readyState === WebSocket.OPEN).length, {
      message: "a copy of the batch from every open socket",
    });
    expect(seqs).toEqual([1, 2, 3]);
  });
});
