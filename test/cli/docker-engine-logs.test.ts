import type { ServerResponse } from "node:http";
import { describe, expect, it } from "vitest";
import { parseDockerTime, sinceParam } from "../../src/backend/docker/engine-logs-stamps.js";
import type { StreamInfo } from "../../src/protocol/messages.js";
import { makeContainer } from "../backend/docker/docker-dir.js";
import { EngineLogsStandIn, frame, stamp } from "../backend/docker/engine-logs-stand-in.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { TestClient } from "../server/harness.js";
import { CLI, finished, killStrays, start } from "./run-cli.js";

killStrays();
const tempDir = useTempDirs("livetrail-docker-engine-logs-");

const T1 = stamp(1, 1);
const T2 = stamp(2, 2);
const T3 = stamp(3, 3);
const T4 = stamp(4, 4);

/**
 * `serve --docker` with containers on other log drivers, read through a STAND-IN Engine API v1.43 on a Unix socket
 * (engine-logs-stand-in.ts; no real engine can run containers here), followed by a real WebSocket client.
 */
describe("livetrail serve --docker: other log drivers through the Engine API", () => {
  it("serves a local-driver container's log stream live, resumes after its restart with no line twice, notes a refused driver", async () => {
    const dir = await tempDir();
    const app = await makeContainer(dir.path, { name: "app", driver: "local" });
    const sys = await makeContainer(dir.path, { name: "sys", driver: "syslog" });
    let live: ServerResponse | null = null;
    const standIn = new EngineLogsStandIn(
      dir.file("docker.sock"),
      [
        { id: app.id, name: "app", driver: "local", tty: false },
        { id: sys.id, name: "sys", driver: "syslog", tty: false },
      ],
      (_q, res, n) => {
        if (n === 1 || live === null) {
          live = res;
          res.write(Buffer.concat([frame(1, `${T1} hello\n`), frame(2, `${T2} warn\n`)]));
        } else {
          // After the restart: the daemon resends the line at `since`, then the new one.
          res.write(Buffer.concat([frame(1, `${T3} live\n`), frame(1, `${T4} after restart\n`)]));
        }
      },
    );
    await standIn.start();
    const child = start(process.execPath, [
      CLI,
      "serve",
      "--docker",
      "--docker-root",
      dir.path,
      "--docker-host",
      `unix://${standIn.socketPath}`,
      "--port",
      "0",
    ]);
    const result = finished(child, 60_000);
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const clients: TestClient[] = [];
    try {
      const url = await waitFor(() => /at (http:\/\/\S+)/.exec(out)?.[1], {
        timeoutMs: 20_000,
        message: "url",
      });
      const wsUrl = `${url.replace(/^http/, "ws")}/ws`;
      const client = await TestClient.connect(wsUrl);
      clients.push(client);
      await client.subscribe("app", { tail: 100 });
      await client.waitForText("warn");
      expect(client.lines("app").map((l) => [l.text, l.ch ?? "stdout", l.ts])).toEqual([
        ["hello", "stdout", T1],
        ["warn", "stderr", T2],
      ]);
      const stream = live as ServerResponse | null;
      if (stream === null) throw new Error("no log stream was opened");
      stream.end(frame(1, `${T3} live\n`));
      await client.waitForText("after restart", { timeoutMs: 20_000 });
      expect(client.texts("app")).toEqual(["hello", "warn", "live", "after restart"]);
      const appRequests = standIn.logRequests.filter((q) => q.get("since") !== null);
      expect(appRequests[0]?.get("since")).toBe(sinceParam(parseDockerTime(T3)?.ns as bigint));

      await waitFor(() => standIn.requests.some((r) => r.startsWith(`/v1.43/containers/${sys.id}/logs`)), {
        message: "the syslog container's logs request",
      });
      const again = await TestClient.connect(wsUrl);
      clients.push(again);
      const hello = again.messages[0] as { streams: StreamInfo[] };
      const byName = new Map(hello.streams.map((s) => [s.name, s]));
      expect(byName.get("app")?.source).toEqual({
        kind: "container",
        state: "running",
        note: "read through the Engine API (log driver local): history is the last 10000 lines",
      });
      expect(byName.get("sys")?.source?.note).toBe(
        "the Engine API refuses this container's logs (log driver syslog): configured logging driver does not support reading",
      );
    } finally {
      for (const c of clients) await c.close();
      child.kill("SIGTERM");
      await standIn.stop();
    }
    expect((await result).code).toBe(0);
  });
});
