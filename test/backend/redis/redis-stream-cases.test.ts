import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { FeedEvent } from "../../../src/backend/backend.js";
import { decodeEntry, encodeGap, encodeLine, streamKey, topAfter } from "../../../src/backend/redis/entry.js";
import { StaleCursorError } from "../../../src/core/cursor.js";
import type { Line } from "../../../src/core/line.js";
import { startRedis } from "../../helpers/redis-server.js";
import { waitFor } from "../../helpers/wait-for.js";
import { numbered } from "../contract/stream-backend.contract.js";
import { RedisFixture } from "./redis-fixture.js";

const redis = new RedisFixture();
beforeAll(() => redis.start());
afterAll(() => redis.stop());

const texts = (lines: readonly Line[]) => lines.map((l) => l.text);

/** Writes raw entries as a writer would, through the codec: lines and gap markers. */
async function writeRaw(name: string, items: ({ gap: string; skipped?: number } | string)[]): Promise<void> {
  const key = streamKey(name);
  const raw = (await redis.client.xrevrangeBuffer(key, "+", "-", "COUNT", 1))[0];
  let top = topAfter(raw === undefined ? null : decodeEntry(raw[0], raw[1]));
  for (const item of items) {
    const entry =
      typeof item === "string"
        ? encodeLine(top, { bytes: Buffer.from(item) })
        : encodeGap(top, {
            reason: item.gap,
            ...(item.skipped === undefined ? {} : { skipped: item.skipped }),
          });
    await redis.client.xadd(key, entry.id, ...entry.fields);
    top = entry.top;
  }
}

