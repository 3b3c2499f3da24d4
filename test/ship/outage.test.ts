import { readFile } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
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
const tempDir = useTempDirs("livetrail-ship-outage-");
const servers: RedisServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop();
});

/** Bytes the process has read through read(2) and friends so far (/proc/PID/io `rchar`). */
async function bytesRead(pid: number): Promise<number> {
  const io = await readFile(`/proc/${pid}/io`, "utf8");
  return Number(/^rchar: (\d+)$/m.exec(io)?.[1]);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe("livetrail ship while Redis is away", () => {
  it("does not read the file while Redis is down (the file is the buffer), then catches up exactly", async () => {
    const dir = await tempDir();
    const log = dir.file("app.log");
    await writeLines(log, 1, 10_000);
    let server = await startRedis({ aof: true });
    servers.push(server);
    const { port, dir: data } = server;
    const agent = startAgent([`app=${log}`, "--redis", server.url]);
    const pid = agent.child.pid as number;
    let reader = client(server.url);
    await waitFor(async () => (await streamLength(reader, "app")) === 10_000, { timeoutMs: 20_000 });
    reader.disconnect();
    await server.stop({ keepDir: true });
    await waitFor(() => agent.stderr.includes("Redis unreachable"), { timeoutMs: 10_000 });
    // 30 MB written while Redis is away: the agent keeps its place instead of reading them into memory.
    const before = await bytesRead(pid);
    await writeLines(log, 10_001, 310_000);
    await sleep(2000);
    const readMeanwhile = (await bytesRead(pid)) - before;
    expect(readMeanwhile).toBeLessThan(1_000_000);
    server = await startRedis({ aof: true, port, dir: data });
    servers.push(server);
    reader = client(server.url);
    try {
      await waitFor(async () => (await streamLength(reader, "app")) === 310_000, { timeoutMs: 60_000 });
      agent.child.kill("SIGTERM");
      expect(await agent.exited).toEqual({ code: 0, signal: null });
      expect(problemWithLines(await readStream(reader, "app"), 310_000)).toBeNull();
      expect(agent.stderr.match(/Redis unreachable/g)).toHaveLength(1);
      expect(agent.stderr.match(/Redis reachable again/g)).toHaveLength(1);
    } finally {
      reader.disconnect();
    }
  }, 120_000);
});
