import { request as httpRequest } from "node:http";
import { PassThrough } from "node:stream";
import { describe, expect, test } from "vitest";
import { prettyLine } from "../../src/server/logging/pretty-stream.js";
import { useClosers } from "../helpers/closer.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { request, streamStatus } from "../security/http-client.js";
import { closeWs, openWs, READ, startSecured } from "../security/security-harness.js";

const tempDir = useTempDirs("livetrail-log-");
const track = useClosers();

/** A server logging at `level` into memory; `records()` are the JSON lines so far. */
async function logged(level: string) {
  const out = new PassThrough();
  let text = "";
  out.setEncoding("utf8").on("data", (d: string) => {
    text += d;
  });
  const s = track(
    await startSecured(
      await tempDir(),
      { readTokens: [READ], allowQueryToken: true },
      { logger: { level, stream: out } },
    ),
  );
  const records = () =>
    text
      .split("\n")
      .filter((l) => l !== "")
      .map((l) => JSON.parse(l) as Record<string, unknown>);
  return { s, text: () => text, records };
}

/** An SSE response read until its first event, then dropped by the client. */
function sseFirstEvent(url: string, headers: Record<string, string>): Promise<void> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers, agent: false }, (res) => {
      res.on("data", (chunk: Buffer) => {
        if (chunk.toString().includes("data:")) {
          req.destroy();
          resolve();
        }
      });
    });
    req.on("error", (error) => {
      if (!req.destroyed) reject(error);
    });
    req.end();
  });
}

describe("the server's own log", () => {
  test("at trace, a request with a token in its header, cookie and query leaves none of them in the log", async () => {
    const { s, text, records } = await logged("trace");
    const cookie = "lt_session=cookie-secret-5f1e2d3c4b5a69788796a5b4";
    const headers = { authorization: `Bearer ${READ}`, cookie };
    expect((await request(`${s.url}/api/streams?token=${READ}&x=1`, { headers })).status).toBe(200);
    await sseFirstEvent(`${s.url}/api/streams/audit/events?tail=1&token=${READ}`, headers);
    const ws = await openWs(`${s.wsUrl}/ws?token=${READ}`, { headers });
    if (!ws.ok) throw new Error(`ws refused ${ws.status}`);
    ws.ws.send(JSON.stringify({ type: "subscribe", stream: "audit", tail: 2 }));
    await waitFor(() => ws.messages.some((m) => m.type === "live"), { message: "the catch-up to end" });
    await closeWs(ws);
    expect(await streamStatus(`${s.url}/api/streams?access_token=wrong-token-000000000000`)).toBe(401);
    await waitFor(() => records().filter((r) => r.session !== undefined).length >= 2, {
      message: "both session lines",
    });
    await waitFor(() => records().some((r) => r.status === 401), { message: "the 401 line" });
    const log = text();
    for (const secret of [READ, "cookie-secret-5f1e2d3c4b5a69788796a5b4", "wrong-token-000000000000"]) {
      expect(log).not.toContain(secret);
    }
    expect(log).not.toMatch(/authorization|cookie/i);

    const api = records().find((r) => r.route === "/api/streams" && r.status === 200);
    expect(api).toMatchObject({
      level: 30,
      method: "GET",
      url: "/api/streams?[redacted]",
      remoteAddress: "127.0.0.1",
    });
    expect(api?.bytes).toBeGreaterThan(100);
    expect(typeof api?.ms).toBe("number");
    const refused = records().find((r) => r.status === 401);
    expect(refused).toMatchObject({ level: 40, msg: "request refused", url: "/api/streams?[redacted]" });
    const sse = records().find((r) => r.session === "sse");
    expect(sse).toMatchObject({
      level: 30,
      stream: "audit",
      status: 200,
      url: "/api/streams/audit/events?[redacted]",
    });
    expect(sse?.bytes).toBeGreaterThan(0);
    expect(sse?.lines).toBe(1); // tail=1
    const wsLine = records().find((r) => r.session === "ws");
    expect(wsLine).toMatchObject({
      level: 30,
      route: "/ws",
      status: 101,
      closeCode: 1005, // the client closed without a code
      remoteAddress: "127.0.0.1",
    });
    expect(wsLine?.bytes).toBeGreaterThan(0);
    expect(wsLine).toMatchObject({ streams: ["audit"], lines: 2 });
  });

  test("at warn, ordinary requests are quiet and refusals still show", async () => {
    const { s, records } = await logged("warn");
    expect(
      (await request(`${s.url}/api/streams`, { headers: { authorization: `Bearer ${READ}` } })).status,
    ).toBe(200);
    expect((await request(`${s.url}/api/streams`)).status).toBe(401);
    await waitFor(() => records().length >= 1, { message: "the 401 line" });
    expect(records().map((r) => r.status)).toEqual([401]);
  });

  test("pretty lines carry time, level, message and fields", () => {
    const line = prettyLine(
      JSON.stringify({
        level: 40,
        time: Date.UTC(2026, 0, 2, 3, 4, 5, 678),
        pid: 1,
        msg: "request refused",
        status: 401,
      }),
    );
    expect(line).toBe("03:04:05.678 \x1b[33mWARN \x1b[0m request refused status=401");
    expect(prettyLine("not json")).toBe("not json");
  });
});