describe("RedisBackend: what only a Redis stream does", () => {
  it("a cursor whose entries retention trimmed resumes with a trimmed gap counted from the q numbers", async () => {
    const name = redis.name();
    await redis.append(name, numbered(0, 20));
    const backend = redis.backend(name);
    const early = (await backend.tailCursor(15)) as string; // after entry 4 (q 5)
    await redis.client.xtrim(streamKey(name), "MAXLEN", 10); // keeps q 11..20
    const plan = await backend.resumeFrom(early, null);
    expect(plan).toMatchObject({ kind: "gap", reason: "trimmed", skipped: 5 });
    await expect(backend.readAfter(early, 1)).rejects.toMatchObject({ reason: "trimmed" });
    const to = (plan as { to: string }).to;
    expect(texts((await backend.readAfter(to, 100)).lines)).toEqual(numbered(10, 10));
    const first = await backend.readAfter(null, 3);
    expect(first.atStart).toBe(true);
    expect(first.lines[0]?.seq).toBe(11);
    // A cursor exactly at the oldest kept entry lost nothing.
    expect(await backend.resumeFrom(to, null)).toEqual({ kind: "continue", from: to });
  });

  it("gap markers are gap events live, end history pages, and resume after the marker", async () => {
    const name = redis.name();
    await writeRaw(name, ["one", "two"]);
    const backend = redis.backend(name);
    const events: FeedEvent[] = [];
    const feed = await backend.follow({ tail: 10 }, (e) => events.push(e));
    try {
      const beforeGap = feed.cursor as string;
      await writeRaw(name, [{ gap: "truncated", skipped: 3 }, "three", { gap: "new-word" }, "four"]);
      await waitFor(() => events.filter((e) => e.type === "lines").length >= 3, {
        message: "lines after gaps",
      });
      const kinds = events.map((e) => (e.type === "lines" ? texts(e.lines).join(",") : e.type));
      expect(kinds).toEqual(["one,two", "gap", "three", "gap", "four"]);
      const gap = events[1] as FeedEvent & { type: "gap" };
      expect(gap).toMatchObject({ reason: "truncated", from: beforeGap, skipped: 3 });
      expect(events[3]).toMatchObject({ type: "gap", reason: "file-changed" });
      expect(feed.cursor).toBe((events[4] as { lines: Line[] }).lines[0]?.cursor);

      // History: the page ends before the marker; reading on from there is a gap; resuming goes after it.
      const page = await backend.readAfter(null, 100);
      expect(texts(page.lines)).toEqual(["one", "two"]);
      expect(page.more).toBe(true);
      await expect(backend.readAfter(page.cursor, 100)).rejects.toBeInstanceOf(StaleCursorError);
      const plan = await backend.resumeFrom(page.cursor, feed.cursor);
      expect(plan).toEqual({ kind: "gap", reason: "truncated", to: gap.to, skipped: 3 });
      expect(texts((await backend.readAfter(gap.to, 100)).lines)).toEqual(["three"]);
      // Paging back crosses markers one page at a time; a tail stops at the newest one.
      const back = await backend.readBefore(feed.cursor as string, 100);
      expect(texts(back.lines)).toEqual(["four"]);
      expect(texts((await backend.readBefore(back.cursor, 100)).lines)).toEqual(["three"]);
      expect(texts((await backend.tail(10)).lines)).toEqual(["four"]);
    } finally {
      await feed.close();
    }
  });

  it("hostile and foreign entries: shown as text when they are lines, skipped with an error when not", async () => {
    const name = redis.name();
    const key = streamKey(name);
    const backend = redis.backend(name, { maxLineBytes: 1024 });
    await writeRaw(name, ["before"]);
    const events: FeedEvent[] = [];
    const feed = await backend.follow({ tail: 10 }, (e) => events.push(e));
    try {
      // Invalid UTF-8 and a line far longer than maxLineBytes, through the codec.
      await writeRaw(name, [Buffer.from([0xc3, 0x28, 0xff]).toString("latin1"), "x".repeat(1 << 20)]);
      const raw = (await redis.client.xrevrangeBuffer(key, "+", "-", "COUNT", 1))[0] as [Buffer, Buffer[]];
      const next = Number(raw[0].toString().split("-")[0]) + 4;
      // By hand: raw bytes with a q out of order, a line without q, a marker with junk fields, a second ID
      // part, then another writer's auto ID and fields of its own, and one more line above it.
      await redis.client.xadd(key, `${next}-0`, "l", Buffer.from([0xff, 0xfe, 0x0a]), "q", "1");
      await redis.client.xadd(key, `${next + 10}-0`, "l", "no q");
      await redis.client.xadd(key, `${next + 20}-0`, "k", "gap", "r", Buffer.alloc(100_000, 0x07), "q", "x");
      await redis.client.xadd(key, `${next + 20}-7`, "l", "sub", "q", "9");
      const foreign = await redis.client.xadd(key, "*", "message", "hello");
      const above = Number(String(foreign).split("-")[0]) + 100;
      await redis.client.xadd(key, `${above}-0`, "l", "after", "q", "10");
      await waitFor(() => events.some((e) => e.type === "lines" && e.lines.some((l) => l.text === "after")), {
        message: "the line after the hostile entries",
      });
      const lines = events.flatMap((e) => (e.type === "lines" ? e.lines : []));
      expect(lines.map((l) => l.text.slice(0, 10))).toEqual([
        "before",
        "\u00c3(\u00ff",
        "x".repeat(10),
        "\ufffd\ufffd\n",
        "after",
      ]);
      expect(lines[2]?.truncatedFrom).toBe(1 << 20);
      expect(lines[2]?.text).toHaveLength(1024);
      const errors = events.filter((e) => e.type === "error");
      expect(errors.map((e) => (e as { error: Error }).error.message)).toEqual([
        expect.stringMatching(/did not write: line entry \d+-0 has no valid sequence number/),
        expect.stringMatching(/did not write: entry ID \d+-7 is not livetrail's/),
        expect.stringMatching(/did not write: entry \d+-0 has no line field/),
      ]);
      const gap = events.find((e) => e.type === "gap");
      expect(gap).toMatchObject({ reason: "file-changed" });
      expect(gap).not.toHaveProperty("skipped");
      // History reads the same lines and never throws on the foreign ones.
      const history = await backend.readAfter(null, 100);
      expect(texts(history.lines).map((t) => t.slice(0, 10))).toEqual(
        lines.slice(0, 4).map((l) => l.text.slice(0, 10)),
      );
      expect(history.more).toBe(true); // the marker ends the page
      // A foreign entry between a line and a marker does not hide the gap from a reader at that line.
      const plan = await backend.resumeFrom(history.cursor, feed.cursor);
      expect(plan).toMatchObject({ kind: "gap", reason: "file-changed" });
      await expect(backend.readAfter(history.cursor, 10)).rejects.toBeInstanceOf(StaleCursorError);
      expect(texts((await backend.readAfter((plan as { to: string }).to, 10)).lines)).toEqual(["after"]);
      const search = await backend.search({
        q: "after",
        regex: false,
        caseSensitive: true,
        limit: 10,
        timeoutMs: 5000,
      });
      expect(texts(search.matches)).toEqual(["after"]);
    } finally {
      await feed.close();
    }
  });

  it("a stream that does not exist yet: the feed says missing, then delivers its first lines", async () => {
    const name = redis.name();
    const backend = redis.backend(name);
    expect(await backend.tailCursor(10)).toBeNull();
    const events: FeedEvent[] = [];
    const feed = await backend.follow({ tail: 10 }, (e) => events.push(e));
    try {
      expect(events).toEqual([{ type: "missing" }]);
      expect(feed.cursor).toBeNull();
      await redis.append(name, numbered(0, 3));
      await waitFor(() => events.length === 2, { message: "first lines" });
      expect(texts((events[1] as { lines: Line[] }).lines)).toEqual(numbered(0, 3));
    } finally {
      await feed.close();
    }
  });
});

describe("RedisBackend: Redis restarted under a live feed", () => {
  it("the feed reports the outage, goes on from its own ID when Redis is back, and loses or doubles nothing", async () => {
    const own = new RedisFixture();
    own.server = await startRedis({ aof: true });
    const { commandConnection } = await import("../../../src/backend/redis/redis-connection.js");
    own.client = commandConnection(own.server.url);
    await own.client.ping();
    const name = own.name();
    const backend = own.backend(name);
    const seen: Line[] = [];
    const errors: Error[] = [];
    /** Anything else but the first `missing` (the stream does not exist yet): resets, gaps. */
    const resets: FeedEvent[] = [];
    const feed = await backend.follow({ tail: 0 }, (e) => {
      if (e.type === "lines") seen.push(...e.lines);
      else if (e.type === "error") errors.push(e.error);
      else if (e.type !== "missing") resets.push(e);
    });
    let server = own.server;
    try {
      await own.append(name, numbered(0, 100));
      await waitFor(() => seen.length === 100, { message: "lines before the restart" });
      await server.stop({ keepDir: true });
      await waitFor(() => errors.length > 0, { message: "the feed reports the outage" });
      server = await startRedis({ aof: true, port: server.port, dir: server.dir });
      await waitFor(async () => (await own.client.ping().catch(() => null)) === "PONG", {
        message: "reconnected",
      });
      await own.append(name, numbered(100, 100));
      await waitFor(() => seen.length >= 200, { message: "lines after the restart" });
      expect(texts(seen)).toEqual(numbered(0, 200));
      expect(seen.map((l) => l.seq)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
      expect(errors[0]?.message).toMatch(/Redis read failed .*reconnecting/);
      expect(resets).toEqual([]);
    } finally {
      await feed.close();
      own.client.disconnect();
      await server.stop();
      const { rm } = await import("node:fs/promises");
      await rm(server.dir, { recursive: true, force: true });
    }
  });
});

describe("RedisBackend: Redis restarted without its data", () => {
  it("the feed reports a restarted reset and delivers the new stream from its start; old cursors get a gap", async () => {
    const own = new RedisFixture();
    own.server = await startRedis();
    const { commandConnection } = await import("../../../src/backend/redis/redis-connection.js");
    own.client = commandConnection(own.server.url);
    await own.client.ping();
    const name = own.name();
    const backend = own.backend(name);
    const events: FeedEvent[] = [];
    const feed = await backend.follow({ tail: 0 }, (e) => events.push(e));
    let server = own.server;
    try {
      await own.append(name, numbered(0, 50));
      await waitFor(
        () => events.some((e) => e.type === "lines" && e.lines.length > 0 && e.lines.at(-1)?.seq === 50),
        {
          message: "50 lines",
        },
      );
      const old = feed.cursor as string;
      await server.stop(); // no AOF: the data is gone
      server = await startRedis({ port: server.port });
      await waitFor(async () => (await own.client.ping().catch(() => null)) === "PONG", {
        message: "reconnected",
      });
      await own.append(name, numbered(0, 3));
      await waitFor(() => events.some((e) => e.type === "reset"), { message: "a reset" });
      const at = events.findIndex((e) => e.type === "reset");
      expect(events[at]).toEqual({ type: "reset", reason: "restarted", cursor: "x.0.0" });
      const linesSince = () => events.slice(at).flatMap((e) => (e.type === "lines" ? e.lines : []));
      await waitFor(() => linesSince().length === 3, { message: "the new stream's lines after the reset" });
      expect(texts(linesSince())).toEqual(numbered(0, 3));
      const plan = await backend.resumeFrom(old, feed.cursor);
      expect(plan).toMatchObject({ kind: "gap", reason: "restarted" });
    } finally {
      await feed.close();
      own.client.disconnect();
      await server.stop();
    }
  });
});
