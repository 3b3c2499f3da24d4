/**
 * Integrity while serving (docs/integrity.md, "Serving and API"), on real files, a real server (a child process,
 * `node dist/bin/main.js serve`) and a real WebSocket client:
 *
 * 1. the 1M-line burst (bench/lib/lines.js, 100-byte lines, 64 KiB writes) with sealing off and on
 *    (`--seal-key`), and with --baseline DIR also on with another build of livetrail (DIR/dist, e.g. one from
 *    before a change), interleaved, side by side: time until the client has every line, lines/s, the server's CPU
 *    seconds (all threads) and its main thread's (the one that feeds clients), the main thread's event-loop delay
 *    (bench/lib/loop-delay.js, preloaded) during the burst's delivery and after it (while it is sealed, >= 3 s),
 *    the write-to-client latency of probe lines written every 50 ms after the burst, and with sealing on how
 *    long after the burst began the newest checkpoint covers it;
 * 2. proof latency on a sealed log of 10M lines (--proof-lines): inclusion (random lines) and consistency (from
 *    random sizes) over HTTP, one request at a time, p50/p99/max; target < 5 ms.
 *
 * Needs dist/ (npm run build). JSON on stdout, progress on stderr.
 * Usage: node bench/integrity-serve.js [--rounds N] [--burst LINES] [--proof-lines LINES] [--proofs N]
 *        [--baseline DIR]
 */
import { spawn } from "node:child_process";
import {
  appendFileSync,
  closeSync,
  mkdtempSync,
  openSync,
  readFileSync,
  rmSync,
  writeFileSync,
  writeSync,
} from "node:fs";
import os from "node:os";
import { join, resolve } from "node:path";
import { WebSocket } from "ws";
import { generateKey } from "../dist/integrity/note.js";
import { sealFile } from "../dist/integrity/seal-file.js";
import { sealKeyFromString } from "../dist/integrity/seal-key.js";
import { buildBurst, makeLine, writeBurst } from "./lib/lines.js";

const arg = (name, fallback) => {
  const i = process.argv.indexOf(`--${name}`);
  return i === -1 ? fallback : Number(process.argv[i + 1]);
};
const ROUNDS = arg("rounds", 2);
const BURST = arg("burst", 1_000_000);
const PROOF_LINES = arg("proof-lines", 10_000_000);
const PROOFS = arg("proofs", 300);
const baselineAt = process.argv.indexOf("--baseline");
const BASELINE = baselineAt === -1 ? null : resolve(process.argv[baselineAt + 1]);
const PROBE_MS = 3000;
const LOOP_DELAY = new URL("./lib/loop-delay.js", import.meta.url).pathname;
const log = (s) => process.stderr.write(`${s}\n`);
const tmp = mkdtempSync(join(os.tmpdir(), "livetrail-bench-integrity-serve-"));

/** CPU seconds of a process (all its threads), or of one thread (its main thread's id is the process's). */
function cpuSeconds(pid, thread) {
  const at = thread === undefined ? `/proc/${pid}/stat` : `/proc/${pid}/task/${thread}/stat`;
  const f = readFileSync(at, "utf8").split(") ")[1].split(" ");
  // utime + stime, in clock ticks (100 a second on Linux).
  return (Number(f[11]) + Number(f[12])) / 100;
}

function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

