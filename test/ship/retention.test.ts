import { afterEach, describe, expect, it } from "vitest";
import { streamKey } from "../../src/backend/redis/entry.js";
import { parseMaxAge, parseRetention, Retention } from "../../src/ship/retention.js";
import { killStrays } from "../cli/run-cli.js";
import { type RedisServer, startRedis } from "../helpers/redis-server.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { client, readStream, startAgent, writeLines } from "./ship-harness.js";

killStrays();
const tempDir = useTempDirs("livetrail-ship-retention-");
const servers: RedisServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop();
});

describe("retention", () => {
  it("parses durations and refuses nonsense", () => {
    expect(parseMaxAge("90s")).toBe(90_000);
    expect(parseMaxAge("12h")).toBe(43_200_000);
    expect(parseMaxAge("7d")).toBe(604_800_000);
    expect(parseMaxAge("500ms")).toBe(500);
    expect(parseMaxAge("30")).toBe(30_000);
    for (const bad of ["", "1y", "-5s", "0", "abc"]) expect(() => parseMaxAge(bad)).toThrow(RangeError);
    expect(parseRetention({})).toEqual({ kind: "none" });
    expect(parseRetention({ maxlen: "1000" })).toEqual({ kind: "maxlen", entries: 1000 });
    expect(() => parseRetention({ maxlen: "0" })).toThrow(/--maxlen/);
  });

  it("--max-age trims below the newest position noted at least that long ago (injected clock)", () => {
    let now = 1_000_000;
    const retention = new Retention({ kind: "max-age", ms: 60_000 }, () => now);
    retention.restart(500);
    expect(retention.trimArgs()).toBeNull();
    for (let position = 1000; position <= 10_000; position += 1000) {
      now += 10_000;
      retention.note(position);
    }
    // now = start + 100 s: notes at +0 s (500) ... +40 s (4000) are at least 60 s old.
    expect(retention.trimArgs()).toEqual(["MINID", "~", "4001-0"]);
    // Notes closer than a second apart are not kept: memory is bounded by the age, not the rate.
    now += 100;
    retention.note(10_500);
    now += 61_000;
    expect(retention.trimArgs()).toEqual(["MINID", "~", "10001-0"]);
  });

  it("--maxlen keeps about the newest N entries, the newest ones in order", async () => {
    const dir = await tempDir();
    const log = dir.file("app.log");
    await writeLines(log, 1, 20_000);
    const server = await startRedis();
    servers.push(server);
    const reader = client(server.url);
    try {
      const agent = startAgent([`app=${log}`, "--redis", server.url, "--maxlen", "1000"]);
      const last = async () => {
        const [newest] = (await reader.xrevrange(streamKey("app"), "+", "-", "COUNT", 1)) as [
          string,
          string[],
        ][];
        return newest?.[1][newest[1].indexOf("q") + 1];
      };
      await waitFor(async () => (await last()) === "20000", { timeoutMs: 30_000 });
      agent.child.kill("SIGTERM");
      expect(await agent.exited).toEqual({ code: 0, signal: null });
      const records = await readStream(reader, "app");
      // `~`: whole listpack nodes go, so a little more than 1000 stays, never fewer.
      expect(records.length).toBeGreaterThanOrEqual(1000);
      expect(records.length).toBeLessThan(1200);
      const seqs = records.map((r) => (r.kind === "line" ? r.seq : -1));
      expect(seqs).toEqual(Array.from({ length: records.length }, (_, i) => 20_001 - records.length + i));
    } finally {
      reader.disconnect();
    }
  }, 60_000);
});
