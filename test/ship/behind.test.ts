import { afterEach, describe, expect, it } from "vitest";
import { streamKey } from "../../src/backend/redis/entry.js";
import { killStrays } from "../cli/run-cli.js";
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
const tempDir = useTempDirs("livetrail-ship-behind-");
const servers: RedisServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop();
});

describe("livetrail ship when Redis loses acknowledged writes under a live connection", () => {
  it("a stream whose top went back refuses the next batch; the agent re-ships the lost lines from the file", async () => {
    const dir = await tempDir();
    const log = dir.file("app.log");
    await writeLines(log, 1, 10_000);
    const server = await startRedis();
    servers.push(server);
    const reader = client(server.url);
    try {
      const agent = startAgent([`app=${log}`, "--redis", server.url]);
      await waitFor(async () => (await streamLength(reader, "app")) === 10_000, { timeoutMs: 20_000 });
      // What a failover to a lagging replica or an `everysec` crash does, without dropping the agent's connection:
      // the newest 500 entries vanish and the stream's last ID goes back to what is left.
      const key = streamKey("app");
      const newest = (await reader.xrevrange(key, "+", "-", "COUNT", 501)) as [string, string[]][];
      await reader.xdel(key, ...newest.slice(0, 500).map(([id]) => id));
      await reader.call("XSETID", key, (newest[500] as [string, string[]])[0]);
      expect(await streamLength(reader, "app")).toBe(9_500);
      await writeLines(log, 10_001, 11_000);
      await waitFor(async () => (await streamLength(reader, "app")) === 11_000, { timeoutMs: 20_000 });
      agent.child.kill("SIGTERM");
      expect(await agent.exited).toEqual({ code: 0, signal: null });
      expect(agent.stderr).toMatch(
        /app: Redis's newest entry is \d+-0, not \d+-0 as appended: it lost acknowledged writes/,
      );
      expect(problemWithLines(await readStream(reader, "app"), 11_000)).toBeNull();
    } finally {
      reader.disconnect();
    }
  }, 60_000);
});
