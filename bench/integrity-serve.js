/**
 * Integrity while serving (docs/integrity.md, "Serving and API"), on real files, a real server (a child process,
 * `node dist/bin/main.js serve`) and a real WebSocket client:
 *
 * 1. the 1M-line burst (bench/lib/lines.js, 100-byte lines, 64 KiB writes) with sealing off and on
 *    (`--seal-key`), interleaved, side by side: time until the client has every line, lines/s, the server's CPU
 *    seconds, and with sealing on how long after the burst the newest checkpoint covers it;
 * 2. proof latency on a sealed log of 10M lines (--proof-lines): inclusion (random lines) and consistency (from
 *    random sizes) over HTTP, one request at a time, p50/p99/max; target < 5 ms.
 *
 * Needs dist/ (npm run build). JSON on stdout, progress on stderr.
 * Usage: node bench/integrity-serve.js [--rounds N] [--burst LINES] [--proof-lines LINES] [--proofs N]
 */
import { spawn } from "node:child_process";
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
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
const log = (s) => process.stderr.write(`${s}\n`);
const tmp = mkdtempSync(join(os.tmpdir(), "livetrail-bench-integrity-serve-"));

function cpuSeconds(pid) {
  const f = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
  // utime + stime, in clock ticks (100 a second on Linux).
  return (Number(f[11]) + Number(f[12])) / 100;
}

function quantile(xs, q) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))];
}

async function serve(file, extra) {
  const child = spawn(
    process.execPath,
    ["dist/bin/main.js", "serve", "--port", "0", "--poll-interval", "50", ...extra, `audit=${file}`],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  let out = "";
  child.stdout.on("data", (d) => {
    out += d;
  });
  for (let i = 0; i < 400 && !/ at (http\S+)/.test(out); i++) await new Promise((r) => setTimeout(r, 25));
  const url = / at (http\S+)/.exec(out)?.[1];
  if (url === undefined) throw new Error(`server did not start: ${out}`);
  return {
    url,
    pid: child.pid,
    stop: () =>
      new Promise((resolve) => {
        child.once("exit", resolve);
        child.kill("SIGTERM");
      }),
  };
}

/** A client subscribed live; resolves `done` when it has `count` lines. */
async function client(url, count) {
  const ws = new WebSocket(`${url.replace("http", "ws")}/ws`, { perMessageDeflate: false });
  let got = 0;
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
      got += m.text.length;
      if (got >= count) resolveDone(performance.now());
    }
  });
  await live;
  return { done, close: () => ws.close() };
}

async function burstRound(sealing, burst, keyPath) {
  const file = join(tmp, `burst-${sealing ? "on" : "off"}-${Date.now()}.log`);
  writeFileSync(file, makeLine(-1));
  rmSync(`${file}.seal`, { recursive: true, force: true });
  const srv = await serve(file, sealing ? ["--seal-key", keyPath] : []);
  try {
    // Let the first seal of the primer line finish before measuring.
    await new Promise((r) => setTimeout(r, 1500));
    const c = await client(srv.url, BURST);
    const cpu0 = cpuSeconds(srv.pid);
    const t0 = performance.now();
    writeBurst(file, burst);
    const t1 = await c.done;
    const delivered = (t1 - t0) / 1000;
    let sealedAt = null;
    if (sealing) {
      for (;;) {
        const info = await (await fetch(`${srv.url}/api/streams/audit/integrity`)).json();
        if (info.sealedTo >= BURST + 1) break;
        await new Promise((r) => setTimeout(r, 20));
      }
      sealedAt = (performance.now() - t0) / 1000;
    }
    const cpu = cpuSeconds(srv.pid) - cpu0;
    c.close();
    return {
      sealing,
      seconds: delivered,
      linesPerSec: BURST / delivered,
      serverCpuSeconds: cpu,
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
  for (let r = 0; r < ROUNDS; r++) {
    for (const sealing of r % 2 === 0 ? [false, true] : [true, false]) {
      const rec = await burstRound(sealing, burst, keyPath);
      log(
        `burst ${sealing ? "sealing on " : "sealing off"} round ${r + 1}: ${rec.seconds.toFixed(2)} s ` +
          `(${Math.round(rec.linesPerSec)} lines/s), server CPU ${rec.serverCpuSeconds.toFixed(2)} s` +
          (sealing ? `, sealed after ${rec.sealedAfterSeconds.toFixed(2)} s` : ""),
      );
      rounds.push(rec);
    }
  }
  const med = (xs) => quantile(xs, 0.5);
  const side = (on) => {
    const rs = rounds.filter((r) => r.sealing === on);
    return {
      linesPerSec: rs.map((r) => Math.round(r.linesPerSec)),
      serverCpuSeconds: rs.map((r) => Number(r.serverCpuSeconds.toFixed(2))),
      ...(on ? { sealedAfterSeconds: rs.map((r) => Number(r.sealedAfterSeconds.toFixed(2))) } : {}),
    };
  };
  const off = side(false);
  const on = side(true);
  const proofs = PROOF_LINES > 0 ? await proofLatency(key, keyPath) : null;
  process.stdout.write(
    `${JSON.stringify(
      {
        machine: { cpus: os.cpus().length, load: os.loadavg() },
        burst: {
          lines: BURST,
          off,
          on,
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
