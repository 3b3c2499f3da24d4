import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appendLines } from "../../../src/backend/redis/redis-append.js";
import { commandConnection } from "../../../src/backend/redis/redis-connection.js";
import { RedisStreams } from "../../../src/backend/redis/redis-streams.js";
import { useClosers } from "../../helpers/closer.js";
import { freePort } from "../../helpers/free-port.js";
import { type RedisServer, startRedis } from "../../helpers/redis-server.js";
import { waitFor } from "../../helpers/wait-for.js";
import { makeLines, startServer, TestClient } from "../../server/harness.js";

const track = useClosers();
let redis: RedisServer;
let writer: Redis;
beforeAll(async () => {
  redis = await startRedis();
  writer = commandConnection(redis.url);
});
afterAll(async () => {
  writer.disconnect();
  await redis.stop();
});

let streams = 0;
const uniqueName = () => `audit-${++streams}`;

/** A replica: a real server serving the streams of the test's Redis. */
async function replica(url = redis.url, problems: string[] = [], windowLines = 5000) {
  const source = new RedisStreams({
    url,
    pollMs: 100,
    onProblem: (m) => problems.push(m),
    onRecovered: (m) => problems.push(m),
  });
  return track(await startServer([], { streamSource: source, windowLines }));
}

async function streamListed(url: string, name: string, token?: string): Promise<void> {
  const headers: Record<string, string> = token === undefined ? {} : { authorization: `Bearer ${token}` };
  await waitFor(
    async () => {
      const body = (await (await fetch(`${url}/api/streams`, { headers })).json()) as { name: string }[];
      return body.some((s) => s.name === name);
    },
    { message: `stream ${name} discovered` },
  );
}

