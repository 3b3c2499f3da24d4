import { rename, writeFile } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import type { FrameLine } from "../../src/protocol/lines-frame.js";
import { CLI, killStrays, start } from "../cli/run-cli.js";
import { type RedisServer, startRedis } from "../helpers/redis-server.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { startServer, TestClient } from "../server/harness.js";
import { client, readStream, startAgent, streamLength } from "./ship-harness.js";

killStrays();
const tempDir = useTempDirs("livetrail-ship-exact-");
const servers: RedisServer[] = [];
const stops: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
  for (const server of servers.splice(0)) await server.stop();
});

const MiB = 1024 * 1024;
/** The agent's read size (shipper.ts READ_CHUNK_BYTES): a character placed across it is split between reads. */
const READ_CHUNK = 256 * 1024;
const b = (s: string) => Buffer.from(s, "latin1");
const u = (s: string) => Buffer.from(s, "utf8");

/** The first file: every kind of line whose text is not its bytes, and a last line that never gets its LF. */
function firstFile(): { content: Buffer; lines: Buffer[] } {
  const head = [
    u("[2026-12-04T19:00:00Z] crlf one\r\n"),
    u("crlf two\r\n"),
    Buffer.concat([u("bad "), b("\xff\xfe"), u(" bytes\n")]),
    Buffer.concat([u("lone "), b("\x80"), u(" continuation\r\n")]),
    u("two crs\r\r\n"),
    u("\r\n"),
  ];
  const before = head.reduce((n, part) => n + part.length, 0);
  // A line whose "€" (3 bytes) starts one byte before the read boundary, after a filler line.
  const euroLine = u("euro € split\n");
  const filler = READ_CHUNK - 1 - before - u("euro ").length - 1;
  const long = Buffer.concat([u("L".repeat(MiB)), b("\xff"), u("y".repeat(MiB)), u("\r\n")]);
  const parts = [
    ...head,
    u(`${"f".repeat(filler)}\n`),
    euroLine,
    long,
    Buffer.concat([u("tail "), b("\xc3")]),
  ];
  const content = Buffer.concat(parts);
  expect(content.indexOf(u("€"))).toBe(READ_CHUNK - 1);
  return { content, lines: parts.map(dataOf) };
}

/** What an entry's `l` must hold: the line's bytes without its LF (a CR stays; no LF: as it is). */
function dataOf(part: Buffer): Buffer {
  return part[part.length - 1] === 0x0a ? part.subarray(0, -1) : part;
}

/** The text a reader shows for a line's data, as the file backend decodes it: a CRLF's CR dropped. */
function shown(data: Buffer, terminated: boolean): string {
  const content = terminated && data[data.length - 1] === 0x0d ? data.subarray(0, -1) : data;
  return content.toString("utf8");
}

