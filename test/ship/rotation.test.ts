import { rename, rm, truncate } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import type { StreamRecord } from "../../src/backend/redis/entry.js";
import { killStrays } from "../cli/run-cli.js";
import { type RedisServer, startRedis } from "../helpers/redis-server.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import {
  type Agent,
  client,
  lineOf,
  readStream,
  startAgent,
  streamLength,
  writeLines,
} from "./ship-harness.js";

killStrays();
const tempDir = useTempDirs("livetrail-ship-rotation-");
const servers: RedisServer[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) await server.stop();
});

/** The stream as a list of words: `3` for a line holding lineOf(3), `gap:<reason>:<skipped>` for a marker. */
function shape(records: StreamRecord[]): string[] {
  return records.map((r) => {
    if (r.kind === "gap") return `gap:${r.reason}:${r.skipped ?? "?"}`;
    if (r.kind === "foreign") return `foreign:${r.problem}`;
    const n = /line (\d+) /.exec(r.bytes.toString("utf8"))?.[1];
    return r.bytes.toString("utf8") === lineOf(Number(n)) ? String(Number(n)) : `bad:${r.bytes}`;
  });
}

function range(from: number, to: number): string[] {
  return Array.from({ length: to - from + 1 }, (_, i) => String(from + i));
}

async function stop(agent: Agent): Promise<void> {
  agent.child.kill("SIGTERM");
  expect(await agent.exited).toEqual({ code: 0, signal: null });
}

async function setup() {
  const dir = await tempDir();
  const log = dir.file("app.log");
  const server = await startRedis();
  servers.push(server);
  const reader = client(server.url);
  const args = [`app=${log}`, "--redis", server.url, "--poll-interval", "100"];
  await writeLines(log, 1, 1000);
  const agent = startAgent(args);
  await waitFor(async () => (await streamLength(reader, "app")) === 1000, { timeoutMs: 20_000 });
  await stop(agent);
  const entries = async (n: number) => {
    await waitFor(async () => (await streamLength(reader, "app")) >= n, { timeoutMs: 20_000 });
    return shape(await readStream(reader, "app"));
  };
  return { log, reader, args, entries };
}

describe("livetrail ship: files that changed while the agent was stopped", () => {
  it("rotated by rename, the old file still beside it: drained from where it left off, then the new one; no gap", async () => {
    const { log, reader, args, entries } = await setup();
    try {
      await writeLines(log, 1001, 1500);
      await rename(log, `${log}.1`);
      await writeLines(log, 1501, 2000);
      const agent = startAgent(args);
      expect(await entries(2000)).toEqual(range(1, 2000));
      await stop(agent);
      expect(agent.stderr).toContain("drained");
    } finally {
      reader.disconnect();
    }
  }, 60_000);

  it("rotated and the old file removed: one gap marker (lines lost, how many unknown), then the new file", async () => {
    const { log, reader, args, entries } = await setup();
    try {
      await writeLines(log, 1001, 1500);
      await rename(log, `${log}.1`);
      await rm(`${log}.1`);
      await writeLines(log, 1501, 2000);
      const agent = startAgent(args);
      expect(await entries(1501)).toEqual([...range(1, 1000), "gap:file-changed:?", ...range(1501, 2000)]);
      await stop(agent);
      expect(agent.stderr).toContain("lines lost (file-changed); gap marker written");
    } finally {
      reader.disconnect();
    }
  }, 60_000);

  it("truncated and rewritten: one gap marker, then the new content from its start; a restart adds nothing", async () => {
    const { log, reader, args, entries } = await setup();
    try {
      await writeLines(log, 1001, 1100);
      await truncate(log, 0);
      await writeLines(log, 1101, 1200);
      let agent = startAgent(args);
      // Another head at the same path: the follower cannot tell a rewritten file from a replaced one.
      const expected = [...range(1, 1000), "gap:file-changed:?", ...range(1101, 1200)];
      expect(await entries(1101)).toEqual(expected);
      await stop(agent);
      // The gap marker holds where shipping went on: resuming after it neither repeats it nor the lines.
      agent = startAgent(args);
      await writeLines(log, 1201, 1210);
      expect(await entries(1111)).toEqual([...expected, ...range(1201, 1210)]);
      await stop(agent);
    } finally {
      reader.disconnect();
    }
  }, 60_000);

  it("truncated while shipping: a gap marker (reason truncated), then the new content", async () => {
    const { log, reader, args, entries } = await setup();
    try {
      const agent = startAgent(args);
      await writeLines(log, 1001, 1010);
      expect(await entries(1010)).toEqual(range(1, 1010));
      await truncate(log, 0);
      await waitFor(() => agent.stderr.includes("truncated"), { timeoutMs: 10_000 });
      await writeLines(log, 1011, 1020);
      expect(await entries(1021)).toEqual([...range(1, 1010), "gap:truncated:?", ...range(1011, 1020)]);
      await stop(agent);
    } finally {
      reader.disconnect();
    }
  }, 60_000);
});
