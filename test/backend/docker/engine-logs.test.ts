import type { ServerResponse } from "node:http";
import { describe, expect, it } from "vitest";
import type { StreamBackend } from "../../../src/backend/backend.js";
import { DockerContainers } from "../../../src/backend/docker/docker-containers.js";
import { EngineApi } from "../../../src/backend/docker/engine-api.js";
import { EngineLogsBackend } from "../../../src/backend/docker/engine-logs.js";
import { parseDockerTime, StampedLines, sinceParam } from "../../../src/backend/docker/engine-logs-stamps.js";
import { LogFrameDecoder } from "../../../src/backend/docker/log-frames.js";
import { RingBackend } from "../../../src/backend/ring/ring-backend.js";
import type { Line } from "../../../src/core/line.js";
import { useTempDirs } from "../../helpers/temp-dir.js";
import { waitFor } from "../../helpers/wait-for.js";
import { makeContainer } from "./docker-dir.js";
import { EngineLogsStandIn, frame, type LogsScript, stamp } from "./engine-logs-stand-in.js";

const tempDir = useTempDirs("livetrail-engine-logs-");

const T1 = stamp(1, 100);
const T2 = stamp(2, 200);
const T3 = stamp(3, 300);
const T4 = stamp(4, 400);

/** What a test compares: text, channel, time and the marks. */
const seen = (l: Line) => ({
  text: l.text,
  ...(l.channel === undefined ? {} : { channel: l.channel }),
  ...(l.time === undefined ? {} : { time: l.time }),
  ...(l.truncatedFrom === undefined ? {} : { truncatedFrom: l.truncatedFrom }),
  ...(l.unterminated === undefined ? {} : { unterminated: true }),
  bytes: l.end - l.start,
});

/** Interleaved stdout/stderr frames: a stdout line in two frames around a whole stderr line, a multi-byte char. */
const INTERLEAVED = Buffer.concat([
  frame(1, `${T1} héllo wor`),
  frame(2, `${T2} oops ✓\n`),
  frame(1, "ld\n"),
  frame(1, `${T3} second\r\n`),
]);
const INTERLEAVED_LINES = [
  { text: "oops ✓", channel: "stderr", time: T2, bytes: Buffer.byteLength("oops ✓\n") },
  { text: "héllo world", time: T1, bytes: Buffer.byteLength("héllo world\n") },
  { text: "second", time: T3, bytes: "second\r\n".length },
];

/** The decoding path of EngineLogsBackend without a socket: frames -> per-channel stamps -> a ring. */
function decodeInto(ring: RingBackend): { push: (b: Buffer) => void; end: () => void; lines: Line[] } {
  const lines: Line[] = [];
  const times = { stdout: [] as (string | undefined)[], stderr: [] as (string | undefined)[] };
  void ring.follow({ tail: 0 }, (e) => {
    if (e.type !== "lines") return;
    for (const l of e.lines) {
      const t = (l.channel === "stderr" ? times.stderr : times.stdout).shift();
      if (t !== undefined) l.time = t;
      lines.push(l);
    }
  });
  const out = new StampedLines(ring.openInput(), { after: null, onLine: (t) => times.stdout.push(t?.iso) });
  const err = new StampedLines(ring.openInput("stderr"), {
    after: null,
    onLine: (t) => times.stderr.push(t?.iso),
  });
  const frames = new LogFrameDecoder((c, b) => (c === "stderr" ? err : out).write(b));
  return {
    push: (b) => frames.push(b),
    end: () => {
      out.end();
      err.end();
    },
    lines,
  };
}

