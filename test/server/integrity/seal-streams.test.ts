import { readdir } from "node:fs/promises";
import type { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { encodeGap, encodeLine, topAfter } from "../../../src/backend/redis/entry.js";
import { appendLines as appendRedisLines } from "../../../src/backend/redis/redis-append.js";
import { RedisBackend } from "../../../src/backend/redis/redis-backend.js";
import { commandConnection, readerConnection } from "../../../src/backend/redis/redis-connection.js";
import { StreamRecords } from "../../../src/backend/redis/redis-records.js";
import { RedisStreams } from "../../../src/backend/redis/redis-streams.js";
import { RingBackend } from "../../../src/backend/ring/ring-backend.js";
import { leafHash } from "../../../src/integrity/merkle.js";
import { generateKey } from "../../../src/integrity/note.js";
import { parseConsistencyProof, parseInclusionProof } from "../../../src/integrity/proof-format.js";
import { verifyConsistency, verifyInclusion } from "../../../src/integrity/proofs.js";
import { type SealKey, sealKeyFromString } from "../../../src/integrity/seal-key.js";
import { parseSealPointNote, type SealPoint } from "../../../src/integrity/seal-point.js";
import type { IntegrityInfo } from "../../../src/protocol/messages.js";
import { CLI, finished, killStrays, runCli, start } from "../../cli/run-cli.js";
import { useClosers } from "../../helpers/closer.js";
import { type RedisServer, startRedis } from "../../helpers/redis-server.js";
import { useTempDirs } from "../../helpers/temp-dir.js";
import { waitFor } from "../../helpers/wait-for.js";
import { makeLines, startServer } from "../harness.js";

killStrays();

const tempDir = useTempDirs("livetrail-seal-streams-");
const track = useClosers();

function newKey(): SealKey {
  return sealKeyFromString(generateKey("livetrail.test/streams").signerKey);
}

const FAST = { everyLines: 100, everyMs: 50, checkMs: 50 };

async function integrityOf(url: string, stream: string): Promise<IntegrityInfo> {
  return (await (await fetch(`${url}/api/streams/${stream}/integrity`)).json()) as IntegrityInfo;
}

async function checkpoint(url: string, stream: string, size?: number): Promise<SealPoint> {
  const q = size === undefined ? "" : `?size=${size}`;
  const res = await fetch(`${url}/api/streams/${stream}/checkpoint${q}`);
  expect(res.status).toBe(200);
  return parseSealPointNote(await res.text());
}

/** The proofs the server gives for a stream whose lines are `lines`, checked with the core's RFC 9162 verifiers. */
async function checkProofs(url: string, stream: string, lines: readonly string[], older: SealPoint) {
  const point = await checkpoint(url, stream);
  expect(point.size).toBe(lines.length);
  for (const n of [1, 137, lines.length]) {
    const proof = parseInclusionProof(
      await (await fetch(`${url}/api/streams/${stream}/proof/inclusion?line=${n}`)).text(),
    );
    expect(proof.index).toBe(n - 1);
    const leaf = leafHash(Buffer.from(lines[n - 1] as string));
    expect(verifyInclusion(leaf, n - 1, point.size, proof.hashes, point.root)).toBe(true);
    // Another line's bytes at that index do not verify.
    const other = leafHash(Buffer.from(lines[n % lines.length] as string));
    expect(verifyInclusion(other, n - 1, point.size, proof.hashes, point.root)).toBe(false);
  }
  const cons = parseConsistencyProof(
    await (await fetch(`${url}/api/streams/${stream}/proof/consistency?from=${older.size}`)).text(),
  );
  expect(cons.oldSize).toBe(older.size);
  expect(verifyConsistency(older.size, point.size, cons.hashes, older.root, point.root)).toBe(true);
  expect(verifyConsistency(older.size, point.size, cons.hashes, point.root, point.root)).toBe(false);
  return point;
}

describe("sealing a stdin ring stream", () => {
  it("seals the ring's lines under the state directory: checkpoint, inclusion and consistency proofs verify", async () => {
    const dir = await tempDir();
    const ring = new RingBackend("pipe", { maxLines: 100_000, maxBytes: 64 * 1024 * 1024 });
    const srv = await startServer([{ name: "pipe", backend: ring }], {
      stateDir: dir.path,
      integrity: { sealKey: newKey(), ...FAST },
    });
    track(srv);
    const first = makeLines(0, 250, "pipe");
    ring.write(Buffer.from(`${first.join("\n")}\n`));
    await waitFor(async () => (await integrityOf(srv.url, "pipe")).sealedTo === 250, { timeoutMs: 10_000 });
    const older = await checkpoint(srv.url, "pipe");
    expect(older.identity).toBe(ring.sealIdentity);
    expect(older.identity).toMatch(/^ring:[0-9a-f]{12}$/);

    // A CRLF line: its leaf keeps the CR (the stream's exact bytes).
    const second = makeLines(250, 400, "pipe");
    second[10] = `${second[10]}\r`;
    ring.write(Buffer.from(`${second.join("\n")}\n`));
    const lines = [...first, ...second];
    await waitFor(async () => (await integrityOf(srv.url, "pipe")).sealedTo === lines.length, {
      timeoutMs: 10_000,
    });
    const point = await checkProofs(srv.url, "pipe", lines, older);
    expect(point.bytes).toBe(Buffer.byteLength(`${lines.join("\n")}\n`));
    const info = await integrityOf(srv.url, "pipe");
    expect(info).toMatchObject({ status: "sealed", sealing: true, sealedTo: 650 });
    expect(info.sealingStopped).toBeUndefined();
    expect(await readdir(`${dir.path}/seal`)).toEqual(["pipe.seal"]);

    const metrics = await (await fetch(`${srv.url}/metrics`)).text();
    expect(metrics).toMatch(/livetrail_integrity_sealed_lines\{stream="pipe"\} 650/);
  });

  it("starts a new chain for a new run of the ring and keeps the previous run's sidecar", async () => {
    const dir = await tempDir();
    const key = newKey();
    const runs: string[] = [];
    const origins: string[] = [];
    for (const tag of ["a", "b"]) {
      const ring = new RingBackend("pipe", { maxLines: 1000, maxBytes: 1024 * 1024 });
      const srv = await startServer([{ name: "pipe", backend: ring }], {
        stateDir: dir.path,
        integrity: { sealKey: key, ...FAST },
      });
      ring.write(Buffer.from(`${makeLines(0, 120, tag).join("\n")}\n`));
      await waitFor(async () => (await integrityOf(srv.url, "pipe")).sealedTo === 120, { timeoutMs: 10_000 });
      const point = await checkpoint(srv.url, "pipe");
      expect(point.identity).toBe(ring.sealIdentity);
      runs.push(ring.sealIdentity.slice("ring:".length));
      origins.push(point.origin);
      await srv.close();
    }
    const names = (await readdir(`${dir.path}/seal`)).sort();
    expect(names).toContain("pipe.seal");
    expect(names.filter((n) => n !== "pipe.seal")).toHaveLength(1);
    expect(runs).toContain((names.find((n) => n !== "pipe.seal") as string).slice("pipe.seal.".length));
    // Each run is its own log to a witness (the dashboard compares checkpoints of one origin only).
    expect(origins[0]).not.toBe(origins[1]);
    expect(origins[1]).toBe(`livetrail/${key.signer.name}/pipe/${runs[1]}`);
  });

  it("stops sealing at lines it never saw (trimmed before the feed) and says why", async () => {
    const dir = await tempDir();
    const ring = new RingBackend("pipe", { maxLines: 50, maxBytes: 1024 * 1024 });
    // Written before the server follows: the ring keeps only the last 50, so lines 1..150 were never seen.
    ring.write(Buffer.from(`${makeLines(0, 200).join("\n")}\n`));
    const srv = await startServer([{ name: "pipe", backend: ring }], {
      stateDir: dir.path,
      integrity: { sealKey: newKey(), ...FAST },
    });
    track(srv);
    await waitFor(async () => (await integrityOf(srv.url, "pipe")).sealingStopped !== undefined, {
      timeoutMs: 10_000,
    });
    const info = await integrityOf(srv.url, "pipe");
    expect(info.sealing).toBe(false);
    expect(info.status).toBe("unsealed");
    expect(info.sealingStopped).toMatch(/sealing stopped.*line 151 starts at byte \d+.*not seen/);
  });

  it("without a state directory: not sealed, with a clear message", async () => {
    const ring = new RingBackend("pipe", { maxLines: 1000, maxBytes: 1024 * 1024 });
    const srv = await startServer([{ name: "pipe", backend: ring }], {
      integrity: { sealKey: newKey(), ...FAST },
    });
    track(srv);
    ring.write(Buffer.from(`${makeLines(0, 10).join("\n")}\n`));
    const info = await integrityOf(srv.url, "pipe");
    expect(info).toMatchObject({ status: "unsealed", sealing: false, sealedTo: 0 });
    expect(info.sealingStopped).toMatch(/not sealed: the server has no state directory \(--state-dir\)/);
    const res = await fetch(`${srv.url}/api/streams/pipe/checkpoint`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { error: string }).error).toBe("not_sealed");
  });
});