describe("serve --redis: replicas on one Redis", () => {
  it("two replicas discover a stream as it appears and deliver the same sequence, cursors included", async () => {
    const name = uniqueName();
    const [a, b] = [await replica(), await replica()];
    await appendLines(writer, name, makeLines(0, 10, "early"), "host-1");
    await Promise.all([streamListed(a.url, name), streamListed(b.url, name)]);
    const ca = track(await TestClient.connect(`${a.wsUrl}/ws`));
    const cb = track(await TestClient.connect(`${b.wsUrl}/ws`));
    await ca.subscribe(name, { tail: 10 });
    await cb.subscribe(name, { tail: 10 });
    for (let i = 0; i < 20; i++) await appendLines(writer, name, makeLines(i * 50, 50, "burst"), "host-1");
    await ca.waitForLines(1010, name);
    await cb.waitForLines(1010, name);
    const seqA = ca.lines(name).map((l) => [l.seq, l.text, l.c]);
    const seqB = cb.lines(name).map((l) => [l.seq, l.text, l.c]);
    expect(seqA).toEqual(seqB);
    expect(seqA.map((l) => l[1])).toEqual([
      ...makeLines(0, 10, "early"),
      ...Array.from({ length: 20 }, (_, i) => makeLines(i * 50, 50, "burst")).flat(),
    ]);
    expect(seqA.map((l) => l[0])).toEqual(Array.from({ length: 1010 }, (_, i) => i + 1));
  });

  for (const windowLines of [5000, 10]) {
    it(`a client moving to another replica with its last cursor sees no gap and no duplicate (window ${windowLines})`, async () => {
      const name = uniqueName();
      const a = await replica(redis.url, [], windowLines);
      const b = await replica(redis.url, [], windowLines);
      await appendLines(writer, name, makeLines(0, 5, "old"), "h");
      await Promise.all([streamListed(a.url, name), streamListed(b.url, name)]);
      const first = track(await TestClient.connect(`${a.wsUrl}/ws`));
      await first.subscribe(name, { tail: 0 });
      const batch1 = makeLines(0, 300, "a");
      await appendLines(writer, name, batch1, "h");
      await first.waitForLines(300, name);
      const resumeAt = first.lines(name)[199];
      await first.close();
      const batch2 = makeLines(0, 400, "b");
      await appendLines(writer, name, batch2, "h");

      const second = track(await TestClient.connect(`${b.wsUrl}/ws`));
      await second.subscribe(name, { since: resumeAt?.c as string });
      const batch3 = makeLines(0, 5, "c");
      await appendLines(writer, name, batch3, "h");
      await second.waitForText(batch3[4] as string);
      expect(second.texts(name)).toEqual([...batch1.slice(200), ...batch2, ...batch3]);
      expect(second.messages.some((m) => m.type === "gap")).toBe(false);
      // The cursors of the same lines are the same on both replicas.
      expect(second.lines(name)[0]?.c).toBe(first.lines(name)[200]?.c);
    });
  }

  it("an SSE client reconnecting to another replica with Last-Event-ID gets exactly the lines after it", async () => {
    const name = uniqueName();
    const [a, b] = [await replica(), await replica()];
    await appendLines(writer, name, makeLines(0, 5, "old"), "h");
    await Promise.all([streamListed(a.url, name), streamListed(b.url, name)]);
    const first = await sse(`${a.url}/api/streams/${name}/events`);
    const batch1 = makeLines(0, 100, "a");
    await appendLines(writer, name, batch1, "h");
    await waitFor(() => first.events.length >= 100, { message: "100 events on replica a" });
    first.close();
    const lastId = first.events[99]?.id as string;
    const batch2 = makeLines(0, 50, "b");
    await appendLines(writer, name, batch2, "h");
    const second = await sse(`${b.url}/api/streams/${name}/events`, { "last-event-id": lastId });
    try {
      await waitFor(() => second.events.length >= 50, { message: "50 events on replica b" });
      await appendLines(writer, name, ["[2025-12-17T17:41:00Z] end"], "h");
      await waitFor(() => second.events.some((e) => e.text === "[2025-12-17T17:41:00Z] end"), {
        message: "end",
      });
      expect(second.events.map((e) => e.text)).toEqual([...batch2, "[2025-12-17T17:41:00Z] end"]);
    } finally {
      second.close();
    }
  });

  it("an append through the HTTP API goes to Redis and reaches the other replica", async () => {
    const name = uniqueName();
    await appendLines(writer, name, ["[2025-12-17T17:40:00Z] seed"], "h");
    const sourceA = new RedisStreams({ url: redis.url, pollMs: 100 });
    const a = track(
      await startServer([], { streamSource: sourceA, security: { writeTokens: ["w".repeat(32)] } }),
    );
    const b = await replica();
    await Promise.all([streamListed(a.url, name, "w".repeat(32)), streamListed(b.url, name)]);
    const client = track(await TestClient.connect(`${b.wsUrl}/ws`));
    await client.subscribe(name, { tail: 1 });
    const response = await fetch(`${a.url}/api/streams/${name}/entries`, {
      method: "POST",
      headers: { authorization: `Bearer ${"w".repeat(32)}`, "content-type": "application/json" },
      body: JSON.stringify({
        entries: [{ message: "appended one", level: "ok" }, { message: "two\nlines" }],
      }),
    });
    expect(response.status).toBe(201);
    expect(await response.json()).toMatchObject({ stream: name, entries: 2 });
    await client.waitForLines(3, name);
    const texts = client.texts(name);
    expect(texts[1]).toMatch(/^\[\d{4}-\d\d-\d\dT[\d:.]+Z\] OK: appended one$/);
    expect(texts[2]).toMatch(/\] two\\nlines$/);
    expect(client.lines(name).map((l) => l.seq)).toEqual([1, 2, 3]);
  });
});