describe("Docker log stream decoding (Engine API v1.43 'Stream format')", () => {
  it("decodes interleaved frames cut at every byte (inside headers, stamps and UTF-8 characters)", () => {
    for (let cut = 0; cut <= INTERLEAVED.length; cut++) {
      for (const second of [cut, Math.min(INTERLEAVED.length, cut + 3)]) {
        const d = decodeInto(new RingBackend("t", { maxLines: 100, maxBytes: 1 << 20 }));
        d.push(INTERLEAVED.subarray(0, cut));
        d.push(INTERLEAVED.subarray(cut, second));
        d.push(INTERLEAVED.subarray(second));
        d.end();
        expect(d.lines.map(seen), `cut at ${cut} and ${second}`).toEqual(INTERLEAVED_LINES);
      }
    }
  });

  it("refuses a stream that is not frames (a bad header), and parses Docker's times exactly", () => {
    const frames = new LogFrameDecoder(() => undefined);
    expect(() => frames.push(Buffer.from("2026-12-04T23:00:00Z plain text\n"))).toThrow(/not a multiplexed/);
    const t = parseDockerTime("2026-12-04T23:00:01.000000100Z");
    expect(t?.ns).toBe(BigInt(Date.UTC(2026, 11, 4, 23, 0, 1)) * 1_000_000n + 100n);
    expect(sinceParam(t?.ns as bigint)).toBe(`${Date.UTC(2026, 11, 4, 23, 0, 1) / 1000}.000000100`);
    expect(parseDockerTime("yesterday")).toBeNull();
  });
});

/** Writes the pieces one by one, a little apart, so they reach the client as separate chunks (mostly). */
async function dribble(res: ServerResponse, pieces: Buffer[]): Promise<void> {
  for (const piece of pieces) {
    res.write(piece);
    await new Promise((r) => setTimeout(r, 15));
  }
}

function cutAt(bytes: Buffer, cuts: number[]): Buffer[] {
  const pieces: Buffer[] = [];
  let from = 0;
  for (const to of [...cuts, bytes.length]) {
    pieces.push(bytes.subarray(from, to));
    from = to;
  }
  return pieces;
}

async function withStandIn(
  containers: { name: string; driver: string; tty: boolean }[],
  script: LogsScript,
  body: (standIn: EngineLogsStandIn, api: EngineApi, ids: string[]) => Promise<void>,
): Promise<void> {
  const dir = await tempDir();
  const ids = containers.map((_, i) =>
    String(i + 1)
      .repeat(64)
      .slice(0, 64),
  );
  const standIn = new EngineLogsStandIn(
    dir.file("docker.sock"),
    containers.map((c, i) => ({ ...c, id: ids[i] as string })),
    script,
  );
  await standIn.start();
  try {
    await body(standIn, new EngineApi(`unix://${standIn.socketPath}`), ids);
  } finally {
    await standIn.stop();
  }
}

function logsBackend(api: EngineApi, id: string, tty: boolean, maxLineBytes = 65_536): EngineLogsBackend {
  return new EngineLogsBackend("c", {
    engine: api,
    id,
    driver: "local",
    tty,
    ring: { maxLines: 50, maxBytes: 1 << 20, maxLineBytes },
    backoff: { initialMs: 20, maxMs: 200, resetAfterMs: 10_000 },
    about: () => ({ kind: "container", state: "running" }),
  });
}

async function following(backend: EngineLogsBackend): Promise<{ lines: Line[]; close: () => Promise<void> }> {
  const lines: Line[] = [];
  const feed = await backend.follow({ tail: 100 }, (e) => {
    if (e.type === "lines") lines.push(...e.lines);
  });
  return { lines, close: () => feed.close() };
}