describe("sealing a Redis stream", () => {
  let redis: RedisServer;
  let client: Redis;
  const readers: Redis[] = [];
  beforeAll(async () => {
    redis = await startRedis();
    client = commandConnection(redis.url);
    await client.ping();
  });
  afterAll(async () => {
    for (const reader of readers) reader.disconnect();
    client?.disconnect();
    await redis?.stop();
  });

  it("seals the lines appended through the codec: checkpoint, inclusion and consistency proofs verify", async () => {
    const dir = await tempDir();
    const name = `sealed-${process.pid}`;
    const backend = new RedisBackend(name, {
      client,
      readerConnection: () => {
        const reader = readerConnection(redis.url);
        readers.push(reader);
        return reader;
      },
      blockMs: 200,
    });
    const srv = await startServer([{ name, backend }], {
      stateDir: dir.path,
      integrity: { sealKey: newKey(), ...FAST },
    });
    track(srv);
    const first = makeLines(0, 300, "redis");
    await appendRedisLines(client, name, first, "test-host");
    await waitFor(async () => (await integrityOf(srv.url, name)).sealedTo === 300, { timeoutMs: 10_000 });
    const older = await checkpoint(srv.url, name);
    expect(older.identity).toBe(`redis:livetrail:{${name}}:lines`);
    const second = makeLines(300, 333, "redis");
    await appendRedisLines(client, name, second, "test-host");
    const lines = [...first, ...second];
    await waitFor(async () => (await integrityOf(srv.url, name)).sealedTo === lines.length, {
      timeoutMs: 10_000,
    });
    await checkProofs(srv.url, name, lines, older);
    expect(await readdir(`${dir.path}/seal`)).toEqual([`${name}.seal`]);
  });

  it("seals a stream discovered while the server runs, and stops at a gap marker with the reason", async () => {
    const dir = await tempDir();
    const name = `found-${process.pid}`;
    const srv = await startServer([], {
      streamSource: new RedisStreams({ url: redis.url, pollMs: 100 }),
      stateDir: dir.path,
      integrity: { sealKey: newKey(), ...FAST },
    });
    track(srv);
    const lines = makeLines(0, 150, "found");
    await appendRedisLines(client, name, lines, "agent-1");
    await waitFor(
      async () => {
        const res = await fetch(`${srv.url}/api/streams/${name}/integrity`);
        return res.status === 200 && ((await res.json()) as IntegrityInfo).sealedTo === 150;
      },
      { timeoutMs: 10_000 },
    );
    expect((await checkpoint(srv.url, name)).identity).toBe(`redis:livetrail:{${name}}:lines`);

    // A writer's gap marker: lines the stream lost, so the sealer never saw them.
    const key = `livetrail:{${name}}:lines`;
    const gap = encodeGap(topAfter(await new StreamRecords(client, key).newest()), {
      reason: "truncated",
      skipped: 4,
    });
    await client.xadd(key, gap.id, ...gap.fields);
    await appendRedisLines(client, name, makeLines(200, 20, "after"), "agent-1");
    await waitFor(async () => (await integrityOf(srv.url, name)).sealingStopped !== undefined, {
      timeoutMs: 10_000,
    });
    const info = await integrityOf(srv.url, name);
    expect(info).toMatchObject({ status: "sealed", sealedTo: 150, sealing: false });
    expect(info.sealingStopped).toMatch(/4 lines were lost before the sealer saw them \(a "truncated" gap\)/);
    // What was sealed stays provable.
    const proof = parseInclusionProof(
      await (await fetch(`${srv.url}/api/streams/${name}/proof/inclusion?line=150`)).text(),
    );
    const point = await checkpoint(srv.url, name);
    expect(
      verifyInclusion(leafHash(Buffer.from(lines[149] as string)), 149, 150, proof.hashes, point.root),
    ).toBe(true);
  });

  it("seals a line that is not valid UTF-8 with its exact bytes, read back from the stream", async () => {
    const dir = await tempDir();
    const name = `bytes-${process.pid}`;
    const backend = new RedisBackend(name, {
      client,
      readerConnection: () => {
        const reader = readerConnection(redis.url);
        readers.push(reader);
        return reader;
      },
      blockMs: 200,
    });
    const srv = await startServer([{ name, backend }], {
      stateDir: dir.path,
      integrity: { sealKey: newKey(), ...FAST },
    });
    track(srv);
    await appendRedisLines(client, name, makeLines(0, 5, "ok"), "test-host");
    // As `livetrail ship` writes a line of a file that is not UTF-8: the entry holds its bytes.
    const raw = Buffer.from([0x61, 0xff, 0xfe, 0x62]);
    const key = `livetrail:{${name}}:lines`;
    const entry = encodeLine(topAfter(await new StreamRecords(client, key).newest()), { bytes: raw });
    await client.xadd(key, entry.id, ...entry.fields);
    await waitFor(async () => (await integrityOf(srv.url, name)).sealedTo === 6, { timeoutMs: 10_000 });
    const info = await integrityOf(srv.url, name);
    expect(info.sealingStopped).toBeUndefined();
    const point = await checkpoint(srv.url, name);
    const proof = parseInclusionProof(
      await (await fetch(`${srv.url}/api/streams/${name}/proof/inclusion?line=6`)).text(),
    );
    expect(verifyInclusion(leafHash(raw), 5, 6, proof.hashes, point.root)).toBe(true);
    // Not the text the dashboard shows (U+FFFD for the invalid bytes).
    const shown = Buffer.from(raw.toString("utf8"));
    expect(verifyInclusion(leafHash(shown), 5, 6, proof.hashes, point.root)).toBe(false);
  });
});

