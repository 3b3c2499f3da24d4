/**
 * Integrity of a sealed log, end to end on real files: sealing cost (sealFile catch-up of the whole file, a
 * checkpoint every 1,000 lines), sidecar size, and `verify` speed (recompute every leaf and tile on worker
 * threads, compare with the stored hashes, check every checkpoint's signature and root). Lines are 100 bytes
 * with their LF. Needs dist/ (npm run build). JSON on stdout.
 * Usage: node bench/integrity-verify.js [lines] [rounds]
 */
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { findSidecar, verifyIntegrity } from "../dist/integrity/file-verify.js";
import { generateKey } from "../dist/integrity/note.js";
import { sealFile } from "../dist/integrity/seal-file.js";
import { sealKeyFromString } from "../dist/integrity/seal-key.js";

const LINES = Number(process.argv[2] ?? 1_000_000);
const ROUNDS = Number(process.argv[3] ?? 3);
const LINE_BYTES = 100;

/** CPU milliseconds (user + system, every thread of the process) since `start`. */
function cpuMs(start) {
  const u = process.cpuUsage(start);
  return (u.user + u.system) / 1000;
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** 100-byte entry lines (99 bytes of text, LF), each different. */
function makeLog(path) {
  const parts = [];
  for (let i = 0; i < LINES; i++) {
    const head = `[2025-12-17T17:40:37Z] INFO: auth: user u${i % 977} logged in sid=${i} `;
    parts.push(`${head}${"x".repeat(LINE_BYTES - 1 - head.length)}\n`);
  }
  writeFileSync(path, parts.join(""));
}

const dir = mkdtempSync(join(os.tmpdir(), "livetrail-bench-integrity-"));
try {
  const key = sealKeyFromString(generateKey("bench").signerKey);
  const sealMs = [];
  const sealCpuMs = [];
  let log = "";
  for (let r = 0; r < ROUNDS; r++) {
    log = join(dir, `audit-${r}.log`);
    makeLog(log);
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    await sealFile(log, key, { everyLines: 1000 });
    sealMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    sealCpuMs.push(cpuMs(c0));
  }
  const sidecar = await findSidecar(log);
  const sidecarBytes = readdirSync(sidecar).reduce((n, f) => n + statSync(join(sidecar, f)).size, 0);
  const verifyMs = [];
  const verifyCpuMs = [];
  let report = null;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = process.hrtime.bigint();
    const c0 = process.cpuUsage();
    report = await verifyIntegrity(log, sidecar, { key: key.verifier });
    verifyMs.push(Number(process.hrtime.bigint() - t0) / 1e6);
    verifyCpuMs.push(cpuMs(c0));
  }
  if (!report.ok || report.sealedLines !== LINES)
    throw new Error(`verify failed: ${JSON.stringify(report.findings)}`);
  const perMillion = 1_000_000 / LINES;
  const result = {
    lines: LINES,
    lineBytes: LINE_BYTES,
    cpus: os.availableParallelism(),
    verifyLinesPerSecond: Math.round(LINES / (median(verifyMs) / 1000)),
    verifyMs: verifyMs.map(Math.round),
    // CPU of all threads (the workers' too): steadier than wall time on a shared machine.
    verifyCpuMsPerMillionLines: Math.round(median(verifyCpuMs) * perMillion),
    sealMsPerMillionLines: Math.round(median(sealMs) * perMillion),
    sealMs: sealMs.map(Math.round),
    sealCpuMsPerMillionLines: Math.round(median(sealCpuMs) * perMillion),
    sidecarBytesPerMillionLines: Math.round(sidecarBytes * perMillion),
    checkpoints: report.checkpoints,
    loadAverage: os.loadavg().map((x) => Math.round(x * 10) / 10),
  };
  process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
