import { writeFile } from "node:fs/promises";
import { describe, expect, test } from "vitest";
import { CloseCode } from "../../src/protocol/errors.js";
import type { SearchResult } from "../../src/protocol/messages.js";
import { useClosers } from "../helpers/closer.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { startServer } from "../server/harness.js";
import { request, streamStatus } from "./http-client.js";
import { closeWs, openWs, startSecured, type Upgrade } from "./security-harness.js";

const tempDir = useTempDirs("livetrail-sec-");
const track = useClosers();

const statusOf = (u: Upgrade): number => (u.ok ? 101 : u.status);
const live = (u: Upgrade) => {
  if (!u.ok) throw new Error(`refused: ${u.status}`);
  return u;
};

/** A second, well-behaved client: proves the server still serves others after a limit tripped. */
async function stillServes(wsUrl: string): Promise<void> {
  const other = live(await openWs(`${wsUrl}/ws`));
  other.ws.send(JSON.stringify({ type: "subscribe", stream: "audit", tail: 1 }));
  await waitFor(() => other.messages.some((m) => m.type === "live"), {
    message: "the other client to go live",
  });
  await closeWs(other);
}

/** Opens a WebSocket at `url` as soon as the server accepts one again (a slot was just freed). */
function openWhenFree(url: string) {
  return waitFor(
    async () => {
      const r = await openWs(url);
      return r.ok ? r : null;
    },
    { intervalMs: 50, message: "the freed slot" },
  );
}

