/**
 * 9. Paused catch-up: the memory bound for clients that ask for a large catch-up and then stop reading.
 * livetrail serves a ~42 MB audit log (~440k lines of 100 bytes). One normal client subscribes live and its
 * append→receipt latency is measured at 20 lines/s for 10 s ("unloaded"); then 60 clients connect, each
 * subscribes with `tail: 100000` and pauses its socket right after sending (it never reads again), and the
 * normal client is measured again for 10 s ("loaded") while the server holds whatever it queued for the 60.
 * Server RSS right before the paused clients connect, its peak (sampled every 100 ms, and the kernel's VmHWM
 * reset before the phase), at the end of the loaded phase, and once more after 5 s idle (kept memory or garbage
 * not yet returned). The growth (peak − before) must stay below 60 × (maxBufferedBytes + maxFrameBytes) + 50 MB:
 * a client's queue plus the one frame being built for it, and room for the heap's own growth. Both limits are
 * passed to the server in a config file, so the bound is the one the server runs with. The paused clients live
 * in the runner process (they do nothing once paused), the normal client in a client process; every paused
 * socket is closed at the end of the run, or by a timer of its own after a hard deadline.
 */
import {
  appendFileSync,
  closeSync,
  copyFileSync,
  openSync,
  readFileSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import { join } from "node:path";
import WebSocket from "ws";
import { ClientPool } from "../lib/client-pool.js";
import { writePaced } from "../lib/lines.js";
import { nowMs, procStat, resetPeak, sleep, startSampler, treeStat } from "../lib/proc.js";
import { summarizeRecords } from "../lib/stats.js";
import { systems } from "../lib/systems/index.js";
import { livetrailCounters } from "../lib/systems/livetrail.js";

const MB = 2 ** 20;
const PAUSED = 60;
const TAIL = 100_000;
const FILE_BYTES = 42 * MB;
const LINE_BYTES = 100; // including the newline: 42 MiB is ~440k lines
const RATE = 20; // lines/s for the normal client
/** The server's limits, passed explicitly (they are also livetrail's defaults, src/server/options.ts). */
const MAX_BUFFERED_BYTES = 4 * MB;
const MAX_FRAME_BYTES = 256 * 1024;
const SLACK_MB = 50;
const BOUND_MB = (PAUSED * (MAX_BUFFERED_BYTES + MAX_FRAME_BYTES)) / MB + SLACK_MB;

const REPAIRS = [
  "Restarted Grafana container",
  "Cleared old journal files",
  "Restarted PostgreSQL",
  "Renewed TLS certificate",
  "Rotated nginx access logs",
  "Remounted /data read-write",
  "Restarted node-exporter",
  "Pruned stale Docker volumes",
];
const PAD = "x".repeat(LINE_BYTES);

/** `[2025-12-17T17:40:37Z]` for a time in ms. */
const stampOf = (/** @type {number} */ ms) => `[${new Date(ms).toISOString().slice(0, 19)}Z]`;

/**
 * One audit line (with "\n") of LINE_BYTES bytes: `[TS] Auto-repair: WHAT seq=N t=T xxx…`.
 * @param {number} seq
 * @param {number} t monotonic write time in ms (0 for history lines)
 * @param {string} stamp
 */
function auditLine(seq, t, stamp) {
  const i = Math.abs(seq);
  const head = `${stamp} Auto-repair: ${REPAIRS[i % REPAIRS.length]} seq=${seq} t=${t.toFixed(3)} `;
  const padLen = LINE_BYTES - 1 - head.length;
  return `${head}${padLen > 0 ? PAD.slice(0, padLen) : ""}\n`;
}

/** A live line: stamped with the wall clock, carrying the monotonic write time for the latency. */
const liveLine = (/** @type {number} */ seq, /** @type {number} */ t) =>
  auditLine(seq, t, stampOf(Date.now()));

/**
 * The history: ~bytes of audit lines, ten per second of log time from 2025-12-17T00:00:00Z.
 * @param {string} path
 * @param {number} bytes
 */
function writeHistory(path, bytes) {
  const t0 = Date.parse("2025-12-17T00:00:00Z");
  const lines = Math.floor(bytes / LINE_BYTES);
  const fd = openSync(path, "w");
  let written = 0;
  try {
    let chunk = "";
    let stamp = "";
    for (let i = 0; i < lines; i++) {
      if (i % 10 === 0) stamp = stampOf(t0 + (i / 10) * 1000);
      chunk += auditLine(i, 0, stamp);
      if (chunk.length >= MB) {
        written += writeSync(fd, chunk);
        chunk = "";
      }
    }
    if (chunk) written += writeSync(fd, chunk);
  } finally {
    closeSync(fd);
  }
  if (written !== lines * LINE_BYTES) throw new Error(`history lines are not ${LINE_BYTES} bytes each`);
  return { bytes: written, lines };
}

/**
 * Open a raw client that subscribes with `tail` to the default stream named in hello and stops reading at
 * once: ws.pause() pauses the TCP socket (and keeps ws from resuming it), so the kernel buffers fill and the
 * rest stays queued in the server. The socket is destroyed by `deadlineMs` at the latest.
 * @param {number} port
 * @param {number} tail
 * @param {number} deadlineMs
 * @returns {Promise<WebSocket>}
 */
function openPaused(port, tail, deadlineMs) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`, {
      perMessageDeflate: false,
      handshakeTimeout: 10_000,
    });
    const kill = setTimeout(() => ws.terminate(), deadlineMs);
    kill.unref();
    const noHello = setTimeout(() => {
      ws.terminate();
      reject(new Error("paused client: no hello within 10 s"));
    }, 10_000);
    let subscribed = false;
    ws.on("message", (data) => {
      if (subscribed) return; // a frame that was already read before the pause took effect
      const msg = JSON.parse(data.toString());
      if (msg.type !== "hello") return;
      const stream = (
        msg.streams.find((/** @type {{ default: boolean }} */ s) => s.default) ?? msg.streams[0]
      )?.name;
      ws.send(JSON.stringify({ type: "subscribe", stream, tail }));
      ws.pause();
      subscribed = true;
      clearTimeout(noHello);
      resolve(ws);
    });
    ws.on("error", (err) => {
      clearTimeout(noHello);
      if (!subscribed) reject(err);
    });
    ws.on("close", () => {
      clearTimeout(kill);
      clearTimeout(noHello);
      if (!subscribed) reject(new Error("paused client: closed before subscribing"));
    });
  });
}

/**
 * What the kernel holds for the connections to `port`, from /proc/net/tcp{,6}: bytes in the server sockets'
 * send queues and in the client sockets' receive queues (sent by the server, not yet read by the client).
 * That memory is the kernel's, not in the server's RSS; it says how much of the catch-up left the server.
 * @param {number} port
 */
function kernelQueued(port) {
  let send = 0;
  let recv = 0;
  for (const f of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = readFileSync(f, "utf8");
    } catch {
      continue;
    }
    for (const row of text.split("\n").slice(1)) {
      const c = row.trim().split(/\s+/);
      if (c.length < 5 || c[3] !== "01") continue; // ESTABLISHED only
      const localPort = Number.parseInt(String(c[1]).split(":")[1] ?? "", 16);
      const remotePort = Number.parseInt(String(c[2]).split(":")[1] ?? "", 16);
      const [tx = "0", rx = "0"] = String(c[4]).split(":");
      if (localPort === port) send += Number.parseInt(tx, 16);
      else if (remotePort === port) recv += Number.parseInt(rx, 16);
    }
  }
  return { send, recv };
}

/** Bytes a client has taken off its TCP socket. @param {any} ws a WebSocket */
const bytesRead = (ws) => ws._socket?.bytesRead ?? 0;

/**
 * Open `n` paused clients, `concurrency` at a time.
 * @param {number} port
 * @param {number} n
 * @param {number} deadlineMs
 * @param {number} [concurrency]
 */
async function openManyPaused(port, n, deadlineMs, concurrency = 10) {
  /** @type {WebSocket[]} */
  const out = [];
  let next = 0;
  let failed = 0;
  const one = async () => {
    while (next < n) {
      next++;
      try {
        out.push(await openPaused(port, TAIL, deadlineMs));
      } catch {
        failed++;
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, n) }, one));
  return { sockets: out, failed };
}

/** @param {import("../lib/context.js").Context} ctx */
export async function pausedCatchUp(ctx) {
  if (!ctx.systems.includes("livetrail"))
    return { params: { skipped: "livetrail not selected" }, systems: {} };
  const seconds = ctx.quick ? 3 : 10;
  const settleSeconds = ctx.quick ? 2 : 5;
  const runs = ctx.runs;
  const history = join(ctx.tmp, "paused-catch-up-history.log");
  const made = writeHistory(history, FILE_BYTES);
  ctx.log(`  paused-catch-up: history of ${made.lines} lines, ${(made.bytes / MB).toFixed(1)} MB`);
  /** @type {Record<string, number>[]} */
  const records = [];
  for (let run = 0; run < runs; run++)
    records.push(await pausedRun(ctx, history, run, seconds, settleSeconds));
  return {
    params: {
      pausedClients: PAUSED,
      tail: TAIL,
      fileMB: Math.round((made.bytes / MB) * 10) / 10,
      fileLines: made.lines,
      lineBytes: LINE_BYTES,
      linesPerSec: RATE,
      secondsPerPhase: seconds,
      settleSeconds,
      maxBufferedBytes: MAX_BUFFERED_BYTES,
      maxFrameBytes: MAX_FRAME_BYTES,
      slackMB: SLACK_MB,
      boundMB: BOUND_MB,
      runs,
    },
    systems: { livetrail: summarizeRecords(records) },
  };
}

/**
 * @param {import("../lib/context.js").Context} ctx
 * @param {string} history
 * @param {number} run
 * @param {number} seconds
 * @param {number} settleSeconds
 */
async function pausedRun(ctx, history, run, seconds, settleSeconds) {
  const file = join(ctx.tmp, `paused-catch-up-${run}.log`);
  copyFileSync(history, file);
  const config = join(ctx.tmp, "paused-catch-up.json");
  writeFileSync(
    config,
    JSON.stringify({ maxBufferedBytes: MAX_BUFFERED_BYTES, maxFrameBytes: MAX_FRAME_BYTES }),
  );
  const server = await /** @type {import("../lib/systems/types.js").System} */ (systems.livetrail).start({
    file,
    args: ["--config", config],
  });
  const pool = new ClientPool(1);
  /** @type {WebSocket[]} */
  let paused = [];
  try {
    const c = await pool.connect("livetrail", server.target, 1);
    if (c.failed)
      throw new Error(`paused-catch-up: normal client could not connect: ${c.errorSamples.join("; ")}`);
    let primer = -1;
    await pool.primeAll(() => appendFileSync(file, liveLine(primer--, 0)));
    const count = RATE * seconds;
    const phase = async (/** @type {number} */ firstSeq) => {
      await pool.track(firstSeq, count);
      await writePaced(file, { count, intervalMs: 1000 / RATE, firstSeq, line: liveLine });
      await pool.settle({ stallMs: 3000, timeoutMs: 30_000 });
      return pool.report();
    };

    const unloaded = await phase(0);
    await sleep(500);
    const before = treeStat(server.pid).rss;
    resetPeak(server.pid);
    const hwmAfterReset = procStat(server.pid)?.hwm ?? Number.POSITIVE_INFINITY;
    // Only a reset that worked makes VmHWM this phase's peak; otherwise the sampled peak is all we have.
    const hwmUsable = hwmAfterReset <= before + 8 * MB;
    const sampler = startSampler(server.pid, 100);
    const c0 = nowMs();
    // Hard deadline for the paused sockets: well past the loaded phase, whatever happens.
    const opened = await openManyPaused(server.port, PAUSED, (seconds + 60) * 1000);
    paused = opened.sockets;
    const connectMs = nowMs() - c0;
    const loaded = await phase(count);
    const end = treeStat(server.pid).rss;
    const sampled = sampler.stop();
    const hwm = hwmUsable ? (procStat(server.pid)?.hwm ?? 0) : 0;
    const peak = Math.max(sampled.peakRss, hwm);
    const counters = await livetrailCounters(server.port);
    const readByPaused = paused.reduce((a, ws) => a + bytesRead(ws), 0);
    const kernel = kernelQueued(server.port);
    // Then idle (no appends, the paused clients still connected): what of the growth the server keeps.
    await sleep(settleSeconds * 1000);
    const settled = treeStat(server.pid).rss;
    const after = await livetrailCounters(server.port);

    const rec = {
      unloadedP50: unloaded.latency.p50,
      unloadedP99: unloaded.latency.p99,
      unloadedMax: unloaded.latency.max,
      loadedP50: loaded.latency.p50,
      loadedP99: loaded.latency.p99,
      loadedMax: loaded.latency.max,
      p99Ratio: loaded.latency.p99 / unloaded.latency.p99,
      normalLost: (unloaded.last?.lost ?? count) + (loaded.last?.lost ?? count),
      normalDup: (unloaded.last?.dup ?? 0) + (loaded.last?.dup ?? 0),
      rssBeforeMB: before / MB,
      peakRssMB: peak / MB,
      peakRssSampledMB: sampled.peakRss / MB,
      rssEndMB: end / MB,
      rssGrowthPeakMB: (peak - before) / MB,
      rssGrowthEndMB: (end - before) / MB,
      rssSettledMB: settled / MB,
      rssGrowthSettledMB: (settled - before) / MB,
      boundMB: BOUND_MB,
      withinBound: peak - before < BOUND_MB * MB ? 1 : 0,
      pausedConnected: paused.length,
      pausedFailed: opened.failed,
      pausedConnectSeconds: connectMs / 1000,
      // What the paused clients took off their sockets in all (hello, the frames read before the pause).
      pausedReadKBEach: paused.length ? readByPaused / paused.length / 1024 : 0,
      // Catch-up bytes in the kernel's socket buffers per paused client (outside the server's RSS).
      kernelQueuedMBEach: paused.length ? (kernel.send + kernel.recv) / paused.length / MB : 0,
      // Every connection still open at the end (the paused ones plus the normal one), from /metrics.
      clientsAtEnd: counters.livetrail_clients ?? Number.NaN,
      heartbeatDrops: counters.livetrail_heartbeat_timeouts_total ?? 0,
      clientsAfterSettle: after.livetrail_clients ?? Number.NaN,
      heartbeatDropsAfterSettle: after.livetrail_heartbeat_timeouts_total ?? 0,
      maxQueuedMB: (counters.livetrail_client_buffered_bytes_max ?? Number.NaN) / MB,
      serverCpuSeconds: sampled.cpuS,
    };
    ctx.log(
      `  paused-catch-up run ${run + 1}: ${paused.length}/${PAUSED} paused clients (tail ${TAIL}) in ${(connectMs / 1000).toFixed(1)} s, ` +
        `${rec.clientsAtEnd} clients open at the end, heartbeat drops ${rec.heartbeatDrops}; RSS before ${rec.rssBeforeMB.toFixed(0)} MB, ` +
        `peak ${rec.peakRssMB.toFixed(0)} MB (sampled ${rec.peakRssSampledMB.toFixed(0)}), end ${rec.rssEndMB.toFixed(0)} MB: ` +
        `growth ${rec.rssGrowthPeakMB.toFixed(0)} MB (end ${rec.rssGrowthEndMB.toFixed(0)}) vs bound ${BOUND_MB.toFixed(0)} MB: ` +
        `${rec.withinBound ? "within" : "OVER"}; ${settleSeconds} s later ${rec.rssSettledMB.toFixed(0)} MB ` +
        `(${rec.clientsAfterSettle} clients open); largest queue in the server ${rec.maxQueuedMB.toFixed(1)} MB, in the kernel ` +
        `${rec.kernelQueuedMBEach.toFixed(1)} MB per paused client, read by each ${rec.pausedReadKBEach.toFixed(0)} KB; normal client p50/p99 ` +
        `${rec.unloadedP50.toFixed(2)}/${rec.unloadedP99.toFixed(2)} ms unloaded, ${rec.loadedP50.toFixed(2)}/${rec.loadedP99.toFixed(2)} ms loaded ` +
        `(p99 ×${rec.p99Ratio.toFixed(2)}), lost ${rec.normalLost} dup ${rec.normalDup}`,
    );
    if (rec.normalLost || rec.normalDup) {
      ctx.fail(`paused-catch-up: the normal client lost ${rec.normalLost}, duplicated ${rec.normalDup}`);
    }
    return rec;
  } finally {
    for (const ws of paused) ws.terminate();
    await pool.close();
    await server.stop();
  }
}
