import { afterEach, describe, expect, it } from "vitest";
import { killStrays } from "../cli/run-cli.js";
import { type RedisSentinel, type RedisServer, startRedis, startSentinel } from "../helpers/redis-server.js";
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
const tempDir = useTempDirs("livetrail-ship-sentinel-");
const servers: RedisServer[] = [];
const sentinels: RedisSentinel[] = [];
afterEach(async () => {
  for (const sentinel of sentinels.splice(0)) await sentinel.stop();
  for (const server of servers.splice(0)) await server.stop();
});

describe("livetrail ship through Sentinel", () => {
  // About 10-20 s here: a primary, a replica and one Sentinel on loopback; the primary SIGKILLed mid-ship.
  it("the primary SIGKILLed while shipping: the agent follows the failover and every line is there once", async () => {
    const dir = await tempDir();
    const log = dir.file("app.log");
    await writeLines(log, 1, 50_000);
    const primary = await startRedis({ aof: true });
    servers.push(primary);
    const replica = await startRedis({ aof: true, args: ["--replicaof", "127.0.0.1", String(primary.port)] });
    servers.push(replica);
    const watcher = await startSentinel(dir.path, primary.port);
    sentinels.push(watcher);
    const sentinelPort = watcher.port;
    const sentinelClient = client(`redis://127.0.0.1:${sentinelPort}`);
    try {
      await waitFor(
        async () => ((await sentinelClient.call("SENTINEL", "REPLICAS", "main")) as unknown[]).length === 1,
        { timeoutMs: 20_000, message: "the sentinel to see the replica" },
      );
      const agent = startAgent([
        `app=${log}`,
        "--redis",
        `redis://127.0.0.1:${sentinelPort}`,
        "--sentinel",
        "main",
      ]);
      const onPrimary = client(primary.url);
      await waitFor(async () => (await streamLength(onPrimary, "app")) > 10_000, { timeoutMs: 20_000 });
      onPrimary.disconnect();
      await primary.kill();
      await writeLines(log, 50_001, 60_000);
      await waitFor(
        async () =>
          ((await sentinelClient.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "main")) as string[])[1] ===
          String(replica.port),
        { timeoutMs: 30_000, message: "the failover" },
      );
      const onReplica = client(replica.url);
      try {
        await waitFor(async () => (await streamLength(onReplica, "app")) === 60_000, { timeoutMs: 30_000 });
        agent.child.kill("SIGTERM");
        expect(await agent.exited).toEqual({ code: 0, signal: null });
        expect(problemWithLines(await readStream(onReplica, "app"), 60_000)).toBeNull();
        expect(agent.stderr).toMatch(/Redis (unreachable|refused to append)/);
        expect(agent.stderr).toContain("Redis reachable again");
      } finally {
        onReplica.disconnect();
      }
    } finally {
      sentinelClient.disconnect();
    }
  }, 90_000);
});
