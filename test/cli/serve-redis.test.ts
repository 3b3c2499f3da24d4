import { describe, expect, it } from "vitest";
import { appendLines } from "../../src/backend/redis/redis-append.js";
import { commandConnection } from "../../src/backend/redis/redis-connection.js";
import { freePort } from "../helpers/free-port.js";
import { startRedis } from "../helpers/redis-server.js";
import { waitFor } from "../helpers/wait-for.js";
import { makeLines, TestClient } from "../server/harness.js";
import { CLI, finished, killStrays, runCli, start } from "./run-cli.js";

killStrays();

describe("livetrail serve --redis", () => {
  it("refuses a URL that is not Redis's and file arguments, with usage errors", async () => {
    const notUrl = await runCli(["serve", "--redis", "localhost:6379", "--port", "0"]);
    expect(notUrl.code).toBe(2);
    expect(notUrl.stderr).toMatch(/--redis needs a redis:\/\/ or rediss:\/\/ URL/);
    const file = await runCli(["serve", "--redis", "redis://127.0.0.1:1", "./audit.log", "--port", "0"]);
    expect(file.code).toBe(2);
    expect(file.stderr).toMatch(/with --redis, give stream names: invalid stream name "\.\/audit\.log"/);
  });

  it("starts with Redis down, says so clearly, serves the streams once Redis answers, stops on SIGTERM", async () => {
    const port = await freePort();
    const child = start(process.execPath, [
      CLI,
      "serve",
      "--redis",
      `redis://127.0.0.1:${port}`,
      "--port",
      "0",
    ]);
    const result = finished(child, 60_000);
    let out = "";
    let err = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr?.on("data", (d: Buffer) => {
      err += d.toString();
    });
    const url = await waitFor(() => /at (http:\/\/\S+)/.exec(out)?.[1], {
      timeoutMs: 20_000,
      message: "url",
    });
    expect(out).toContain(`serving the streams of Redis at redis://127.0.0.1:${port}`);
    await waitFor(() => err.includes("not reachable"), {
      timeoutMs: 20_000,
      message: "the outage on stderr",
    });
    expect(err).toMatch(
      new RegExp(
        `livetrail: Redis at redis://127.0.0.1:${port} is not reachable \\(connect ECONNREFUSED [^)]*\\); streams appear when it answers, retrying`,
      ),
    );
    expect(await (await fetch(`${url}/api/streams`)).json()).toEqual([]);

    const redis = await startRedis({ port });
    const writer = commandConnection(redis.url);
    try {
      await appendLines(writer, "audit", makeLines(0, 3, "a"), "host-a");
      await waitFor(
        async () => ((await (await fetch(`${url}/api/streams`)).json()) as { name: string }[]).length === 1,
        { timeoutMs: 20_000, message: "the stream discovered" },
      );
      expect(err).toMatch(/livetrail: Redis at redis:\/\/127\.0\.0\.1:\d+ answers again/);
      const client = await TestClient.connect(`${url.replace(/^http/, "ws")}/ws`);
      try {
        await client.subscribe("audit", { tail: 10 });
        expect(client.texts("audit")).toEqual(makeLines(0, 3, "a"));
      } finally {
        await client.close();
      }
      child.kill("SIGTERM");
      const { code } = await result;
      expect(code).toBe(0);
    } finally {
      writer.disconnect();
      await redis.stop();
    }
  });
});