describe("livetrail serve NAME=- --seal-key", () => {
  /** Starts `serve pipe=- --seal-key KEY …more`; resolves with the URL and what it printed on stderr so far. */
  async function serveStdin(more: string[]) {
    const dir = await tempDir();
    const key = dir.file("ops.key");
    expect((await runCli(["keygen", "--name", "ops", "--out", key])).code).toBe(0);
    const child = start(process.execPath, [
      CLI,
      "serve",
      "pipe=-",
      "--port",
      "0",
      "--seal-key",
      key,
      ...more,
    ]);
    const result = finished(child, 60_000);
    let out = "";
    let err = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr?.on("data", (d: Buffer) => {
      err += d.toString();
    });
    const url = await waitFor(() => /at (http:\/\/\S+)/.exec(out)?.[1], {
      timeoutMs: 20_000,
      message: "url",
    });
    return { child, result, url, stderr: () => err, dir };
  }

  it("says at start that the stdin stream is not sealed without --state-dir", async () => {
    const { child, result, url, stderr } = await serveStdin([]);
    expect(stderr()).toMatch(
      /warning: pipe not sealed: a stream that is not a file keeps its sidecar under --state-dir/,
    );
    expect(await integrityOf(url, "pipe")).toMatchObject({ status: "unsealed", sealing: false });
    child.kill("SIGTERM");
    expect((await result).code).toBe(0);
  });

  it("seals stdin's lines under --state-dir", async () => {
    const state = await tempDir();
    const { child, result, url, stderr } = await serveStdin([
      "--state-dir",
      state.path,
      "--seal-every-ms",
      "50",
    ]);
    expect(stderr()).toContain(`sealing pipe from the lines served; sidecars in ${state.path}/seal/`);
    const lines = makeLines(0, 20, "stdin");
    child.stdin?.write(`${lines.join("\n")}\n`);
    await waitFor(async () => (await integrityOf(url, "pipe")).sealedTo === 20, { timeoutMs: 20_000 });
    const point = await checkpoint(url, "pipe");
    expect(point.identity).toMatch(/^ring:[0-9a-f]{12}$/);
    const proof = parseInclusionProof(
      await (await fetch(`${url}/api/streams/pipe/proof/inclusion?line=7`)).text(),
    );
    expect(verifyInclusion(leafHash(Buffer.from(lines[6] as string)), 6, 20, proof.hashes, point.root)).toBe(
      true,
    );
    child.kill("SIGTERM");
    expect((await result).code).toBe(0);
  });
});
