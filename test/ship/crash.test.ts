import { afterEach, describe, expect, it } from "vitest";
import { killStrays } from "../cli/run-cli.js";
import { type RedisServer, startRedis } from "../helpers/redis-server.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import {
  type Agent,
  client,
  problemWithLines,
  readStream,
  startAgent,
  streamLength,
  writeLines,
} from "./ship-harness.js";

killStrays();
const tempDir = useTempDirs("livetrail-ship-crash-");
const servers: RedisServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop();
});

const TOTAL = 1_000_000;
/** The writer appends this many lines every WRITE_EVERY_MS: 1M lines in about 5 s, faster than kills recur. */
const WRITE_CHUNK = 20_000;
const WRITE_EVERY_MS = 100;

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** Random whole number of ms in [min, max]. */
function between(min: number, max: number): number {
  return min + Math.floor(Math.random() * (max - min + 1));
}

describe("livetrail ship across crashes", () => {
  // 77-104 s here (load average 9-14, beside other test files): 1M lines written while the agent is SIGKILLed
  // every 0.3-1 s (at least 6 times, and on while the writer writes), restarted each time, then
  // read back whole through the codec.
  it("SIGKILLed repeatedly during a 1,000,000-line ship: every line exactly once, in order", async () => {
    const dir = await tempDir();
    const log = dir.file("big.log");
    await writeLines(log, 1, WRITE_CHUNK);
    const server = await startRedis();
    servers.push(server);
    const reader = client(server.url);
    const args = [`big=${log}`, "--redis", server.url];
    try {
      let written = WRITE_CHUNK;
      const writer = (async () => {
        while (written < TOTAL) {
          await sleep(WRITE_EVERY_MS);
          await writeLines(log, written + 1, written + WRITE_CHUNK);
          written += WRITE_CHUNK;
        }
      })();
      let kills = 0;
      const shippedAtKill: number[] = [];
      let agent: Agent = startAgent(args);
      // Kill at least 6 times, and keep killing while the writer writes.
      while (kills < 6 || written < TOTAL) {
        await sleep(between(300, 1000));
        agent.child.kill("SIGKILL");
        expect((await agent.exited).signal).toBe("SIGKILL");
        kills++;
        shippedAtKill.push(await streamLength(reader, "big"));
        agent = startAgent(args);
      }
      await writer;
      await waitFor(async () => (await streamLength(reader, "big")) >= TOTAL, {
        timeoutMs: 60_000,
        message: "1,000,000 entries",
      });
      agent.child.kill("SIGTERM");
      expect(await agent.exited).toEqual({ code: 0, signal: null });
      // The kills fell while shipping was under way, not all before or after it.
      expect(shippedAtKill.some((n) => n > 0 && n < TOTAL)).toBe(true);
      expect(problemWithLines(await readStream(reader, "big"), TOTAL)).toBeNull();
    } finally {
      reader.disconnect();
    }
  }, 180_000);
});