describe("EngineLogsBackend against a stand-in Engine API v1.43 on a Unix socket", () => {
  it("a container without a TTY: frames cut inside a header and inside a UTF-8 character", async () => {
    // Cuts: 3 (inside the first header), inside "é" of héllo, inside the second header, inside "✓".
    const e = INTERLEAVED.indexOf(Buffer.from("é")) + 1;
    const second = frame(1, `${T1} héllo wor`).length;
    const check = INTERLEAVED.indexOf(Buffer.from("✓")) + 2;
    const script: LogsScript = (_q, res) => void dribble(res, cutAt(INTERLEAVED, [3, e, second + 5, check]));
    await withStandIn([{ name: "web", driver: "local", tty: false }], script, async (standIn, api, [id]) => {
      const backend = logsBackend(api, id as string, false);
      const feed = await following(backend);
      await waitFor(() => feed.lines.length === 3, { message: "three lines" });
      expect(feed.lines.map(seen)).toEqual(INTERLEAVED_LINES);
      const q = standIn.logRequests[0] as URLSearchParams;
      expect(Object.fromEntries(q)).toEqual({
        follow: "1",
        stdout: "1",
        stderr: "1",
        timestamps: "1",
        tail: "50",
      });
      expect(backend.about()).toEqual({
        kind: "container",
        state: "running",
        note: "read through the Engine API (log driver local): history is the last 50 lines",
      });
      await feed.close();
    });
  });

  it("a TTY container: raw bytes, one channel, stamps stripped", async () => {
    const raw = Buffer.from(`${T1} a\r\n${T2} b ✓\n`);
    const script: LogsScript = (_q, res) => void dribble(res, cutAt(raw, [10, raw.length - 3]));
    await withStandIn([{ name: "tty", driver: "journald", tty: true }], script, async (_s, api, [id]) => {
      const feed = await following(logsBackend(api, id as string, true));
      await waitFor(() => feed.lines.length === 2, { message: "two lines" });
      expect(feed.lines.map(seen)).toEqual([
        { text: "a", time: T1, bytes: 3 },
        { text: "b ✓", time: T2, bytes: Buffer.byteLength("b ✓\n") },
      ]);
      await feed.close();
    });
  });

  it("a stream that ends is resumed with since=<last time>: the resent line is dropped, none is lost", async () => {
    const script: LogsScript = (_q, res, n) => {
      if (n === 1) {
        // The container stops after b (its last line half written: kept, marked unterminated).
        res.end(Buffer.concat([frame(1, `${T1} a\n`), frame(2, `${T2} b\n`), frame(1, `${T3} half`)]));
        return;
      }
      // Docker's since is inclusive (q's since is checked below): the line at T3 comes again, then what was
      // written meanwhile.
      res.write(Buffer.concat([frame(1, `${T3} half\n`), frame(1, `${T4} c\n`)]));
    };
    await withStandIn([{ name: "web", driver: "local", tty: false }], script, async (standIn, api, [id]) => {
      const backend = logsBackend(api, id as string, false);
      const feed = await following(backend);
      await waitFor(() => feed.lines.some((l) => l.text === "c"), { message: "the line after the resume" });
      expect(feed.lines.map((l) => [l.text, l.time, l.channel ?? "stdout", l.unterminated ?? false])).toEqual(
        [
          ["a", T1, "stdout", false],
          ["b", T2, "stderr", false],
          ["half", T3, "stdout", true],
          ["c", T4, "stdout", false],
        ],
      );
      expect(standIn.logRequests).toHaveLength(2);
      expect(standIn.logRequests[0]?.has("since")).toBe(false);
      expect(standIn.logRequests[1]?.get("since")).toBe(sinceParam(parseDockerTime(T3)?.ns as bigint));
      expect(standIn.logRequests[1]?.get("since")).toBe(
        `${Date.UTC(2026, 11, 4, 23, 0, 3) / 1000}.000000300`,
      );
      expect(backend.connections).toBe(2);
      await feed.close();
    });
  });

  it("a frame header claiming 4 GiB is streamed, not buffered: the line is cut at maxLineBytes and marked", async () => {
    const payload = Buffer.concat([Buffer.from(`${T1} `), Buffer.alloc(300 * 1024, "x")]);
    const script: LogsScript = (_q, res) => {
      const hostile = frame(1, payload, 0xffff_ffff);
      void dribble(res, cutAt(hostile, [8, 100_000, 200_000])).then(() => res.end());
    };
    await withStandIn([{ name: "web", driver: "local", tty: false }], script, async (_s, api, [id]) => {
      const feed = await following(logsBackend(api, id as string, false, 1024));
      await waitFor(() => feed.lines.length === 1, { message: "the cut line" });
      expect(seen(feed.lines[0] as Line)).toEqual({
        text: "x".repeat(1024),
        time: T1,
        truncatedFrom: 300 * 1024,
        unterminated: true,
        bytes: 300 * 1024,
      });
      await feed.close();
    });
  });
});

