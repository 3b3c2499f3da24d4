import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { ServerMessage } from "../../src/protocol/messages.js";
import { StreamStore } from "../../src/web/store.js";
import { type FeedTarget, StreamClient } from "../../src/web/stream-client.js";
import { useClosers } from "../helpers/closer.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { appendLines, makeLines, startServer, writeLines } from "../server/harness.js";

const tempDir = useTempDirs("livetrail-stream-client-");

/** A stream client on a real server, without a page: every stream the hello names gets a store. */
function clientFor(wsUrl: string, tail = 5_000, cap = 1_000) {
  const targets = new Map<string, FeedTarget>();
  const events: string[] = [];
  const news: number[] = [];
  const other: ServerMessage[] = [];
  const client: StreamClient = new StreamClient({
    url: `${wsUrl}/ws`,
    tail,
    createSocket: (url) => new WebSocket(url) as unknown as globalThis.WebSocket,
    minDelayMs: 20,
    maxDelayMs: 200,
    pingIntervalMs: 2_000,
    log: () => {},
    hooks: {
      hello: (streams) => {
        events.push("hello");
        for (const s of streams) {
          if (targets.has(s.name)) continue;
          const t: FeedTarget = {
            name: s.name,
            store: new StreamStore({ cap }),
            live: false,
            missing: false,
          };
          targets.set(s.name, t);
          client.add(t);
        }
      },
      lines: (t, n, isNews) => {
        if (isNews) news.push(n);
        events.push(`lines ${t.name} ${n}`);
      },
      live: (t) => events.push(`live ${t.name}`),
      missing: (t) => events.push(`missing ${t.name}`),
      gap: (t) => events.push(`gap ${t.name}`),
      message: (m) => other.push(m),
      status: () => {},
    },
  });
  const texts = (name: string): string[] => {
    const s = targets.get(name)?.store;
    const out: string[] = [];
    if (s) for (let i = 0; i < s.length; i++) out.push(s.isGap(i) ? "<gap>" : s.text(i));
    return out;
  };
  return { client, targets, events, news, other, texts };
}

describe("StreamClient (no browser: a real server and a ws socket)", () => {
  const track = useClosers();

  it("subscribes with the tail, goes live, takes new lines as news, and resumes exactly once after a server restart", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await writeLines(file, makeLines(0, 30));
    const first = await startServer([{ name: "audit", file }]);
    const port = Number(new URL(first.url).port);
    const c = clientFor(first.wsUrl, 10);
    track(c.client);
    c.client.start();
    await waitFor(() => c.targets.get("audit")?.live, { message: "live on audit" });
    // The tail: the newest 10 lines, and they are not news.
    expect(c.texts("audit")).toEqual(makeLines(20, 10));
    expect(c.news).toEqual([]);

    await appendLines(file, makeLines(30, 5));
    await waitFor(() => c.texts("audit").length === 15, { message: "5 live lines" });
    expect(c.news.reduce((a, b) => a + b, 0)).toBe(5);

    // Down, lines written meanwhile, up again on the same port: the client resumes after its last line.
    await first.close();
    await waitFor(() => !c.targets.get("audit")?.live, { message: "the drop noticed" });
    await appendLines(file, makeLines(35, 7));
    const second = track(await startServer([{ name: "audit", file }], { port }));
    expect(second.url).toBe(first.url);
    await waitFor(() => c.texts("audit").length === 22 && c.targets.get("audit")?.live, {
      message: "the lines written while down",
    });
    expect(c.texts("audit")).toEqual(makeLines(20, 22));
    expect(c.events.filter((e) => e === "hello")).toHaveLength(2);
  });

  it("starts a stream over from its tail when the server cannot read its cursor", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await writeLines(file, makeLines(0, 8));
    const server = track(await startServer([{ name: "audit", file }]));
    const c = clientFor(server.wsUrl, 3);
    // A store that already holds a line and a cursor from elsewhere (another version's format).
    const store = new StreamStore({ cap: 100 });
    store.appendLive([{ seq: 1, text: "stale line", c: "garbage" }]);
    c.targets.set("audit", { name: "audit", store, live: false, missing: false });
    c.client.add(c.targets.get("audit") as FeedTarget);
    track(c.client);
    c.client.start();
    await waitFor(() => c.targets.get("audit")?.live, { message: "live after the restart" });
    expect(c.other.some((m) => m.type === "error" && m.code === "bad_cursor")).toBe(true);
    expect(c.texts("audit")).toEqual(makeLines(5, 3));
  });

  it("says a stream's file is missing, then takes its lines once it appears", async () => {
    const dir = await tempDir();
    const file = dir.file("later.log");
    const server = track(await startServer([{ name: "later", file }]));
    const c = clientFor(server.wsUrl);
    track(c.client);
    c.client.start();
    await waitFor(() => c.targets.get("later")?.missing, { message: "missing" });
    expect(c.events).toContain("missing later");
    await writeLines(file, makeLines(0, 2));
    await appendLines(file, makeLines(2, 2));
    const lines = () => c.texts("later").filter((t) => t !== "<gap>");
    await waitFor(() => lines().length === 4, { message: "the new file's lines" });
    expect(lines()).toEqual(makeLines(0, 4));
    expect(c.targets.get("later")?.missing).toBe(false);
  });

  it("makes a gap row of a server-reported truncation marker", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await writeLines(file, makeLines(0, 4));
    const server = track(await startServer([{ name: "audit", file }]));
    const c = clientFor(server.wsUrl);
    track(c.client);
    c.client.start();
    await waitFor(() => c.targets.get("audit")?.live, { message: "live" });
    await writeLines(file, makeLines(100, 1));
    await waitFor(() => c.texts("audit").includes(makeLines(100, 1)[0] as string), {
      message: "the line after the truncation",
    });
    const s = c.targets.get("audit")?.store as StreamStore;
    const markers = [];
    for (let i = 0; i < s.length; i++) if (s.isGap(i)) markers.push(s.gap(i)?.reason);
    expect(markers).toEqual(["marker-truncated"]);
    expect(c.events).toContain("gap audit");
  });
});
