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
const tempDir = useTempDirs("livetrail-ship-redis-");
const servers: RedisServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop();
});

const TOTAL = 300_000;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

describe("livetrail ship across Redis crashes", () => {
  // appendfsync always: nothing acknowledged is lost. everysec: up to a second of acknowledged XADDs is lost on
  // a crash; the agent's next session reads the (older) top and ships those lines again from the file. Either
  // way the stream must end with every line once.
  for (const fsync of ["always", "everysec"] as const) {
    it(`Redis SIGKILLed twice while shipping (AOF, appendfsync ${fsync}): nothing lost or doubled`, async () => {
      const dir = await tempDir();
      const log = dir.file("app.log");
      await writeLines(log, 1, 50_000);
      let server = await startRedis({ aof: true, args: ["--appendfsync", fsync] });
      const { port, dir: data } = server;
      const agent = startAgent([`app=${log}`, "--redis", server.url]);
      let written = 50_000;
      const writer = (async () => {
        while (written < TOTAL) {
          await sleep(50);
          await writeLines(log, written + 1, written + 10_000);
          written += 10_000;
        }
      })();
      try {
        for (let crash = 0; crash < 2; crash++) {
          const reader = client(server.url);
          await waitFor(async () => (await streamLength(reader, "app")) > 0, { timeoutMs: 20_000 });
          reader.disconnect();
          await sleep(200 + crash * 300);
          await server.kill();
          await sleep(300);
          server = await startRedis({ aof: true, port, dir: data, args: ["--appendfsync", fsync] });
        }
        servers.push(server);
        await writer;
        const reader = client(server.url);
        try {
          await waitFor(async () => (await streamLength(reader, "app")) >= TOTAL, { timeoutMs: 60_000 });
          agent.child.kill("SIGTERM");
          expect(await agent.exited).toEqual({ code: 0, signal: null });
          expect(problemWithLines(await readStream(reader, "app"), TOTAL)).toBeNull();
          expect(agent.stderr.match(/Redis unreachable/g)?.length).toBeGreaterThanOrEqual(1);
          expect(agent.stderr).toContain("Redis reachable again");
        } finally {
          reader.disconnect();
        }
      } finally {
        if (!servers.includes(server)) servers.push(server);
      }
    }, 120_000);
  }
});
