/**
 * livetrail under test: `node dist/bin/main.js serve FILE --port P`, JSON protocol at /ws (docs/protocol.md).
 * With `redis: { url, stream }` it serves that Redis stream instead (`serve --redis URL NAME`); `file` is then the
 * file a ship agent follows into it, where the bench writes.
 */
import { existsSync } from "node:fs";
import { basename, resolve } from "node:path";
import { canConnect, freePort, startProcess, waitFor } from "../proc.js";
import { closeWs, openWs } from "./ws-util.js";

// BENCH_LIVETRAIL_DIST points at another build (e.g. an older commit's dist/) to compare two versions; builds
// before the bundled CLI (d96a86e) have only dist/cli/main.js, and before protocol v2 send `lines` objects.
const DIST = process.env.BENCH_LIVETRAIL_DIST ?? resolve(import.meta.dirname, "../../../dist");
const CLI = existsSync(resolve(DIST, "bin/main.js"))
  ? resolve(DIST, "bin/main.js")
  : resolve(DIST, "cli/main.js");

/** @type {import("./types.js").System} */
export const livetrail = {
  name: "livetrail",
  async start({ file, poll = false, args = [], nodeArgs = [], redis, docker }) {
    const port = await freePort();
    // docker: { root, stream }: `serve --docker --docker-root ROOT` (no Engine API); `file` is the container's
    // json-file log, where the bench writes.
    const source = redis
      ? ["--redis", redis.url, redis.stream]
      : docker
        ? ["--docker", "--docker-root", docker.root, "--docker-host", "none"]
        : [file];
    const cmd = [CLI, "serve", ...source, "--port", String(port), ...(poll ? ["--no-watch"] : [])];
    // bench/profile.js sets this to run the server under --cpu-prof.
    const envArgs = process.env.BENCH_LIVETRAIL_NODE_ARGS?.split(" ").filter(Boolean) ?? [];
    const proc = startProcess(process.execPath, [...envArgs, ...nodeArgs, ...cmd, ...args]);
    await waitFor(
      async () => (await canConnect(port)) || (proc.child.exitCode !== null && fail(proc.stderr())),
      {
        timeoutMs: 30_000,
        what: "livetrail to listen",
      },
    );
    return {
      pid: proc.pid,
      port,
      target: { port, file, stream: redis?.stream ?? docker?.stream ?? basename(file) },
      stop: proc.stop,
      output: proc.stderr,
    };
  },

  async connect(target, { onLine, onGap, onClose, tailLines = 0 }) {
    let stream = target.stream;
    const ws = await openWs(`ws://127.0.0.1:${target.port}/ws`, {
      onClose,
      onBinary(data, recv) {
        binaryLines(data, (text) => onLine(text, recv));
      },
      onMessage(data, recv, sock) {
        const msg = JSON.parse(data);
        switch (msg.type) {
          case "lines":
            if (msg.text) for (const text of msg.text) onLine(text, recv);
            else for (const line of msg.lines) onLine(line.text, recv);
            return false;
          case "hello": {
            const def =
              msg.streams.find((/** @type {{default: boolean}} */ s) => s.default) ?? msg.streams[0];
            stream =
              stream && msg.streams.some((/** @type {{name: string}} */ s) => s.name === stream)
                ? stream
                : def?.name;
            // Binary lines frames where the server offers them (protocol.md, "The binary lines frame").
            const frames = msg.frames?.includes("binary") ? { frames: "binary" } : {};
            sock.send(JSON.stringify({ type: "subscribe", stream, tail: tailLines, ...frames }));
            return false;
          }
          case "subscribed":
            return true;
          case "gap":
            onGap?.(msg);
            return false;
          case "error":
            throw new Error(`livetrail error frame: ${data}`);
          default:
            return false;
        }
      },
    });
    return { close: () => closeWs(ws), pause: () => ws.pause(), resume: () => ws.resume() };
  },
};

/**
 * The texts of a binary lines frame (docs/protocol.md), decoded here rather than by the build under test, as a
 * JSON frame is by JSON.parse: one decode of the text block, then a slice per line (byte offsets are string
 * offsets when the frame says every byte is ASCII).
 * @param {Buffer} buf
 * @param {(text: string) => void} onText
 */
function binaryLines(buf, onText) {
  if (buf.length < 12 || buf[0] !== 0x4c || buf[1] !== 1)
    throw new Error("livetrail: not a binary lines frame");
  const ascii = /** @type {number} */ (buf[2] & 1) !== 0;
  const n = buf.readUInt32LE(4);
  const lengths = 12 + 4 * n;
  let at = lengths + 4 * n + buf.readUInt32LE(8);
  if (ascii) {
    const all = buf.toString("latin1", at);
    let from = 0;
    for (let i = 0; i < n; i++) {
      const to = from + buf.readUInt32LE(lengths + 4 * i);
      onText(all.slice(from, to));
      from = to;
    }
    return;
  }
  for (let i = 0; i < n; i++) {
    const to = at + buf.readUInt32LE(lengths + 4 * i);
    onText(buf.toString("utf8", at, to));
    at = to;
  }
}

/** @param {string} out */
function fail(out) {
  throw new Error(`livetrail exited before listening:\n${out}`);
}

/**
 * livetrail's own counters from /metrics, summed over labels: e.g. livetrail_slow_client_catchups_total.
 * @param {number} port
 * @returns {Promise<Record<string, number>>}
 */
export async function livetrailCounters(port) {
  /** @type {Record<string, number>} */
  const out = {};
  try {
    const text = await (await fetch(`http://127.0.0.1:${port}/metrics`)).text();
    for (const m of text.matchAll(/^(livetrail_[a-z_]+)(?:\{[^}]*\})? ([0-9.e+-]+)$/gm)) {
      out[/** @type {string} */ (m[1])] = (out[/** @type {string} */ (m[1])] ?? 0) + Number(m[2]);
    }
  } catch {}
  return out;
}
