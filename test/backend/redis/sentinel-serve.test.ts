import { afterEach, describe, expect, it } from "vitest";
import { RedisStreams } from "../../../src/backend/redis/redis-streams.js";
import { killStrays } from "../../cli/run-cli.js";
import { useClosers } from "../../helpers/closer.js";
import {
  type RedisSentinel,
  type RedisServer,
  startRedis,
  startSentinel,
} from "../../helpers/redis-server.js";
import { useTempDirs } from "../../helpers/temp-dir.js";
import { waitFor } from "../../helpers/wait-for.js";
import { startServer, TestClient } from "../../server/harness.js";
import { client, lineOf, startAgent, streamLength, writeLines } from "../../ship/ship-harness.js";

killStrays();
const track = useClosers();
const tempDir = useTempDirs("livetrail-serve-sentinel-");
const servers: RedisServer[] = [];
const sentinels: RedisSentinel[] = [];
afterEach(async () => {
  for (const sentinel of sentinels.splice(0)) await sentinel.stop();
  for (const server of servers.splice(0)) await server.stop();
});

const lines = (from: number, to: number): string[] =>
  Array.from({ length: to - from + 1 }, (_, i) => lineOf(from + i));

describe("serve --redis --sentinel", () => {
  // About 10-20 s here: a primary, a replica and one Sentinel on loopback. The replica is paused (SIGSTOP) while
  // the client receives lines the primary has, then the primary is SIGKILLed: the promoted replica lacks lines
  // the client already has, and the agent ships them again.
  it("the primary SIGKILLed while a client follows a stream being shipped: after the failover it has every line once, in order", async () => {
    const dir = await tempDir();
    const log = dir.file("app.log");
    await writeLines(log, 1, 20_000);
    const primary = await startRedis({ aof: true });
    servers.push(primary);
    const replica = await startRedis({ aof: true, args: ["--replicaof", "127.0.0.1", String(primary.port)] });
    servers.push(replica);
    const watcher = await startSentinel(dir.path, primary.port);
    sentinels.push(watcher);
    const sentinelUrl = `redis://127.0.0.1:${watcher.port}`;
    const sentinel = client(sentinelUrl);
    const onPrimary = client(primary.url);
    const onReplica = client(replica.url);
    let replicaStopped = false;
    try {
      await waitFor(
        async () => ((await sentinel.call("SENTINEL", "REPLICAS", "main")) as unknown[]).length === 1,
        {
          timeoutMs: 20_000,
          message: "the sentinel to see the replica",
        },
      );
      const problems: string[] = [];
      const served = track(
        await startServer([], {
          streamSource: new RedisStreams({
            url: sentinelUrl,
            sentinelName: "main",
            names: ["app"],
            pollMs: 100,
            onProblem: (m) => problems.push(m),
            onRecovered: (m) => problems.push(m),
          }),
        }),
      );
      const follower = track(await TestClient.connect(`${served.wsUrl}/ws`));
      await follower.subscribe("app", { tail: 0 });
      const agent = startAgent([`app=${log}`, "--redis", sentinelUrl, "--sentinel", "main"]);
      await follower.waitForLines(20_000, "app", 20_000);
      await waitFor(async () => (await streamLength(onReplica, "app")) === 20_000, { message: "replicated" });

      // The replica stops reading its primary; 60,000 more lines (~12 MB of replication stream, more than the
      // sockets buffer) reach the client from the primary alone.
      process.kill(replica.pid, "SIGSTOP");
      replicaStopped = true;
      await writeLines(log, 20_001, 80_000);
      await follower.waitForLines(80_000, "app", 30_000);
      onPrimary.disconnect();
      await primary.kill();
      process.kill(replica.pid, "SIGCONT");
      replicaStopped = false;
      await waitFor(
        async () =>
          ((await sentinel.call("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "main")) as string[])[1] ===
          String(replica.port),
        { timeoutMs: 30_000, message: "the failover" },
      );
      const promotedHad = await streamLength(onReplica, "app");
      await writeLines(log, 80_001, 85_000);
      await waitFor(async () => (await streamLength(onReplica, "app")) === 85_000, { timeoutMs: 30_000 });
      await follower.waitForLines(85_000, "app", 20_000);
      agent.child.kill("SIGTERM");
      expect(await agent.exited).toEqual({ code: 0, signal: null });

      // The point of the test: the new primary lacked lines the client had been given.
      expect(promotedHad).toBeLessThan(80_000);
      const texts = follower.texts("app");
      expect(texts.length).toBe(85_000);
      const expected = lines(1, 85_000);
      const wrong = texts.findIndex((t, i) => t !== expected[i]);
      expect(wrong, `first wrong line at index ${wrong}: ${texts[wrong]}`).toBe(-1);
      expect(follower.lines("app").every((l, i) => l.seq === i + 1)).toBe(true);
      // No reset and no gap reached the client, and it stayed connected.
      const kinds = follower.messages.map((m) => m.type);
      expect(kinds.filter((k) => k === "restarted" || k === "gap" || k === "truncated")).toEqual([]);
      expect(follower.closeCode).toBeNull();
      console.log(
        `sentinel-serve: the promoted replica had ${promotedHad} of 80000 entries; server said: ${problems.join(" | ")}`,
      );
    } finally {
      if (replicaStopped) process.kill(replica.pid, "SIGCONT");
      sentinel.disconnect();
      onPrimary.disconnect();
      onReplica.disconnect();
    }
  }, 90_000);
});
