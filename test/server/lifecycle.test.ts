import { mkdir, writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { createServer } from "../../src/server/app.js";
import { CLI, finished, killStrays, start } from "../cli/run-cli.js";
import { useClosers } from "../helpers/closer.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { appendLines, makeLines, startServer, TestClient, writeLines } from "./harness.js";

const track = useClosers();
const tempDir = useTempDirs("livetrail-life-");
killStrays();

describe("health and metrics", () => {
  it("/healthz answers and /metrics counts clients, lines and gaps in Prometheus format", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await writeLines(file, []);
    const { url, wsUrl } = track(await startServer([{ name: "audit", file }]));
    const a = track(await TestClient.connect(`${wsUrl}/ws`));
    const b = track(await TestClient.connect(`${wsUrl}/ws`));
    await a.subscribe("audit");
    await b.subscribe("audit");
    await appendLines(file, makeLines(0, 7));
    await a.waitForLines(7);
    await b.waitForLines(7);

    const health = await fetch(`${url}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({
      status: "ok",
      clients: 2,
      streams: [{ name: "audit", following: true }],
    });

    const res = await fetch(`${url}/metrics`);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    const text = await res.text();
    const value = (series: string) => {
      const line = text.split("\n").find((l) => l.startsWith(`${series} `));
      return line === undefined ? undefined : Number(line.slice(series.length + 1));
    };
    expect(value('livetrail_clients{transport="ws"}')).toBe(2);
    expect(value('livetrail_stream_subscribers{stream="audit"}')).toBe(2);
    expect(value('livetrail_lines_read_total{stream="audit"}')).toBe(7);
    expect(value('livetrail_lines_sent_total{stream="audit"}')).toBe(14);
    expect(value('livetrail_stream_lag_bytes{stream="audit"}')).toBe(0);
    expect(value("livetrail_heartbeat_timeouts_total")).toBe(0);
    expect(value("livetrail_process_resident_memory_bytes")).toBeGreaterThan(0);
    expect(text).toContain("# TYPE livetrail_gaps_total counter");
  });
});

describe("lifecycle", () => {
  it("close() sends 1001 to WebSocket clients, ends SSE streams, and is idempotent", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await writeLines(file, makeLines(0, 3));
    const { server, url, wsUrl } = await startServer([{ name: "audit", file }]);
    const client = await TestClient.connect(`${wsUrl}/ws`);
    await client.subscribe("audit", { tail: 3 });
    const sse = await fetch(`${url}/api/streams/audit/events?tail=1`);
    const reader = sse.body?.getReader();
    expect(reader).toBeDefined();
    const sseDone = (async () => {
      for (;;) {
        const { done } = await (reader as ReadableStreamDefaultReader<Uint8Array>).read();
        if (done) return true;
      }
    })();
    await waitFor(() => server.connections.size === 2, { message: "two connections" });

    const closing = Promise.all([server.close(), server.close()]);
    await closing;
    expect(client.closeCode).toBe(1001);
    expect(await sseDone).toBe(true);
    expect(server.address()).toBeNull();
    await server.close();
    await expect(server.listen()).rejects.toThrow(/closed/);
  });

  it("rejects invalid options with a clear TypeError", () => {
    expect(() => createServer({ streams: [] })).toThrow(/at least one stream/);
    expect(() => createServer({ streams: [{ name: "bad name!", file: "x" }] })).toThrow(
      /invalid stream name/,
    );
    expect(() =>
      createServer({
        streams: [
          { name: "a", file: "x" },
          { name: "a", file: "y" },
        ],
      }),
    ).toThrow(/duplicate/);
    expect(() => createServer({ streams: [{ name: "a", file: "x" }], heartbeatMs: 60_000 })).toThrow(
      /heartbeatMs/,
    );
    expect(() => createServer({ streams: [{ name: "a", file: "x" }], maxBufferedBytes: -1 })).toThrow(
      /maxBufferedBytes/,
    );
  });

  it("serves the built dashboard when present, else says it is not built", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await writeLines(file, []);
    const web = dir.file("web");
    await mkdir(web);
    await writeFile(`${web}/index.html`, "<!doctype html><title>dash</title>");
    const built = track(await startServer([{ name: "audit", file }], { staticDir: web }));
    expect(await (await fetch(`${built.url}/`)).text()).toContain("<title>dash</title>");
    const bare = track(await startServer([{ name: "audit", file }], { staticDir: `${web}-missing` }));
    const page = await fetch(`${bare.url}/`);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain("dashboard is not built");
  });
});

describe("livetrail serve", () => {
  it("serves FILE, answers, and stops gracefully on SIGTERM with exit status 0", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await writeLines(file, makeLines(0, 2));
    const child = start(process.execPath, [CLI, "serve", `audit=${file}`, "--port", "0"]);
    const result = finished(child, 30_000);
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const url = await waitFor(() => /at (http:\/\/\S+)/.exec(out)?.[1], {
      timeoutMs: 20_000,
      message: "url",
    });
    const streams = (await (await fetch(`${url}/api/streams`)).json()) as { name: string }[];
    expect(streams.map((s) => s.name)).toEqual(["audit"]);
    child.kill("SIGTERM");
    const { code, stderr } = await result;
    expect(stderr).toContain("SIGTERM: shutting down");
    expect(code).toBe(0);
  });

  it("refuses bad usage with status 2", async () => {
    const child = start(process.execPath, [CLI, "serve", "--port", "http"]);
    const { code, stderr } = await finished(child);
    expect(code).toBe(2);
    expect(stderr).toContain("--port");
  });
});

describe("heartbeat", () => {
  it("drops a client that stops answering pings and keeps one that answers", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await writeLines(file, []);
    const { server, url, wsUrl } = track(await startServer([{ name: "audit", file }], { heartbeatMs: 1000 }));
    const { WebSocket } = await import("ws");
    const mute = new WebSocket(`${wsUrl}/ws`, { autoPong: false });
    let muteCode: number | null = null;
    mute.on("close", (code) => {
      muteCode = code;
    });
    track({ close: async () => mute.terminate() });
    const healthy = track(await TestClient.connect(`${wsUrl}/ws`));
    await waitFor(() => muteCode !== null, { message: "the mute client to be dropped" });
    expect(muteCode).toBe(1006);
    // The answering client is still connected several intervals later (generous interval: a loaded machine
    // must not make a healthy client miss a pong).
    let pings = 0;
    healthy.ws.on("ping", () => pings++);
    await waitFor(() => pings >= 3, { message: "three more pings" });
    expect(healthy.closeCode).toBeNull();
    expect(server.connections.size).toBe(1);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toContain("livetrail_heartbeat_timeouts_total 1");
  });
});

describe("livetrail serve --config", () => {
  it("reads streams (relative to the config file) and settings from JSON; flags win", async () => {
    const dir = await tempDir();
    await mkdir(dir.file("logs"));
    await writeLines(dir.file("logs/a.log"), ["alpha"]);
    await writeLines(dir.file("logs/b.log"), ["beta"]);
    await writeFile(
      dir.file("livetrail.json"),
      JSON.stringify({ streams: { first: "logs/a.log", second: "logs/b.log" }, port: 1, windowLines: 50 }),
    );
    const child = start(process.execPath, [
      CLI,
      "serve",
      "--config",
      dir.file("livetrail.json"),
      "--port",
      "0",
    ]);
    const result = finished(child, 30_000);
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const url = await waitFor(() => /at (http:\/\/\S+)/.exec(out)?.[1], {
      timeoutMs: 20_000,
      message: "url",
    });
    const streams = (await (await fetch(`${url}/api/streams`)).json()) as {
      name: string;
      default: boolean;
    }[];
    expect(streams.map((s) => [s.name, s.default])).toEqual([
      ["first", true],
      ["second", false],
    ]);
    const page = (await (await fetch(`${url}/api/streams/second/lines`)).json()) as {
      lines: { text: string }[];
    };
    expect(page.lines.map((l) => l.text)).toEqual(["beta"]);
    child.kill("SIGINT");
    expect((await result).code).toBe(0);
  });

  it("rejects an unknown setting with status 2", async () => {
    const dir = await tempDir();
    await writeFile(dir.file("bad.json"), JSON.stringify({ prot: 80 }));
    const { code, stderr } = await finished(
      start(process.execPath, [CLI, "serve", "--config", dir.file("bad.json")]),
    );
    expect(code).toBe(2);
    expect(stderr).toContain('unknown setting "prot"');
  });
});