describe("serve --redis: Redis restarted while clients are live", () => {
  it("a WebSocket client stays connected and gets every line once; HTTP reads answer 503 meanwhile", async () => {
    const own = await startRedis({ aof: true });
    let current = own;
    const ownWriter = commandConnection(own.url);
    try {
      const name = uniqueName();
      await appendLines(ownWriter, name, makeLines(0, 5, "before"), "h");
      const server = await replica(own.url);
      // A second replica that takes appends (a write token makes every request need one).
      const token = "w".repeat(32);
      const writable = track(
        await startServer([], {
          streamSource: new RedisStreams({ url: own.url, pollMs: 100 }),
          security: { writeTokens: [token] },
        }),
      );
      await Promise.all([streamListed(server.url, name), streamListed(writable.url, name, token)]);
      const client = track(await TestClient.connect(`${server.wsUrl}/ws`));
      await client.subscribe(name, { tail: 5 });
      await current.stop({ keepDir: true });
      // Reads that need Redis say so with a 503 (the list of streams too), not a 500.
      for (const path of [
        `/api/streams/${name}/lines?limit=5`,
        "/api/streams",
        `/api/streams/${name}/search?q=x`,
      ]) {
        const during = await fetch(`${server.url}${path}`);
        expect(during.status, path).toBe(503);
        expect(await during.json()).toMatchObject({
          error: "source_unavailable",
          message: expect.stringMatching(/^Redis is not reachable \(/),
        });
      }
      const append = await fetch(`${writable.url}/api/streams/${name}/entries`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ message: "while down" }),
      });
      expect(append.status).toBe(503);
      expect(await append.json()).toMatchObject({ error: "source_unavailable", message: /^not written: / });
      current = await startRedis({ aof: true, port: own.port, dir: own.dir });
      await waitFor(async () => (await ownWriter.ping().catch(() => null)) === "PONG", {
        message: "writer back",
      });
      const after = makeLines(0, 20, "after");
      await appendLines(ownWriter, name, after, "h");
      await client.waitForText(after[19] as string);
      expect(client.texts(name)).toEqual([...makeLines(0, 5, "before"), ...after]);
      expect(client.messages.some((m) => m.type === "gap" || m.type === "restarted")).toBe(false);
      expect(client.closeCode).toBeNull();
    } finally {
      ownWriter.disconnect();
      await current.stop();
    }
  });
});

describe("serve --redis: Redis down at server start", () => {
  it("the server starts, says clearly that Redis is unreachable, and serves the streams once it answers", async () => {
    const port = await freePort();
    const problems: string[] = [];
    const server = await replica(`redis://127.0.0.1:${port}`, problems);
    await waitFor(() => problems.length > 0, { message: "a problem reported" });
    expect(problems[0]).toMatch(
      new RegExp(
        `Redis at redis://127.0.0.1:${port} is not reachable \\(.*ECONNREFUSED.*\\); streams appear when it answers`,
      ),
    );
    expect(await (await fetch(`${server.url}/api/streams`)).json()).toEqual([]);
    expect((await fetch(`${server.url}/api/audit`)).status).toBe(404);

    const late = await startRedis({ port });
    const lateWriter = commandConnection(late.url);
    try {
      await appendLines(lateWriter, "late", makeLines(0, 3, "late"), "h");
      await streamListed(server.url, "late");
      expect(problems.at(-1)).toMatch(/answers again/);
      const client = track(await TestClient.connect(`${server.wsUrl}/ws`));
      await client.subscribe("late", { tail: 10 });
      await appendLines(lateWriter, "late", ["[2025-12-17T17:41:00Z] live"], "h");
      await client.waitForText("[2025-12-17T17:41:00Z] live");
      expect(client.texts("late")).toEqual([...makeLines(0, 3, "late"), "[2025-12-17T17:41:00Z] live"]);
      expect(await (await fetch(`${server.url}/api/audit`)).text()).toBe(
        `${client.texts("late").join("\n")}\n`,
      );
    } finally {
      await server.close();
      lateWriter.disconnect();
      await late.stop();
    }
  });
});

/** A minimal SSE reader over fetch: the `id` and the line text of each data event. */
async function sse(url: string, headers: Record<string, string> = {}) {
  const controller = new AbortController();
  const response = await fetch(url, {
    headers: { accept: "text/event-stream", ...headers },
    signal: controller.signal,
  });
  const events: { id?: string; text: string }[] = [];
  const reader = (response.body as ReadableStream<Uint8Array>).getReader();
  const decoder = new TextDecoder();
  let buffer = "";
  void (async () => {
    for (;;) {
      const { done, value } = await reader.read().catch(() => ({ done: true, value: undefined }));
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      for (let end = buffer.indexOf("\n\n"); end >= 0; end = buffer.indexOf("\n\n")) {
        const block = buffer.slice(0, end);
        buffer = buffer.slice(end + 2);
        let id: string | undefined;
        let data: string | undefined;
        for (const line of block.split("\n")) {
          if (line.startsWith("id: ")) id = line.slice(4);
          else if (line.startsWith("data: ")) data = line.slice(6);
        }
        const parsed = data === undefined ? null : (JSON.parse(data) as { text?: string });
        if (parsed?.text !== undefined)
          events.push({ ...(id === undefined ? {} : { id }), text: parsed.text });
      }
    }
  })();
  return { events, close: () => controller.abort() };
}
