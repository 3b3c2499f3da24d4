import { Cluster } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { decodeEntry, REGISTRY_KEY, type StreamRecord, streamKey } from "../../src/backend/redis/entry.js";
import { killStrays } from "../cli/run-cli.js";
import { type RedisServer, startCluster } from "../helpers/redis-server.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { problemWithLines, startAgent, writeLines } from "./ship-harness.js";

killStrays();
const tempDir = useTempDirs("livetrail-ship-cluster-");
const servers: RedisServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop();
});

async function readAll(cluster: Cluster, name: string): Promise<StreamRecord[]> {
  const raw = (await cluster.xrangeBuffer(streamKey(name), "-", "+")) as [Buffer, Buffer[]][];
  return raw.map(([id, fields]) => decodeEntry(id, fields));
}

describe("livetrail ship to a Redis Cluster", () => {
  // About 10 s here: three primaries on loopback (no replicas), slots assigned by redis-cli, stopped by PID.
  it("ships two logs to a 3-primary cluster: each stream in its own slot, every line once, in order", async () => {
    servers.push(...(await startCluster(3)));
    const seed = servers[0] as RedisServer;
    const cluster = new Cluster([{ host: "127.0.0.1", port: seed.port }]);
    try {
      const dir = await tempDir();
      const names = ["audit", "payments"];
      for (const name of names) await writeLines(dir.file(`${name}.log`), 1, 20_000);
      const slots = await Promise.all(names.map((n) => cluster.cluster("KEYSLOT", streamKey(n))));
      expect(new Set(slots).size).toBe(2);
      const agent = startAgent([
        ...names.map((n) => `${n}=${dir.file(`${n}.log`)}`),
        "--redis",
        seed.url,
        "--cluster",
        "--host-label",
        "node-a",
      ]);
      for (const name of names) {
        await waitFor(async () => (await cluster.xlen(streamKey(name))) === 20_000, { timeoutMs: 30_000 });
      }
      await writeLines(dir.file("audit.log"), 20_001, 20_100);
      await waitFor(async () => (await cluster.xlen(streamKey("audit"))) === 20_100, { timeoutMs: 10_000 });
      agent.child.kill("SIGTERM");
      expect(await agent.exited).toEqual({ code: 0, signal: null });
      expect(problemWithLines(await readAll(cluster, "audit"), 20_100)).toBeNull();
      expect(problemWithLines(await readAll(cluster, "payments"), 20_000)).toBeNull();
      expect(await cluster.hgetall(REGISTRY_KEY)).toEqual({ audit: "node-a", payments: "node-a" });
      expect(agent.stderr).toBe("");
    } finally {
      cluster.disconnect();
    }
  }, 60_000);
});