describe("rate limits per client address", () => {
  test("HTTP requests beyond the limit get 429 with Retry-After, then the window passes", async () => {
    const s = track(
      await startSecured(await tempDir(), { httpPerMinute: 5, rateWindowMs: 1000, limitLoopback: true }),
    );
    const statuses: number[] = [];
    let limited: Awaited<ReturnType<typeof request>> | null = null;
    for (let i = 0; i < 12; i++) {
      const r = await request(`${s.url}/api/streams`);
      statuses.push(r.status);
      if (r.status === 429) limited = r;
    }
    expect(statuses.slice(0, 5)).toEqual([200, 200, 200, 200, 200]);
    expect(limited, "a 429 among 12 requests").not.toBeNull();
    expect(limited?.json()).toMatchObject({ error: "rate_limited" });
    expect(Number(limited?.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    await waitFor(async () => (await request(`${s.url}/api/streams`)).status === 200, {
      intervalMs: 200,
      message: "the rate limit to recover",
    });
  });

  test("loopback clients are not limited unless asked (a reverse proxy on 127.0.0.1 is many users)", async () => {
    const s = track(await startSecured(await tempDir(), { httpPerMinute: 2, rateWindowMs: 60_000 }));
    for (let i = 0; i < 8; i++) expect((await request(`${s.url}/api/streams`)).status).toBe(200);
  });

  test("WebSocket upgrades beyond the limit get 429, then the window passes", async () => {
    const s = track(
      await startSecured(await tempDir(), { upgradesPerMinute: 2, rateWindowMs: 1000, limitLoopback: true }),
    );
    const results: Upgrade[] = [];
    for (let i = 0; i < 6; i++) results.push(await openWs(`${s.wsUrl}/ws`));
    expect(results.slice(0, 2).map(statusOf)).toEqual([101, 101]);
    expect(results.map(statusOf)).toContain(429);
    for (const r of results) await closeWs(r);
    await waitFor(
      async () => {
        const r = await openWs(`${s.wsUrl}/ws`);
        await closeWs(r);
        return r.ok;
      },
      { intervalMs: 200, message: "upgrades to be allowed again" },
    );
  });
});

describe("connection caps", () => {
  test("per address: the connection over the cap gets 429 (WebSocket and SSE count), closing one frees a slot", async () => {
    const s = track(
      await startSecured(await tempDir(), { maxConnectionsPerAddress: 2, limitLoopback: true }),
    );
    const a = live(await openWs(`${s.wsUrl}/ws`));
    const b = live(await openWs(`${s.wsUrl}/ws/audit`));
    const c = await openWs(`${s.wsUrl}/ws`);
    expect(statusOf(c)).toBe(429);
    expect(!c.ok && c.body).toContain("too_many_connections");
    expect(await streamStatus(`${s.url}/api/streams/audit/events`)).toBe(429);
    expect((await request(`${s.url}/api/streams`)).status).toBe(200); // plain requests are not connections
    await closeWs(a);
    const d = await openWhenFree(`${s.wsUrl}/ws`);
    await closeWs(d);
    await closeWs(b);
  });

  test("in total: the connection over the cap gets 503, loopback included; closing frees it", async () => {
    const s = track(await startSecured(await tempDir(), { maxConnections: 2 }));
    const a = live(await openWs(`${s.wsUrl}/ws`));
    const b = live(await openWs(`${s.wsUrl}/ws`));
    const c = await openWs(`${s.wsUrl}/ws`);
    expect(statusOf(c)).toBe(503);
    expect(!c.ok && c.body).toContain("server_full");
    await closeWs(b);
    const d = await openWhenFree(`${s.wsUrl}/ws`);
    await closeWs(d);
    await closeWs(a);
  });
});

describe("per-socket limits", () => {
  test("a client flooding messages is closed with 4029; others are still served", async () => {
    const s = track(await startSecured(await tempDir(), { messagesPerSecond: 5 }));
    const flood = live(await openWs(`${s.wsUrl}/ws`));
    for (let i = 0; i < 200 && flood.ws.readyState === flood.ws.OPEN; i++) {
      flood.ws.send(JSON.stringify({ type: "ping", t: i }));
    }
    expect((await flood.closed).code).toBe(CloseCode.rateLimited);
    await stillServes(s.wsUrl);
  });

  test("a message over the size limit closes the socket with 1009; others are still served", async () => {
    const s = track(await startSecured(await tempDir(), {}, { maxMessageBytes: 1024 }));
    const big = live(await openWs(`${s.wsUrl}/ws`));
    big.ws.send(JSON.stringify({ type: "ping", pad: "x".repeat(2000) }));
    expect((await big.closed).code).toBe(CloseCode.messageTooBig);
    await stillServes(s.wsUrl);
  });

  test("subscriptions beyond the cap get a too_many_subscriptions error and the socket stays usable", async () => {
    const dir = await tempDir();
    await writeFile(dir.file("a.log"), "[2025-12-17T17:40:37Z] a\n");
    await writeFile(dir.file("b.log"), "[2025-12-17T17:40:37Z] b\n");
    const s = track(
      await startServer(
        [
          { name: "audit", file: dir.file("a.log") },
          { name: "other", file: dir.file("b.log") },
        ],
        { maxSubscriptions: 1 },
      ),
    );
    const c = live(await openWs(`${s.wsUrl}/ws`));
    c.ws.send(JSON.stringify({ type: "subscribe", stream: "audit" }));
    c.ws.send(JSON.stringify({ type: "subscribe", stream: "other", id: "second" }));
    const error = await waitFor(() => c.messages.find((m) => m.type === "error"), {
      message: "an error frame",
    });
    expect(error).toMatchObject({ code: "too_many_subscriptions", id: "second" });
    c.ws.send(JSON.stringify({ type: "ping", t: 7 }));
    await waitFor(() => c.messages.some((m) => m.type === "pong"), { message: "pong" });
    await closeWs(c);
  });
});

describe("search caps", () => {
  test("a search limit above the cap is refused with 400; without a limit the cap applies", async () => {
    const dir = await tempDir();
    const s = track(await startSecured(dir, { maxSearchResults: 3 }));
    const lines = Array.from({ length: 10 }, (_, i) => `[2025-12-17T17:41:0${i}Z] needle ${i}`).join("\n");
    await writeFile(s.file, `${lines}\n`, { flag: "a" });
    const over = await request(`${s.url}/api/streams/audit/search?q=needle&limit=4`);
    expect(over.status).toBe(400);
    expect(over.json()).toMatchObject({ error: "limit_too_large" });
    const capped = await request(`${s.url}/api/streams/audit/search?q=needle`);
    expect(capped.status).toBe(200);
    const result = capped.json<SearchResult>();
    expect(result.matches).toHaveLength(3);
    expect(result.limited).toBe(true);
    expect(
      (await request(`${s.url}/api/streams/audit/search?q=needle&limit=2`)).json<SearchResult>().matches,
    ).toHaveLength(2);
  });
});
