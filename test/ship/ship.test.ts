import { afterEach, describe, expect, it } from "vitest";
import { REGISTRY_KEY } from "../../src/backend/redis/entry.js";
import { killStrays } from "../cli/run-cli.js";
import { freePort } from "../helpers/free-port.js";
import { type RedisServer, startRedis } from "../helpers/redis-server.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import {
  client,
  problemWithLines,
  readStream,
  startAgent,
  streamLength,
  writeLines,
} from "./ship-harness.js";

killStrays();
const tempDir = useTempDirs("livetrail-ship-");
const servers: RedisServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop();
});

async function redis(options: Parameters<typeof startRedis>[0] = {}): Promise<RedisServer> {
  const server = await startRedis(options);
  servers.push(server);
  return server;
}

describe("livetrail ship", () => {
  it("ships 100,000 lines and then live ones exactly once in order, registers the stream, resumes after SIGTERM", async () => {
    const dir = await tempDir();
    const log = dir.file("app.log");
    await writeLines(log, 1, 100_000);
    const server = await redis();
    const reader = client(server.url);
    try {
      let agent = startAgent([`app=${log}`, "--redis", server.url, "--host-label", "web-1"]);
      await waitFor(async () => (await streamLength(reader, "app")) === 100_000, {
        timeoutMs: 60_000,
        message: "100,000 entries",
      });
      await writeLines(log, 100_001, 101_000);
      await waitFor(async () => (await streamLength(reader, "app")) === 101_000, { timeoutMs: 20_000 });
      agent.child.kill("SIGTERM");
      expect(await agent.exited).toEqual({ code: 0, signal: null });
      expect(await reader.hget(REGISTRY_KEY, "app")).toBe("web-1");

      // Lines written while it was stopped are shipped by the next run, after the old ones and not again.
      await writeLines(log, 101_001, 101_500);
      agent = startAgent([`app=${log}`, "--redis", server.url, "--host-label", "web-1"]);
      await waitFor(async () => (await streamLength(reader, "app")) >= 101_500, { timeoutMs: 20_000 });
      await writeLines(log, 101_501, 101_600);
      await waitFor(async () => (await streamLength(reader, "app")) >= 101_600, { timeoutMs: 20_000 });
      agent.child.kill("SIGINT");
      expect(await agent.exited).toEqual({ code: 0, signal: null });

      const records = await readStream(reader, "app");
      expect(problemWithLines(records, 101_600)).toBeNull();
      const first = records[0];
      expect(first?.kind === "line" && first.host).toBe("web-1");
      expect(first?.kind === "line" && first.timeMs).toBe(Date.parse("2026-12-04T19:00:00Z"));
      expect(agent.stderr).toBe("");
    } finally {
      reader.disconnect();
    }
  }, 120_000);

  it("says once on stderr that Redis is unreachable at start, and catches up when it comes up", async () => {
    const dir = await tempDir();
    const log = dir.file("app.log");
    await writeLines(log, 1, 5_000);
    const port = await freePort();
    const agent = startAgent([`app=${log}`, "--redis", `redis://127.0.0.1:${port}`]);
    await waitFor(() => agent.stderr.includes("Redis unreachable"), { timeoutMs: 20_000 });
    expect(agent.stderr).toMatch(
      new RegExp(
        `^livetrail ship: Redis unreachable at redis://127\\.0\\.0\\.1:${port}.*ECONNREFUSED.*retrying\\n$`,
      ),
    );
    // Lines written while Redis is down wait in the file.
    await writeLines(log, 5_001, 6_000);
    const server = await redis({ port });
    const reader = client(server.url);
    try {
      await waitFor(async () => (await streamLength(reader, "app")) === 6_000, { timeoutMs: 30_000 });
      await waitFor(() => agent.stderr.includes("reachable again"), { timeoutMs: 5_000 });
      agent.child.kill("SIGTERM");
      expect(await agent.exited).toEqual({ code: 0, signal: null });
      expect(agent.stderr.match(/unreachable/g)).toHaveLength(1);
      expect(agent.stderr.match(/reachable again/g)).toHaveLength(1);
      expect(problemWithLines(await readStream(reader, "app"), 6_000)).toBeNull();
    } finally {
      reader.disconnect();
    }
  }, 90_000);

  it("refuses bad flags with exit status 2", async () => {
    const { runCli } = await import("../cli/run-cli.js");
    const noRedis = await runCli(["ship", "a.log"]);
    expect(noRedis.code).toBe(2);
    expect(noRedis.stderr).toContain("--redis");
    const both = await runCli([
      "ship",
      "a.log",
      "--redis",
      "redis://127.0.0.1:1",
      "--maxlen",
      "5",
      "--max-age",
      "1d",
    ]);
    expect(both).toMatchObject({
      code: 2,
      stderr: "livetrail: use either --maxlen or --max-age, not both\n",
    });
    const badUrl = await runCli(["ship", "a.log", "--redis", "http://x"]);
    expect(badUrl.code).toBe(2);
    expect(badUrl.stderr).toContain("redis://");
  });
});

describe("livetrail ship: line contents", () => {
  it("ships quotes, backslashes, control characters, non-ASCII and astral characters byte for byte", async () => {
    const { writeFile } = await import("node:fs/promises");
    const dir = await tempDir();
    const log = dir.file("odd.log");
    const texts = [
      'quote " backslash \\ slash / {"json":[1,2]}',
      "controls \u0001\u0007\u001b[31m\t tab \r(CR inside)",
      "non-ASCII: é ü ß 中文 \u2028 \u2029 \u00a0",
      "astral: 😀 𝄞 🏳️‍🌈",
      "",
      "nul \u0000 end",
    ];
    await writeFile(log, `${texts.join("\n")}\n`);
    const server = await redis();
    const reader = client(server.url);
    try {
      const agent = startAgent([`odd=${log}`, "--redis", server.url]);
      await waitFor(async () => (await streamLength(reader, "odd")) === texts.length, { timeoutMs: 20_000 });
      agent.child.kill("SIGTERM");
      expect(await agent.exited).toEqual({ code: 0, signal: null });
      const records = await readStream(reader, "odd");
      expect(records.map((r) => (r.kind === "line" ? r.bytes.toString("hex") : r.kind))).toEqual(
        texts.map((t) => Buffer.from(t, "utf8").toString("hex")),
      );
    } finally {
      reader.disconnect();
    }
  }, 60_000);
});