describe("EngineLogsBackend: what is not a log stream", () => {
  it("a body that is not frames ends the connection and is the note; the daemon's own error frame (type 3) too", async () => {
    const system = Buffer.concat([Buffer.from([3, 0, 0, 0, 0, 0, 0, 11]), Buffer.from("disk full\r\n")]);
    const script: LogsScript = (_q, res, n) => {
      if (n === 1) res.end(`${T1} plain text, no frame header\n`);
      else res.end(Buffer.concat([frame(1, `${T2} ok\n`), system]));
    };
    await withStandIn([{ name: "web", driver: "local", tty: false }], script, async (_s, api, [id]) => {
      const backend = logsBackend(api, id as string, false);
      const errors: string[] = [];
      const lines: Line[] = [];
      const feed = await backend.follow({ tail: 10 }, (e) => {
        if (e.type === "error") errors.push(e.error.message);
        if (e.type === "lines") lines.push(...e.lines);
      });
      await waitFor(() => errors.length === 1, { message: "the error event" });
      expect(errors[0]).toMatch(/^the Engine API log stream failed: not a multiplexed log stream/);
      await waitFor(() => lines.length === 1, { message: "the line of the second connection" });
      expect(lines.map(seen)).toEqual([{ text: "ok", time: T2, bytes: 3 }]);
      await waitFor(() => backend.about().note?.startsWith("the Docker daemon said"), { message: "note" });
      expect(backend.about().note).toBe("the Docker daemon said: disk full");
      await feed.close();
    });
  });
});

describe("DockerContainers: containers on other log drivers through the Engine API", () => {
  it("serves a local container from the log stream, and shows a refused driver's error as the note", async () => {
    const dir = await tempDir();
    const local = await makeContainer(dir.path, { name: "app", driver: "local" });
    const syslog = await makeContainer(dir.path, { name: "sys", driver: "syslog" });
    const standIn = new EngineLogsStandIn(
      dir.file("docker.sock"),
      [
        { id: local.id, name: "app", driver: "local", tty: false },
        { id: syslog.id, name: "sys", driver: "syslog", tty: false },
      ],
      (_q, res) => void res.write(frame(2, `${T1} from local\n`)),
    );
    await standIn.start();
    const streams = new Map<string, StreamBackend>();
    const source = new DockerContainers({
      root: dir.path,
      host: `unix://${standIn.socketPath}`,
      rescanMs: 100,
      engineRing: { maxLines: 20, maxBytes: 1 << 20 },
      engineBackoff: { initialMs: 20, maxMs: 100, resetAfterMs: 10_000 },
    });
    const feeds: { close: () => Promise<void> }[] = [];
    try {
      await source.start((name, backend) => void streams.set(name, backend));
      expect([...streams.keys()].sort()).toEqual(["app", "sys"]);
      const lines: Line[] = [];
      for (const backend of streams.values()) {
        feeds.push(await backend.follow({ tail: 10 }, (e) => e.type === "lines" && lines.push(...e.lines)));
      }
      await waitFor(() => lines.length === 1, { message: "app's line" });
      expect(seen(lines[0] as Line)).toEqual({ text: "from local", channel: "stderr", time: T1, bytes: 11 });
      expect(streams.get("app")?.about?.()).toEqual({
        kind: "container",
        state: "running",
        note: "read through the Engine API (log driver local): history is the last 20 lines",
      });
      await waitFor(() => streams.get("sys")?.about?.().note?.includes("refuses"), { message: "sys's note" });
      expect(streams.get("sys")?.about?.().note).toBe(
        "the Engine API refuses this container's logs (log driver syslog): configured logging driver does not support reading",
      );
    } finally {
      for (const feed of feeds) await feed.close();
      await source.close();
      await standIn.stop();
    }
  });
});