async function serve(file, extra, root = ".") {
  const delayFile = `${file}.loop-delay.json`;
  const child = spawn(
    process.execPath,
    [
      "--import",
      LOOP_DELAY,
      join(root, "dist/bin/main.js"),
      "serve",
      "--port",
      "0",
      "--poll-interval",
      "50",
      ...extra,
      `audit=${file}`,
    ],
    { stdio: ["ignore", "pipe", "inherit"], env: { ...process.env, LIVETRAIL_LOOP_DELAY_FILE: delayFile } },
  );
  let out = "";
  child.stdout.on("data", (d) => {
    out += d;
  });
  for (let i = 0; i < 400 && !/ at (http\S+)/.test(out); i++) await new Promise((r) => setTimeout(r, 25));
  const url = / at (http\S+)/.exec(out)?.[1];
  if (url === undefined) throw new Error(`server did not start: ${out}`);
  let reports = 0;
  return {
    url,
    pid: child.pid,
    /** The event-loop delay since the last call (the first call only starts the window). */
    loopDelay: async () => {
      child.kill("SIGUSR2");
      reports++;
      for (;;) {
        const seen = (() => {
          try {
            return JSON.parse(readFileSync(delayFile, "utf8"));
          } catch {
            return null;
          }
        })();
        if (seen?.n === reports) return seen;
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    stop: () =>
      new Promise((resolve) => {
        child.once("exit", resolve);
        child.kill("SIGTERM");
      }).finally(() => rmSync(delayFile, { force: true })),
  };
}

/** A client subscribed live; resolves `done` when it has `count` lines. */
async function client(url, count) {
  const ws = new WebSocket(`${url.replace("http", "ws")}/ws`, { perMessageDeflate: false });
  let got = 0;
  /** Receipt times of probe lines ("probe <n>"), by n. */
  const probes = new Map();
  let resolveLive;
  let resolveDone;
  const live = new Promise((r) => {
    resolveLive = r;
  });
  const done = new Promise((r) => {
    resolveDone = r;
  });
  ws.on("message", (data) => {
    const m = JSON.parse(data.toString());
    if (m.type === "hello") ws.send(JSON.stringify({ type: "subscribe", stream: "audit", tail: 0 }));
    if (m.type === "live") resolveLive();
    if (m.type === "lines") {
      for (const text of m.text)
        if (text.startsWith("probe ")) probes.set(Number(text.slice(6)), performance.now());
      got += m.text.length;
      if (got >= count) resolveDone(performance.now());
    }
  });
  await live;
  return { done, probes, close: () => ws.close() };
}

/** mode: "off", "on" (this build, sealing), "baseline" (the --baseline build, sealing). */
async function burstRound(mode, burst, keyPath) {
  const sealing = mode !== "off";
  const file = join(tmp, `burst-${mode}-${Date.now()}.log`);
  writeFileSync(file, makeLine(-1));
  rmSync(`${file}.seal`, { recursive: true, force: true });
  const srv = await serve(file, sealing ? ["--seal-key", keyPath] : [], mode === "baseline" ? BASELINE : ".");
  try {
    // Let the first seal of the primer line finish before measuring.
    await new Promise((r) => setTimeout(r, 1500));
    const c = await client(srv.url, BURST);
    const cpu0 = cpuSeconds(srv.pid);
    const main0 = cpuSeconds(srv.pid, srv.pid);
    await srv.loopDelay();
    const t0 = performance.now();
    writeBurst(file, burst);
    const t1 = await c.done;
    const delivered = (t1 - t0) / 1000;
    const burstDelay = await srv.loopDelay();
    // After the burst (while it is sealed, and at least PROBE_MS): one probe line every 50 ms, timed from its
    // write to the client's receipt: what a live client sees while the server seals.
    let sealedAt = null;
    const sent = new Map();
    for (let n = 0; ; n++) {
      sent.set(n, performance.now());
      appendFileSync(file, `probe ${n}\n`);
      await new Promise((r) => setTimeout(r, 50));
      if (sealing && sealedAt === null) {
        const info = await (await fetch(`${srv.url}/api/streams/audit/integrity`)).json();
        if (info.sealedTo >= BURST + 1) sealedAt = (performance.now() - t0) / 1000;
      }
      if ((!sealing || sealedAt !== null) && performance.now() - t1 >= PROBE_MS) break;
    }
    for (let i = 0; i < 100 && c.probes.size < sent.size; i++) await new Promise((r) => setTimeout(r, 20));
    const probeMs = [...sent].map(([n, at]) => (c.probes.get(n) ?? Number.POSITIVE_INFINITY) - at);
    const cpu = cpuSeconds(srv.pid) - cpu0;
    const mainCpu = cpuSeconds(srv.pid, srv.pid) - main0;
    const delay = await srv.loopDelay();
    c.close();
    return {
      mode,
      seconds: delivered,
      linesPerSec: BURST / delivered,
      serverCpuSeconds: cpu,
      mainThreadCpuSeconds: mainCpu,
      maxLoopDelayMs: Math.max(burstDelay.maxMs, delay.maxMs),
      burstMaxLoopDelayMs: burstDelay.maxMs,
      afterMaxLoopDelayMs: delay.maxMs,
      afterP99LoopDelayMs: delay.p99Ms,
      probeP50Ms: quantile(probeMs, 0.5),
      probeMaxMs: Math.max(...probeMs),
      sealedAfterSeconds: sealedAt,
    };
  } finally {
    await srv.stop();
    rmSync(file, { force: true });
    rmSync(`${file}.seal`, { recursive: true, force: true });
  }
}

function bigLog(path, lines) {
  const fd = openSync(path, "w");
  const parts = [];
  for (let i = 0; i < lines; i++) {
    const head = `[2025-12-17T17:40:37Z] INFO: auth: user u${i % 977} logged in sid=${i} `;
    parts.push(`${head}${"x".repeat(99 - head.length)}\n`);
    if (parts.length === 100_000) {
      writeSync(fd, parts.join(""));
      parts.length = 0;
    }
  }
  if (parts.length) writeSync(fd, parts.join(""));
  closeSync(fd);
}

async function proofLatency(key, keyPath) {
  const file = join(tmp, "proof.log");
  log(`proof latency: writing ${PROOF_LINES} lines`);
  bigLog(file, PROOF_LINES);
  log("proof latency: sealing");
  const t0 = performance.now();
  await sealFile(file, key, { everyLines: 100_000 });
  const sealSeconds = (performance.now() - t0) / 1000;
  const srv = await serve(file, ["--log-key", `${keyPath}.pub`]);
  try {
    const time = async (path) => {
      const t = performance.now();
      const res = await fetch(`${srv.url}/api/streams/audit/${path}`);
      await res.text();
      if (!res.ok) throw new Error(`${path}: ${res.status}`);
      return performance.now() - t;
    };
    const checkpoints = [];
    for (let s = 100_000; s <= PROOF_LINES; s += 100_000) checkpoints.push(s);
    // Warm-up (first opens of the level files, JIT).
    for (let i = 0; i < 20; i++)
      await time(`proof/inclusion?line=${1 + Math.floor(Math.random() * PROOF_LINES)}`);
    const inclusion = [];
    const consistency = [];
    for (let i = 0; i < PROOFS; i++) {
      inclusion.push(await time(`proof/inclusion?line=${1 + Math.floor(Math.random() * PROOF_LINES)}`));
      const to = checkpoints[Math.floor(Math.random() * checkpoints.length)];
      consistency.push(await time(`proof/consistency?from=${1 + Math.floor(Math.random() * to)}&to=${to}`));
    }
    const stats = (xs) => ({
      p50Ms: quantile(xs, 0.5),
      p99Ms: quantile(xs, 0.99),
      maxMs: Math.max(...xs),
    });
    return {
      lines: PROOF_LINES,
      sealSeconds,
      requests: PROOFS,
      inclusion: stats(inclusion),
      consistency: stats(consistency),
    };
  } finally {
    await srv.stop();
    rmSync(file, { force: true });
    rmSync(`${file}.seal`, { recursive: true, force: true });
  }
}

const keyPath = join(tmp, "seal-key");
const pair = generateKey("livetrail-bench");
writeFileSync(keyPath, `${pair.signerKey}\n`, { mode: 0o600 });
writeFileSync(`${keyPath}.pub`, `${pair.verifierKey}\n`);
const key = sealKeyFromString(pair.signerKey);
try {
  const burst = buildBurst(BURST);
  const rounds = [];
  const modes = BASELINE === null ? ["off", "on"] : ["off", "on", "baseline"];
  const loads = [];
  for (let r = 0; r < ROUNDS; r++) {
    // Each round starts with the next mode, so no mode always runs first (or last) in a round.
    for (let m = 0; m < modes.length; m++) {
      const mode = modes[(r + m) % modes.length];
      const rec = await burstRound(mode, burst, keyPath);
      loads.push(os.loadavg()[0]);
      log(
        `burst ${mode.padEnd(8)} round ${r + 1}: ${rec.seconds.toFixed(2)} s ` +
          `(${Math.round(rec.linesPerSec)} lines/s), server CPU ${rec.serverCpuSeconds.toFixed(2)} s ` +
          `(main thread ${rec.mainThreadCpuSeconds.toFixed(2)} s), event-loop delay max ${rec.burstMaxLoopDelayMs} ms ` +
          `in the burst, ${rec.afterMaxLoopDelayMs} ms after it (p99 ${rec.afterP99LoopDelayMs}), ` +
          `probe lines p50 ${rec.probeP50Ms.toFixed(1)} max ${rec.probeMaxMs.toFixed(1)} ms` +
          (mode === "off" ? "" : `, sealed after ${rec.sealedAfterSeconds.toFixed(2)} s`) +
          `, load ${os.loadavg()[0].toFixed(2)}`,
      );
      rounds.push(rec);
    }
  }
  const med = (xs) => quantile(xs, 0.5);
  const side = (mode) => {
    const rs = rounds.filter((r) => r.mode === mode);
    if (rs.length === 0) return undefined;
    const list = (key, digits) => rs.map((r) => Number(r[key].toFixed(digits)));
    return {
      linesPerSec: list("linesPerSec", 0),
      serverCpuSeconds: list("serverCpuSeconds", 2),
      mainThreadCpuSeconds: list("mainThreadCpuSeconds", 2),
      maxLoopDelayMs: list("maxLoopDelayMs", 1),
      burstMaxLoopDelayMs: list("burstMaxLoopDelayMs", 1),
      afterMaxLoopDelayMs: list("afterMaxLoopDelayMs", 1),
      afterP99LoopDelayMs: list("afterP99LoopDelayMs", 1),
      probeP50Ms: list("probeP50Ms", 1),
      probeMaxMs: list("probeMaxMs", 1),
      ...(mode === "off" ? {} : { sealedAfterSeconds: list("sealedAfterSeconds", 2) }),
    };
  };
  const off = side("off");
  const on = side("on");
  const baseline = side("baseline");
  const proofs = PROOF_LINES > 0 ? await proofLatency(key, keyPath) : null;
  process.stdout.write(
    `${JSON.stringify(
      {
        machine: { cpus: os.cpus().length, load: os.loadavg(), loadAfterEachRound: loads },
        burst: {
          lines: BURST,
          off,
          on,
          ...(baseline === undefined ? {} : { baseline: { dir: BASELINE, ...baseline } }),
          throughputLossMedian: 1 - med(on.linesPerSec) / med(off.linesPerSec),
          targetLoss: 0.15,
        },
        proofs,
        targetProofMs: 5,
      },
      null,
      2,
    )}\n`,
  );
} finally {
  rmSync(tmp, { recursive: true, force: true });
}
