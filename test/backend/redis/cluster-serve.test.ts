import { Cluster } from "ioredis";
import { afterEach, describe, expect, it } from "vitest";
import { REGISTRY_KEY, streamKey } from "../../../src/backend/redis/entry.js";
import { RedisStreams } from "../../../src/backend/redis/redis-streams.js";
import type { LinesPage } from "../../../src/protocol/messages.js";
import { CLI, finished, killStrays, runCli, start } from "../../cli/run-cli.js";
import { useClosers } from "../../helpers/closer.js";
import { type RedisServer, startCluster } from "../../helpers/redis-server.js";
import { useTempDirs } from "../../helpers/temp-dir.js";
import { waitFor } from "../../helpers/wait-for.js";
import { startServer, TestClient } from "../../server/harness.js";
import { lineOf, startAgent, writeLines } from "../../ship/ship-harness.js";

killStrays();
const track = useClosers();
const tempDir = useTempDirs("livetrail-serve-cluster-");
const servers: RedisServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop();
});

const lines = (from: number, to: number): string[] =>
  Array.from({ length: to - from + 1 }, (_, i) => lineOf(from + i));

/** The port of the primary that owns a key's slot (from CLUSTER SLOTS). */
async function ownerPort(cluster: Cluster, key: string): Promise<number> {
  const slot = (await cluster.cluster("KEYSLOT", key)) as number;
  const range = (await cluster.cluster("SLOTS")).find(([from, to]) => slot >= from && slot <= to);
  const primary = range?.[2];
  if (primary === undefined) throw new Error(`no node owns slot ${slot}`);
  return primary[1];
}

describe("serve --redis --cluster", () => {
  it("--cluster and --sentinel are refused together, and without --redis", async () => {
    const both = await runCli(["serve", "--redis", "redis://127.0.0.1:1", "--cluster", "--sentinel", "main"]);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("use either --cluster or --sentinel, not both");
    const alone = await runCli(["serve", "--sentinel", "main"]);
    expect(alone.code).toBe(2);
    expect(alone.stderr).toContain("--sentinel needs --redis URL");
    const help = await runCli(["serve", "--help"]);
    expect(help.stdout).toMatch(/--cluster\s+the --redis address is one node of a Redis\s+Cluster/);
    expect(help.stdout).toMatch(/--sentinel <name>\s+the --redis address is a Sentinel: serve/);
  });

  // About 10 s here: three primaries on loopback (no replicas), slots assigned by redis-cli, stopped by PID.
  it("two streams on different shards, shipped by the agent: a WebSocket client gets every line once, in order; history and an HTTP append work", async () => {
    servers.push(...(await startCluster(3)));
    const seed = servers[0] as RedisServer;
    const cluster = new Cluster([{ host: "127.0.0.1", port: seed.port }]);
    try {
      // Two names whose streams live on different primaries, so both the feed and the commands cross shards.
      const owners = new Map<number, string>();
      for (const name of ["audit", "payments", "billing", "orders", "auth", "mail"]) {
        const port = await ownerPort(cluster, streamKey(name));
        if (!owners.has(port)) owners.set(port, name);
      }
      const [a, b] = [...owners.values()] as [string, string];
      expect(b).toBeDefined();
      const source = () => new RedisStreams({ url: seed.url, cluster: true, names: [a, b], pollMs: 100 });
      const served = track(await startServer([], { streamSource: source() }));
      // A second server on the same cluster takes appends (a write token makes every request need one).
      const token = "w".repeat(32);
      const writable = track(
        await startServer([], { streamSource: source(), security: { writeTokens: [token] } }),
      );
      const client = track(await TestClient.connect(`${served.wsUrl}/ws`));
      await client.subscribe(a, { tail: 0 });
      await client.subscribe(b, { tail: 0 });

      const dir = await tempDir();
      await writeLines(dir.file(`${a}.log`), 1, 5000);
      await writeLines(dir.file(`${b}.log`), 1, 3000);
      const agent = startAgent([
        `${a}=${dir.file(`${a}.log`)}`,
        `${b}=${dir.file(`${b}.log`)}`,
        "--redis",
        seed.url,
        "--cluster",
        "--host-label",
        "node-a",
      ]);
      await client.waitForLines(5000, a, 25_000);
      await client.waitForLines(3000, b, 25_000);
      await writeLines(dir.file(`${a}.log`), 5001, 5100);
      await client.waitForLines(5100, a, 15_000);
      agent.child.kill("SIGTERM");
      expect(await agent.exited).toEqual({ code: 0, signal: null });
      expect(agent.stderr).toBe("");
      expect(client.texts(a)).toEqual(lines(1, 5100));
      expect(client.texts(b)).toEqual(lines(1, 3000));
      expect(client.lines(a).map((l) => l.seq)).toEqual(Array.from({ length: 5100 }, (_, i) => i + 1));

      // History from the middle, on each shard: exactly the lines after the cursor a live line carried.
      for (const [name, at] of [
        [a, 4000],
        [b, 1000],
      ] as const) {
        const after = (client.lines(name)[at - 1] as { c: string }).c;
        const response = await fetch(
          `${served.url}/api/streams/${name}/lines?after=${encodeURIComponent(after)}&limit=50`,
        );
        expect(response.status).toBe(200);
        const page = (await response.json()) as LinesPage;
        expect(page.lines.map((l) => l.text)).toEqual(lines(at + 1, at + 50));
      }

      // An HTTP append (the compare-and-set script, one declared key) reaches the live client after the agent's lines.
      const append = await fetch(`${writable.url}/api/streams/${b}/entries`, {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ message: "appended over http" }),
      });
      expect(append.status).toBe(201);
      await client.waitForLines(3001, b, 10_000);
      expect(client.texts(b)[3000]).toMatch(/\] appended over http$/);
      expect(client.lines(b).at(-1)?.seq).toBe(3001);
      expect(await cluster.xlen(streamKey(b))).toBe(3001);
      expect(await cluster.hgetall(REGISTRY_KEY)).toMatchObject({ [a]: "node-a" });
      expect(client.messages.filter((m) => m.type === "gap" || m.type === "error")).toEqual([]);

      // The CLI: `serve --redis SEED --cluster` discovers both streams from the registry and serves their history.
      const cli = start(process.execPath, [CLI, "serve", "--redis", seed.url, "--cluster", "--port", "0"]);
      const result = finished(cli, 30_000);
      let out = "";
      cli.stdout?.on("data", (d: Buffer) => {
        out += d.toString();
      });
      try {
        const url = await waitFor(() => /at (http:\/\/\S+)/.exec(out)?.[1], {
          timeoutMs: 20_000,
          message: "url",
        });
        expect(out).toContain(`serving the streams of Redis at ${seed.url} (cluster)`);
        await waitFor(
          async () => ((await (await fetch(`${url}/api/streams`)).json()) as unknown[]).length === 2,
          { timeoutMs: 20_000, message: "both streams discovered" },
        );
        const page = (await (
          await fetch(`${url}/api/streams/${a}/lines?after=start&limit=3`)
        ).json()) as LinesPage;
        expect(page.lines.map((l) => l.text)).toEqual(lines(1, 3));
      } finally {
        cli.kill("SIGTERM");
      }
      expect((await result).code).toBe(0);
    } finally {
      cluster.disconnect();
    }
  }, 60_000);
});
