/**
 * The alert benches' workload (bench/alerts-rules.js, suites/alerts.js): audit lines of which a few percent say
 * something rules look for, and two mixes of 50 rules (match, rate, anomaly, silence, source; literals, caseless
 * literals, regexes, levels) as a config file holds them.
 */
import { makeLine } from "./lines.js";

/** What the audit log says besides routine lines: each phrase on a share of lines (most lines match no rule). */
const EXTRAS = [
  [0.01, "ERROR: disk check failed on node-12"],
  [0.01, "WARN: latency=1834ms on db"],
  [0.005, "job retry #14 failed"],
  [0.003, "ERROR: user=mallory denied"],
  [0.002, "Health check passed"],
  [0.001, "status=503 from upstream"],
];

/** @param {number} seq */
export function extraFor(seq) {
  let x = ((seq * 2654435761) % 1_000_003) / 1_000_003;
  for (const [share, text] of EXTRAS) {
    if (x < share) return text;
    x -= share;
  }
  return "";
}

/**
 * `literalFree`: two of the regexes have no fixed text (tested on every line); else they have some.
 * @param {boolean} literalFree
 * @returns {Record<string, unknown>[]}
 */
export function rules50(literalFree) {
  /** @type {Record<string, unknown>[]} */
  const r = [];
  const lits = [
    "disk check failed",
    "Health check failed",
    "permission denied",
    "segfault",
    "OOM killer",
    "certificate expired",
    "backup failed",
    "replication lag",
    "connection reset",
    "quota exceeded",
    "kernel panic",
    "fsck found errors",
    "unauthorized",
    "rollback started",
    "split brain",
  ];
  for (const p of lits) r.push({ name: `lit ${p}`, kind: "match", pattern: p });
  for (const p of ["TIMEOUT", "deadlock", "out of memory", "corrupt", "emergency"]) {
    r.push({ name: `ci ${p}`, kind: "match", pattern: p, case: "insensitive" });
  }
  const res = [
    "node-\\d+ unreachable",
    "latency=\\d{4,}ms",
    "(?i)self-heal.*failed",
    "retry #\\d{2,}",
    "status=5\\d\\d",
    "user=\\w+ denied",
    "timeout after \\d+s",
    "checksum mismatch in \\S+",
  ];
  for (const p of res) r.push({ name: `re ${p}`, kind: "match", regex: p });
  if (literalFree) {
    r.push({ name: "re no literal 1", kind: "match", regex: "[A-Z]{5,}: .*down" });
    r.push({ name: "re no literal 2", kind: "match", regex: "\\b5\\d\\d\\b" });
  } else {
    r.push({ name: "re alternation", kind: "match", regex: "ERROR|CRITICAL" });
    r.push({ name: "re 5xx", kind: "match", regex: "\\bcode=5\\d\\d\\b" });
  }
  r.push({ name: "rate errors", kind: "rate", level: "error", threshold: 5, window: "1m" });
  r.push({ name: "rate warn", kind: "rate", pattern: "WARN", threshold: 20, window: "1m" });
  r.push({ name: "rate denied", kind: "rate", pattern: "denied", threshold: 3, window: "5m" });
  r.push({ name: "rate retry", kind: "rate", regex: "retry #\\d+", threshold: 10, window: "1m" });
  r.push({ name: "rate 5xx", kind: "rate", regex: "status=5\\d\\d", threshold: 10, window: "1m" });
  r.push({
    name: "rate failed",
    kind: "rate",
    pattern: "failed",
    case: "insensitive",
    threshold: 50,
    window: "1m",
  });
  r.push({ name: "anomaly errors", kind: "anomaly", level: "error" });
  r.push({ name: "anomaly warn", kind: "anomaly", level: "warn" });
  r.push({ name: "anomaly failed", kind: "anomaly", pattern: "failed" });
  r.push({ name: "anomaly latency", kind: "anomaly", regex: "latency=\\d{4,}ms" });
  const quiet = [
    "Weekly self-heal: All checks passed",
    "Health check passed",
    "backup completed",
    "cert renewed",
    "heartbeat",
  ];
  for (const p of quiet) r.push({ name: `silence ${p}`, kind: "silence", pattern: p, period: "8d" });
  for (const e of ["gap", "truncated", "missing", "rotated", "command-exited"]) {
    r.push({ name: `source ${e}`, kind: "source", events: [e] });
  }
  if (r.length !== 50) throw new Error(`expected 50 rules, made ${r.length}`);
  return r;
}

/**
 * `count` lines of the workload (each with "\n", sequence numbers from 0, no write time), as one buffer.
 * @param {number} count
 */
export function buildAlertBurst(count) {
  const parts = [];
  for (let i = 0; i < count; i++) parts.push(makeLine(i, 0, extraFor(i)));
  return Buffer.from(parts.join(""));
}