describe("livetrail ship: an entry holds the line's exact bytes", () => {
  it("CRLF, invalid UTF-8, a character split across reads, a 2 MiB line, the unterminated last line of a rotated file", async () => {
    const dir = await tempDir();
    const log = dir.file("app.log");
    const first = firstFile();
    await writeFile(log, first.content);
    const server = await startRedis();
    servers.push(server);
    const reader = client(server.url);
    stops.push(async () => reader.disconnect());
    const agent = startAgent([`app=${log}`, "--redis", server.url, "--host-label", "web-1"]);
    stops.push(async () => {
      agent.child.kill("SIGTERM");
      await agent.exited;
    });
    const terminated = first.lines.length - 1;
    await waitFor(async () => (await streamLength(reader, "app")) === terminated, {
      timeoutMs: 30_000,
      message: `${terminated} entries`,
    });

    // Rotation by rename: the agent drains the old file while the path already names the new one, so the
    // unterminated line's bytes are read back from app.log.1.
    await rename(log, dir.file("app.log.1"));
    const second = [u("new é file\r\n"), u("next\n")];
    await writeFile(log, Buffer.concat(second));
    const expected = [...first.lines, ...second.map(dataOf)];
    await waitFor(async () => (await streamLength(reader, "app")) === expected.length, {
      timeoutMs: 30_000,
      message: `${expected.length} entries`,
    });

    const records = await readStream(reader, "app");
    const lines = records.filter((r) => r.kind === "line");
    expect(lines.length).toBe(records.length);
    for (const [i, line] of lines.entries()) {
      expect(line.bytes.equals(expected[i] as Buffer), `entry ${i + 1}`).toBe(true);
      expect(line.decoded, `entry ${i + 1} marked decoded`).toBeUndefined();
      expect(line.cutFrom).toBeUndefined();
    }
    expect(lines[0]?.timeMs).toBe(Date.parse("2026-12-04T19:00:00Z"));
    // Positions count the bytes the entries hold (a CR included) plus one per line.
    let position = 0;
    for (const [i, line] of lines.entries()) {
      position += (expected[i] as Buffer).length + 1;
      expect(line.position).toBe(position);
    }
    expect(agent.stderr).not.toMatch(/decoded text/);

    // A server reading the stream shows each line as the file backend shows the file.
    const serve = start(process.execPath, [CLI, "serve", "--redis", server.url, "--port", "0"]);
    let out = "";
    serve.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const exited = new Promise((resolve) => serve.once("exit", resolve));
    stops.push(async () => {
      serve.kill("SIGTERM");
      await exited;
    });
    const url = await waitFor(() => /at (http:\/\/\S+)/.exec(out)?.[1], {
      timeoutMs: 20_000,
      message: "url",
    });
    const fromRedis = await TestClient.connect(`${url.replace(/^http/, "ws")}/ws`);
    stops.push(() => fromRedis.close());
    await fromRedis.subscribe("app", { tail: 100 });
    await fromRedis.waitForLines(expected.length, "app");
    const redisLines = fromRedis.lines("app");

    const files = await startServer([{ name: "app", file: dir.file("app.log.1") }]);
    stops.push(() => files.close());
    const fromFile = await TestClient.connect(`${files.wsUrl}/ws`);
    stops.push(() => fromFile.close());
    await fromFile.subscribe("app", { tail: 100 });
    await fromFile.waitForLines(terminated, "app");
    const fileLines = fromFile.lines("app");
    const view = (l: FrameLine) => ({ text: l.text, trunc: l.trunc });
    // The file backend holds the unterminated line back while the file may still grow: the lines before it.
    expect(redisLines.slice(0, terminated).map(view)).toEqual(fileLines.slice(0, terminated).map(view));
    expect(fileLines[2]?.text).toBe("bad \uFFFD\uFFFD bytes");
    expect(fileLines[terminated - 1]?.trunc).toBe(2 * MiB + 1);
    expect(redisLines.slice(terminated).map(view)).toEqual(
      [first.lines[terminated] as Buffer, ...second.map(dataOf)].map((data, i) => ({
        text: shown(data, i > 0),
        trunc: undefined,
      })),
    );
  });

  it("ships a line past 16 MiB as its first 16 MiB with its real length (c)", async () => {
    const dir = await tempDir();
    const log = dir.file("app.log");
    const long = Buffer.concat([u("é".repeat(8 * MiB)), u("z".repeat(MiB))]);
    await writeFile(log, Buffer.concat([long, u("\nafter\n")]));
    const server = await startRedis();
    servers.push(server);
    const reader = client(server.url);
    stops.push(async () => reader.disconnect());
    const agent = startAgent([`app=${log}`, "--redis", server.url]);
    stops.push(async () => {
      agent.child.kill("SIGTERM");
      await agent.exited;
    });
    await waitFor(async () => (await streamLength(reader, "app")) === 2, { timeoutMs: 60_000 });
    const [cut, after] = await readStream(reader, "app");
    expect(cut?.kind === "line" && cut.bytes.equals(long.subarray(0, 16 * MiB))).toBe(true);
    expect(cut?.kind === "line" && cut.cutFrom).toBe(long.length);
    expect(after?.kind === "line" && after.bytes.toString()).toBe("after");
    expect(after?.kind === "line" && after.position).toBe(16 * MiB + 1 + 6);
  });

  it("marks a line whose bytes were gone before they could be read (d), and keeps the order around it", async () => {
    const dir = await tempDir();
    const log = dir.file("app.log");
    // The agent holds "half \xff" back as a partial line; the file is then truncated and rewritten (copytruncate):
    // the line is delivered unterminated, and its bytes are no longer in the file.
    await writeFile(log, Buffer.concat([u("first\nhalf "), b("\xff")]));
    const server = await startRedis();
    servers.push(server);
    const reader = client(server.url);
    stops.push(async () => reader.disconnect());
    const agent = startAgent([`app=${log}`, "--redis", server.url]);
    stops.push(async () => {
      agent.child.kill("SIGTERM");
      await agent.exited;
    });
    await waitFor(async () => (await streamLength(reader, "app")) === 1, { timeoutMs: 20_000 });
    await writeFile(log, "other content\n");
    await waitFor(async () => (await streamLength(reader, "app")) === 4, { timeoutMs: 20_000 });
    const records = await readStream(reader, "app");
    expect(records.map((r) => r.kind)).toEqual(["line", "line", "gap", "line"]);
    const [, half, gap, other] = records;
    expect(half).toMatchObject({ kind: "line", decoded: true, bytes: u("half \uFFFD") });
    expect(gap).toMatchObject({ kind: "gap", reason: "truncated" });
    expect(other).toMatchObject({ kind: "line", bytes: u("other content") });
    expect(other).not.toHaveProperty("decoded");
    await waitFor(() => /1 line\(s\) shipped as decoded text/.test(agent.stderr), { timeoutMs: 5000 });
  });
});
