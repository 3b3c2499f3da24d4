/**
 * Renders bench/results/latest.json as docs/benchmarks.md: one table (figure, livetrail, frontail,
 * websocketd, target, lead, met?) and the method behind each row. Every cell is the median of the runs with
 * their min-max spread; the lead is the median over runs of the per-run ratio (systems run interleaved,
 * so each ratio compares runs made minutes apart on the same machine). bench/analysis.md, hand-written,
 * is appended as it is.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { median } from "./stats.js";

/** @typedef {{ median: number, min: number, max: number, runs: number[] }} Summary */
/**
 * @typedef {{
 *   figure: string, bench: string, field: string, unit: string, digits?: number,
 *   keys: { livetrail?: string, frontail?: string, websocketd?: string }, better: "lower" | "higher" | "zero",
 *   target: string,
 *   met?: (lt: number, peers: { frontail?: number, websocketd?: number }, res: any) => boolean | null,
 *   none?: string,
 * }} Row
 */

/** @type {Row[]} */
const ROWS = [
  {
    figure: "latency p50, 20 lines/s",
    bench: "latency",
    field: "p50",
    unit: "ms",
    digits: 2,
    keys: { livetrail: "livetrail", frontail: "frontail", websocketd: "websocketd" },
    better: "lower",
    target: "≤ 0.8 × websocketd's",
    met: (lt, p) => p.websocketd !== undefined && lt <= 0.8 * p.websocketd,
  },
  {
    figure: "latency p99, 20 lines/s",
    bench: "latency",
    field: "p99",
    unit: "ms",
    digits: 2,
    keys: { livetrail: "livetrail", frontail: "frontail", websocketd: "websocketd" },
    better: "lower",
    target: "≤ 1 ms",
    met: (lt) => lt <= 1,
  },
  {
    figure: "latency max, 20 lines/s",
    bench: "latency",
    field: "max",
    unit: "ms",
    digits: 1,
    keys: { livetrail: "livetrail", frontail: "frontail", websocketd: "websocketd" },
    better: "lower",
    target: "≤ 2 ms",
    met: (lt) => lt <= 2,
  },
  {
    figure: "latency p50 / polling fallback forced",
    bench: "latency",
    field: "p50",
    unit: "ms",
    digits: 1,
    keys: { livetrail: "livetrail-poll" },
    better: "lower",
    target: "— (bounded by the poll interval)",
  },
  {
    figure: "latency p99 / polling fallback forced",
    bench: "latency",
    field: "p99",
    unit: "ms",
    digits: 1,
    keys: { livetrail: "livetrail-poll" },
    better: "lower",
    target: "—",
  },
  {
    figure: "burst 200k lines to one client",
    bench: "throughput",
    field: "linesPerSec",
    unit: "lines/s",
    digits: 0,
    keys: { livetrail: "livetrail", frontail: "frontail", websocketd: "websocketd" },
    better: "higher",
    target: "≥ 1.5M lines/s",
    met: (lt) => lt >= 1.5e6,
  },
  {
    figure: "burst 1M lines to one client",
    bench: "throughput",
    field: "linesPerSec",
    unit: "lines/s",
    digits: 0,
    keys: { livetrail: "livetrail-1m" },
    better: "higher",
    target: "≥ 2M lines/s",
    met: (lt) => lt >= 2e6,
  },
  {
    figure: "burst to one client from a command stream (sh: cat)",
    bench: "sources",
    field: "linesPerSec",
    unit: "lines/s",
    digits: 0,
    keys: { livetrail: "command" },
    better: "higher",
    target: "—",
  },
  {
    figure: "burst to one client from a plain file (same lines, same client)",
    bench: "sources",
    field: "linesPerSec",
    unit: "lines/s",
    digits: 0,
    keys: { livetrail: "file" },
    better: "higher",
    target: "—",
  },
  {
    figure: "1M burst with 50 alert rules, ratio to no rules (rules in the worker thread)",
    bench: "alerts",
    field: "ratioToNoRules",
    unit: "",
    digits: 2,
    keys: { livetrail: "rules-worker" },
    better: "higher",
    target: "≥ 0.8",
    met: (lt) => lt >= 0.8,
  },
  {
    figure: "1M burst with 50 alert rules, ratio to no rules (rules on the main thread, alerts.thread false)",
    bench: "alerts",
    field: "ratioToNoRules",
    unit: "",
    digits: 2,
    keys: { livetrail: "rules-main-thread" },
    better: "higher",
    target: "—",
  },
  {
    figure: "1M burst with 50 alert rules: main-thread CPU per line (rule worker)",
    bench: "alerts",
    field: "mainThreadNsPerLine",
    unit: "ns",
    digits: 0,
    keys: { livetrail: "rules-worker" },
    better: "lower",
    target: "—",
  },
  {
    figure: "burst: lines lost + duplicated + mangled",
    bench: "throughput",
    field: "lossSum",
    unit: "",
    digits: 0,
    keys: { livetrail: "livetrail-1m", frontail: "frontail", websocketd: "websocketd" },
    better: "zero",
    target: "0",
    met: (lt) => lt === 0,
  },
  {
    figure: "burst: server peak RSS",
    bench: "throughput",
    field: "peakRssMB",
    unit: "MB",
    digits: 0,
    keys: { livetrail: "livetrail-1m", frontail: "frontail", websocketd: "websocketd" },
    better: "lower",
    target: "< 80 MB (1M lines)",
    met: (lt) => lt < 80,
  },
  {
    figure: "burst 200k: server CPU",
    bench: "throughput",
    field: "cpuSeconds",
    unit: "s",
    digits: 2,
    keys: { livetrail: "livetrail", frontail: "frontail", websocketd: "websocketd" },
    better: "lower",
    target: "≤ 0.06 s (0.3 s per million lines)",
    met: (lt) => lt <= 0.06,
  },
  {
    figure: "burst 1M: server CPU",
    bench: "throughput",
    field: "cpuSeconds",
    unit: "s",
    digits: 2,
    keys: { livetrail: "livetrail-1m" },
    better: "lower",
    target: "≤ 0.3 s",
    met: (lt) => lt <= 0.3,
  },
  {
    figure: "RSS per idle connection (1,000 clients; after the first 100)",
    bench: "fanout",
    field: "rssPerConnKB",
    unit: "KB",
    digits: 1,
    keys: { livetrail: "livetrail-1000", frontail: "frontail-1000", websocketd: "websocketd-1000" },
    better: "lower",
    target: "≤ 8 KB",
    met: (lt) => lt <= 8,
  },
  {
    figure: "RSS per idle connection (1,000 clients; from the server's start)",
    bench: "fanout",
    field: "rssPerConnFromStartKB",
    unit: "KB",
    digits: 1,
    keys: { livetrail: "livetrail-1000", frontail: "frontail-1000", websocketd: "websocketd-1000" },
    better: "lower",
    target: "—",
  },
  {
    figure: "RSS per idle connection (10,000 clients; after the first 100)",
    bench: "fanout",
    field: "rssPerConnKB",
    unit: "KB",
    digits: 1,
    keys: { livetrail: "livetrail-10000" },
    better: "lower",
    target: "≤ 5 KB, 10,000 clients on 2 cores",
    met: (lt) => lt <= 5,
  },
  {
    figure: "RSS per idle connection, marginal (1,000 → 10,000 clients)",
    bench: "fanout",
    field: "marginalKBPerConn",
    unit: "KB",
    digits: 1,
    keys: { livetrail: "livetrail-10000" },
    better: "lower",
    target: "≤ 5 KB",
    met: (lt) => lt <= 5,
  },
  {
    figure: "1,000 clients × 1,000-line burst: all complete after",
    bench: "fanout",
    field: "burstSeconds",
    unit: "s",
    digits: 2,
    keys: { livetrail: "livetrail-1000", frontail: "frontail-1000", websocketd: "websocketd-1000" },
    better: "lower",
    target: "< 0.3 s, every client complete",
    met: (lt) => lt < 0.3,
  },
  {
    figure: "1,000 clients × 1,000-line burst: peak RSS",
    bench: "fanout",
    field: "burstPeakRssMB",
    unit: "MB",
    digits: 0,
    keys: { livetrail: "livetrail-1000", frontail: "frontail-1000", websocketd: "websocketd-1000" },
    better: "lower",
    target: "< 200 MB",
    met: (lt) => lt < 200,
  },
  {
    figure: "10,000 clients × 100-line burst: all complete after",
    bench: "fanout",
    field: "burstSeconds",
    unit: "s",
    digits: 2,
    keys: { livetrail: "livetrail-10000" },
    better: "lower",
    target: "—",
  },
  {
    figure: "1,000 clients, 100 lines/s: latency p50",
    bench: "fanout",
    field: "steadyP50",
    unit: "ms",
    digits: 1,
    keys: { livetrail: "livetrail-1000", frontail: "frontail-1000", websocketd: "websocketd-1000" },
    better: "lower",
    target: "—",
  },
  {
    figure: "1,000 clients, 100 lines/s: latency p99",
    bench: "fanout",
    field: "steadyP99",
    unit: "ms",
    digits: 1,
    keys: { livetrail: "livetrail-1000", frontail: "frontail-1000", websocketd: "websocketd-1000" },
    better: "lower",
    target: "—",
  },
  {
    figure: "10,000 clients, 10 lines/s: latency p99",
    bench: "fanout",
    field: "steadyP99",
    unit: "ms",
    digits: 1,
    keys: { livetrail: "livetrail-10000" },
    better: "lower",
    target: "—",
  },
  {
    figure: "10,000 clients: clients missing lines",
    bench: "fanout",
    field: "incomplete",
    unit: "",
    digits: 0,
    keys: { livetrail: "livetrail-10000" },
    better: "zero",
    target: "0",
    met: (lt) => lt === 0,
  },
  {
    figure: "1,000 clients: clients missing lines (all phases)",
    bench: "fanout",
    field: "incomplete",
    unit: "",
    digits: 0,
    keys: { livetrail: "livetrail-1000", frontail: "frontail-1000", websocketd: "websocketd-1000" },
    better: "zero",
    target: "0",
    met: (lt) => lt === 0,
  },
  {
    figure: "idle clients held (of 50,000), every one live",
    bench: "idle-clients",
    field: "received",
    unit: "",
    digits: 0,
    keys: { livetrail: "livetrail" },
    better: "higher",
    target: "50,000, every one gets a line",
    met: (lt, _peers, res) => lt >= 50_000 && res?.systems?.livetrail?.missing?.median === 0,
  },
  {
    figure: "idle clients: RSS per connection (from the server's start)",
    bench: "idle-clients",
    field: "rssPerConnFromStartKB",
    unit: "KB",
    digits: 1,
    keys: { livetrail: "livetrail" },
    better: "lower",
    target: "—",
  },
  {
    figure: "churn: RSS growth per round after the first (5,000 cycles)",
    bench: "churn",
    field: "rssGrowthLaterMB",
    unit: "MB",
    digits: 1,
    keys: { livetrail: "livetrail", frontail: "frontail", websocketd: "websocketd" },
    better: "zero",
    target: "≈ 0 (no leak)",
    met: (lt) => lt < 2,
  },
  {
    figure: "churn: open fds after vs before",
    bench: "churn",
    field: "fdGrowth",
    unit: "",
    digits: 0,
    keys: { livetrail: "livetrail", frontail: "frontail", websocketd: "websocketd" },
    better: "zero",
    target: "0",
    met: (lt) => lt <= 0,
  },
  {
    figure: "churn: connect/subscribe/close cycles per second",
    bench: "churn",
    field: "cyclesPerSec",
    unit: "/s",
    digits: 0,
    keys: { livetrail: "livetrail", frontail: "frontail", websocketd: "websocketd" },
    better: "higher",
    target: "—",
  },
  {
    figure: "10 stalled clients: normal client p99, 1st half",
    bench: "slow-clients",
    field: "normalP99First",
    unit: "ms",
    digits: 1,
    keys: { livetrail: "livetrail", frontail: "frontail", websocketd: "websocketd" },
    better: "lower",
    target: "—",
  },
  {
    figure: "10 stalled clients: normal client p99, 2nd half",
    bench: "slow-clients",
    field: "normalP99Second",
    unit: "ms",
    digits: 1,
    keys: { livetrail: "livetrail", frontail: "frontail", websocketd: "websocketd" },
    better: "lower",
    target: "flat (≈ 1st half)",
  },
  {
    figure: "10 stalled clients: server RSS growth, 2nd half",
    bench: "slow-clients",
    field: "rssGrowthSecondHalfMB",
    unit: "MB",
    digits: 1,
    keys: { livetrail: "livetrail", frontail: "frontail", websocketd: "websocketd" },
    better: "lower",
    target: "flat (≈ 0)",
    met: (lt) => lt < 10,
  },
  {
    figure: "60 paused clients × tail 100,000: server RSS growth (peak)",
    bench: "paused-catch-up",
    field: "rssGrowthPeakMB",
    unit: "MB",
    digits: 0,
    keys: { livetrail: "livetrail" },
    better: "lower",
    target: "< 60 × (4 MiB queue + 256 KiB frame) + 50 MB",
    met: (lt, _p, res) => lt < res.params?.boundMB,
  },
  {
    figure: "60 paused clients × tail 100,000: server RSS growth (end)",
    bench: "paused-catch-up",
    field: "rssGrowthEndMB",
    unit: "MB",
    digits: 0,
    keys: { livetrail: "livetrail" },
    better: "lower",
    target: "—",
  },
  {
    figure: "60 paused clients: normal client p99, unloaded (before they connect)",
    bench: "paused-catch-up",
    field: "unloadedP99",
    unit: "ms",
    digits: 2,
    keys: { livetrail: "livetrail" },
    better: "lower",
    target: "—",
  },
  {
    figure: "60 paused clients: normal client p99, loaded",
    bench: "paused-catch-up",
    field: "loadedP99",
    unit: "ms",
    digits: 1,
    keys: { livetrail: "livetrail" },
    better: "lower",
    target: "—",
  },
  {
    figure: "60 paused clients: normal client p99, loaded / unloaded",
    bench: "paused-catch-up",
    field: "p99Ratio",
    unit: "×",
    digits: 1,
    keys: { livetrail: "livetrail" },
    better: "lower",
    target: "—",
  },
  {
    figure: "cold start, 1 GB: spawn → last 1,000 lines at a client",
    bench: "cold-start",
    field: "ms",
    unit: "ms",
    digits: 0,
    keys: { livetrail: "livetrail", frontail: "frontail", websocketd: "websocketd" },
    better: "lower",
    target: "< 100 ms",
    met: (lt) => lt < 100,
  },
  {
    figure: "cold start, 1 GB: listening → last 1,000 lines",
    bench: "cold-start",
    field: "afterListenMs",
    unit: "ms",
    digits: 0,
    keys: { livetrail: "livetrail", frontail: "frontail", websocketd: "websocketd" },
    better: "lower",
    target: "< 100 ms",
    met: (lt) => lt < 100,
  },
  {
    figure: "cold start: RSS, 1 GB file minus 10 MB file",
    bench: "cold-start",
    field: "rssBigMinusSmallMB",
    unit: "MB",
    digits: 1,
    keys: { livetrail: "livetrail", frontail: "frontail", websocketd: "websocketd" },
    better: "zero",
    target: "≈ 0 (independent of size)",
    met: (lt) => Math.abs(lt) < 10,
  },
  {
    figure: "spawn → listening (one-line file)",
    bench: "cold-start",
    field: "idleListenMs",
    unit: "ms",
    digits: 0,
    keys: { livetrail: "livetrail", frontail: "frontail", websocketd: "websocketd" },
    better: "lower",
    target: "< 200 ms",
    met: (lt) => lt < 200,
  },
  {
    figure: "idle RSS (one-line file, no client, 3 s after listening)",
    bench: "cold-start",
    field: "idleRssMB",
    unit: "MB",
    digits: 1,
    keys: { livetrail: "livetrail", frontail: "frontail", websocketd: "websocketd" },
    better: "lower",
    target: "≤ 45 MB",
    met: (lt) => lt <= 45,
  },
  {
    figure: "search 1 GB, literal rare word, case-sensitive",
    bench: "search",
    field: "literalCaseMBps",
    unit: "MB/s",
    digits: 0,
    keys: { livetrail: "livetrail" },
    none: "none",
    better: "higher",
    target: "≥ 1,000 MB/s",
    met: (lt) => lt >= 1000,
  },
  {
    figure: "search 1 GB, literal rare word, any case (the default)",
    bench: "search",
    field: "literalMBps",
    unit: "MB/s",
    digits: 0,
    keys: { livetrail: "livetrail" },
    none: "none",
    better: "higher",
    target: "≥ 2,000 MB/s",
    met: (lt) => lt >= 2000,
  },
  {
    figure: "search 1 GB, regex",
    bench: "search",
    field: "regexMBps",
    unit: "MB/s",
    digits: 0,
    keys: { livetrail: "livetrail" },
    none: "none",
    better: "higher",
    target: "≥ 1,000 MB/s, linear time",
    met: (lt) => lt >= 1000,
  },
  {
    figure: "search: catastrophic `(a+)+$` over 50 MB of a's lines, time ÷ a plain regex's on the same file",
    bench: "search",
    field: "catastrophicVsScan",
    unit: "×",
    digits: 2,
    keys: { livetrail: "livetrail" },
    none: "none",
    better: "lower",
    target: "completes; no pattern takes longer than a scan (≤ 2×)",
    met: (lt) => lt <= 2,
  },
  {
    figure: "Docker: lines/s from a container's json-file log to one client (500k lines, 64 KiB writes)",
    bench: "docker",
    field: "linesPerSec",
    unit: "lines/s",
    digits: 0,
    keys: { livetrail: "docker" },
    better: "higher",
    target: "≥ half the plain file's",
  },
  {
    figure: "Docker: the same lines in a plain file (serve FILE), for comparison",
    bench: "docker",
    field: "linesPerSec",
    unit: "lines/s",
    digits: 0,
    keys: { livetrail: "file" },
    better: "higher",
    target: "(reference)",
  },
  {
    figure: "Redis: one agent ships a 1M-line backlog",
    bench: "redis",
    field: "backlogLinesPerSec",
    unit: "lines/s",
    digits: 0,
    keys: { livetrail: "ship" },
    better: "higher",
    target: "≥ 300k lines/s",
    met: (lt) => lt >= 300_000,
  },
  {
    figure: "Redis: one agent ships a 1M-line burst it follows",
    bench: "redis",
    field: "burstLinesPerSec",
    unit: "lines/s",
    digits: 0,
    keys: { livetrail: "ship" },
    better: "higher",
    target: "≥ 300k lines/s",
    met: (lt) => lt >= 300_000,
  },
  {
    figure: "Redis: agent CPU per 1M lines shipped (backlog, with node's start-up)",
    bench: "redis",
    field: "backlogAgentCpuSPerMillion",
    unit: "s",
    digits: 2,
    keys: { livetrail: "ship" },
    better: "lower",
    target: "—",
  },
  {
    figure: "Redis: redis-server CPU per 1M lines shipped (backlog)",
    bench: "redis",
    field: "backlogRedisCpuSPerMillion",
    unit: "s",
    digits: 2,
    keys: { livetrail: "ship" },
    better: "lower",
    target: "—",
  },
  {
    figure: "Redis: agent CPU per 1M lines shipped (burst)",
    bench: "redis",
    field: "burstAgentCpuSPerMillion",
    unit: "s",
    digits: 2,
    keys: { livetrail: "ship" },
    better: "lower",
    target: "—",
  },
  {
    figure: "Redis: redis-server CPU per 1M lines shipped (burst)",
    bench: "redis",
    field: "burstRedisCpuSPerMillion",
    unit: "s",
    digits: 2,
    keys: { livetrail: "ship" },
    better: "lower",
    target: "—",
  },
  {
    figure: "Redis: latency p50, 20 lines/s, file → agent → Redis → serve --redis → client",
    bench: "redis",
    field: "p50",
    unit: "ms",
    digits: 2,
    keys: { livetrail: "latency-redis" },
    better: "lower",
    target: "≤ 2 ms",
    met: (lt) => lt <= 2,
  },
  {
    figure: "Redis: latency p99, 20 lines/s, through Redis",
    bench: "redis",
    field: "p99",
    unit: "ms",
    digits: 2,
    keys: { livetrail: "latency-redis" },
    better: "lower",
    target: "≤ 5 ms",
    met: (lt) => lt <= 5,
  },
  {
    figure: "Redis: latency max, 20 lines/s, through Redis",
    bench: "redis",
    field: "max",
    unit: "ms",
    digits: 1,
    keys: { livetrail: "latency-redis" },
    better: "lower",
    target: "—",
  },
  {
    figure: "Redis: latency p50, the file backend in the same run",
    bench: "redis",
    field: "p50",
    unit: "ms",
    digits: 2,
    keys: { livetrail: "latency-file" },
    better: "lower",
    target: "— (the yardstick)",
  },
  {
    figure: "Redis: latency p99, the file backend in the same run",
    bench: "redis",
    field: "p99",
    unit: "ms",
    digits: 2,
    keys: { livetrail: "latency-file" },
    better: "lower",
    target: "— (the yardstick)",
  },
  {
    figure: "Redis: latency max, the file backend in the same run",
    bench: "redis",
    field: "max",
    unit: "ms",
    digits: 1,
    keys: { livetrail: "latency-file" },
    better: "lower",
    target: "—",
  },
  {
    figure: "Redis: 2 replicas × 1,000 clients × 1,000-line burst: all complete after",
    bench: "redis",
    field: "burstSeconds",
    unit: "s",
    digits: 2,
    keys: { livetrail: "replicas" },
    better: "lower",
    target: "every client complete",
    met: (_lt, _p, res) => res.systems?.replicas?.incomplete?.max === 0,
  },
  {
    figure: "Redis: 2 replicas × 1,000 clients: clients missing lines",
    bench: "redis",
    field: "incomplete",
    unit: "",
    digits: 0,
    keys: { livetrail: "replicas" },
    better: "zero",
    target: "0",
    met: (lt) => lt === 0,
  },
  {
    figure: "Redis: replica 1 RSS after the burst (1,000 clients)",
    bench: "redis",
    field: "replica1RssMB",
    unit: "MB",
    digits: 0,
    keys: { livetrail: "replicas" },
    better: "lower",
    target: "—",
  },
  {
    figure: "Redis: replica 2 RSS after the burst (1,000 clients)",
    bench: "redis",
    field: "replica2RssMB",
    unit: "MB",
    digits: 0,
    keys: { livetrail: "replicas" },
    better: "lower",
    target: "—",
  },
  {
    figure: "Redis: memory per 1M 100-byte lines, MEMORY USAGE",
    bench: "redis",
    field: "redisMemoryUsageMBPerMillion",
    unit: "MB",
    digits: 0,
    keys: { livetrail: "ship" },
    better: "lower",
    target: "— (the file: 100 MB)",
  },
  {
    figure: "Redis: memory per 1M 100-byte lines, INFO used_memory growth",
    bench: "redis",
    field: "redisUsedMemoryDeltaMBPerMillion",
    unit: "MB",
    digits: 0,
    keys: { livetrail: "ship" },
    better: "lower",
    target: "— (the file: 100 MB)",
  },
  {
    figure: "integrity: 1M burst to one client, sealing off",
    bench: "integrity",
    field: "linesPerSec",
    unit: "lines/s",
    digits: 0,
    keys: { livetrail: "burst-off" },
    better: "higher",
    target: "— (the yardstick)",
  },
  {
    figure: "integrity: 1M burst to one client, sealing on (--seal-key)",
    bench: "integrity",
    field: "linesPerSec",
    unit: "lines/s",
    digits: 0,
    keys: { livetrail: "burst-on" },
    better: "higher",
    target: "—",
  },
  {
    figure: "integrity: 1M burst, sealing on / off (per round)",
    bench: "integrity",
    field: "ratioToOff",
    unit: "×",
    digits: 3,
    keys: { livetrail: "burst-on" },
    better: "higher",
    target: "≥ 0.85 (< 15 % lost)",
    met: (lt) => lt >= 0.85,
  },
  {
    figure: "integrity: server main-thread CPU per 1M lines, sealing on",
    bench: "integrity",
    field: "mainThreadCpuSPerMillion",
    unit: "s",
    digits: 2,
    keys: { livetrail: "burst-on" },
    better: "lower",
    target: "—",
  },
  {
    figure: "integrity: server main-thread CPU per 1M lines, sealing off",
    bench: "integrity",
    field: "mainThreadCpuSPerMillion",
    unit: "s",
    digits: 2,
    keys: { livetrail: "burst-off" },
    better: "lower",
    target: "— (the yardstick)",
  },
  {
    figure: "integrity: a checkpoint covers the 1M burst after (from its first write)",
    bench: "integrity",
    field: "sealedAfterSeconds",
    unit: "s",
    digits: 2,
    keys: { livetrail: "burst-on" },
    better: "lower",
    target: "—",
  },
  {
    figure: "integrity: verify, 100-byte lines",
    bench: "integrity",
    field: "linesPerSec",
    unit: "lines/s",
    digits: 0,
    keys: { livetrail: "verify" },
    better: "higher",
    target: "≥ 1M lines/s",
    met: (lt) => lt >= 1_000_000,
  },
  {
    figure: "integrity: verify CPU per 1M lines (all threads)",
    bench: "integrity",
    field: "cpuSPerMillion",
    unit: "s",
    digits: 2,
    keys: { livetrail: "verify" },
    better: "lower",
    target: "—",
  },
  {
    figure: "integrity: sealFile catch-up CPU per 1M lines (checkpoint every 1,000)",
    bench: "integrity",
    field: "sealCpuSPerMillion",
    unit: "s",
    digits: 2,
    keys: { livetrail: "verify" },
    better: "lower",
    target: "—",
  },
  {
    figure: "integrity: sidecar size per 1M lines",
    bench: "integrity",
    field: "sidecarMBPerMillion",
    unit: "MB",
    digits: 1,
    keys: { livetrail: "verify" },
    better: "lower",
    target: "— (the log: 95 MB)",
  },
  {
    figure: "integrity: inclusion proof p50, 10M-line log, over HTTP",
    bench: "integrity",
    field: "inclusionP50Ms",
    unit: "ms",
    digits: 2,
    keys: { livetrail: "proofs" },
    better: "lower",
    target: "< 5 ms",
    met: (lt) => lt < 5,
  },
  {
    figure: "integrity: inclusion proof p99, 10M-line log",
    bench: "integrity",
    field: "inclusionP99Ms",
    unit: "ms",
    digits: 2,
    keys: { livetrail: "proofs" },
    better: "lower",
    target: "< 5 ms",
    met: (lt) => lt < 5,
  },
  {
    figure: "integrity: consistency proof p50, 10M-line log",
    bench: "integrity",
    field: "consistencyP50Ms",
    unit: "ms",
    digits: 2,
    keys: { livetrail: "proofs" },
    better: "lower",
    target: "< 5 ms",
    met: (lt) => lt < 5,
  },
  {
    figure: "integrity: consistency proof p99, 10M-line log",
    bench: "integrity",
    field: "consistencyP99Ms",
    unit: "ms",
    digits: 2,
    keys: { livetrail: "proofs" },
    better: "lower",
    target: "< 5 ms",
    met: (lt) => lt < 5,
  },
  {
    figure: "browser: page answers while 5,000 lines/s stream in (p99)",
    bench: "browser",
    field: "evalP99Ms",
    unit: "ms",
    digits: 1,
    keys: { livetrail: "livetrail", frontail: "frontail" },
    better: "lower",
    target: "< 50 ms",
    met: (lt) => lt < 50,
  },
  {
    figure: "browser: lines held after 1,000,000 streamed",
    bench: "browser",
    field: "linesHeld",
    unit: "",
    digits: 0,
    keys: { livetrail: "livetrail", frontail: "frontail" },
    better: "higher",
    target: "1,000,000",
    met: (lt) => lt >= 1e6,
  },
  {
    figure: "browser: JS heap with 1,000,000 lines",
    bench: "browser",
    field: "heapMB",
    unit: "MB",
    digits: 0,
    keys: { livetrail: "livetrail" },
    better: "lower",
    target: "< 120 MB",
    met: (lt) => lt < 120,
  },
  {
    figure: "browser: renderer memory (RSS) with 1,000,000 lines",
    bench: "browser",
    field: "rendererMB",
    unit: "MB",
    digits: 0,
    keys: { livetrail: "livetrail" },
    better: "lower",
    target: "(the heap leaves out external strings)",
  },
  {
    figure: "browser: lines held after 5,000,000 streamed",
    bench: "browser",
    field: "manyLinesHeld",
    unit: "",
    digits: 0,
    keys: { livetrail: "livetrail" },
    better: "higher",
    target: "5,000,000",
    met: (lt) => lt >= 5e6,
  },
  {
    figure: "browser: renderer memory (RSS) with 5,000,000 lines streamed",
    bench: "browser",
    field: "manyRendererMB",
    unit: "MB",
    digits: 0,
    keys: { livetrail: "livetrail" },
    better: "lower",
    target: "< 1,024 MB (the page's budget)",
    met: (lt) => lt < 1024,
  },
  {
    figure: "browser: JS heap with 5,000,000 lines streamed",
    bench: "browser",
    field: "manyHeapMB",
    unit: "MB",
    digits: 0,
    keys: { livetrail: "livetrail" },
    better: "lower",
    target: "(reported)",
  },
  {
    figure: "browser: apply a filter over 5,000,000 lines streamed",
    bench: "browser",
    field: "manyFilterMs",
    unit: "ms",
    digits: 0,
    keys: { livetrail: "livetrail" },
    better: "lower",
    target: "< 250 ms",
    met: (lt) => lt < 250,
  },
  {
    figure: "browser: DOM nodes with 1,000,000 lines",
    bench: "browser",
    field: "domNodes",
    unit: "",
    digits: 0,
    keys: { livetrail: "livetrail" },
    better: "lower",
    target: "bounded (virtualised)",
  },
  {
    figure: "browser: apply a filter over 1,000,000 lines",
    bench: "browser",
    field: "filterMs",
    unit: "ms",
    digits: 0,
    keys: { livetrail: "livetrail" },
    better: "lower",
    target: "< 50 ms",
    met: (lt) => lt < 50,
  },
  {
    figure: "browser: render after scrolling to the middle",
    bench: "browser",
    field: "scrollRenderMs",
    unit: "ms",
    digits: 1,
    keys: { livetrail: "livetrail" },
    better: "lower",
    target: "one frame (≤ 16 ms)",
    met: (lt) => lt <= 16.7,
  },
];

/**
 * @param {number} x
 * @param {number} digits
 */
function num(x, digits) {
  if (!Number.isFinite(x)) return "n/a";
  return x.toLocaleString("en-US", { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/**
 * @param {Summary | undefined} s
 * @param {Row} row
 */
function cell(s, row) {
  if (!s) return "—";
  const d = row.digits ?? 1;
  const unit = row.unit ? ` ${row.unit}` : "";
  if (s.runs.length < 2 || s.min === s.max) return `${num(s.median, d)}${unit}`;
  return `${num(s.median, d)}${unit} (${num(s.min, d)}–${num(s.max, d)})`;
}

/**
 * Median over runs of the per-run ratio, oriented so that > 1 means livetrail is ahead.
 * @param {Summary | undefined} lt
 * @param {Summary | undefined} peer
 * @param {Row["better"]} better
 */
function lead(lt, peer, better) {
  if (!lt || !peer || better === "zero") return null;
  const n = Math.min(lt.runs.length, peer.runs.length);
  const ratios = [];
  for (let i = 0; i < n; i++) {
    const a = /** @type {number} */ (lt.runs[i]);
    const b = /** @type {number} */ (peer.runs[i]);
    if (a > 0 && b > 0) ratios.push(better === "lower" ? b / a : a / b);
  }
  const r = median(ratios);
  return Number.isFinite(r) ? r : null;
}

/**
 * @param {any} results
 * @param {string} path
 */
export function writeReport(results, path) {
  const b = results.benches ?? {};
  const lines = [
    "# Benchmarks",
    "",
    "Generated by `npm run bench` from `bench/results/latest.json`; do not edit by hand (the analysis at the end",
    "comes from `bench/analysis.md`). Every cell is the median of the runs with the min–max spread in brackets.",
    "**lead** is how far livetrail is ahead of frontail / websocketd: the median over runs of the per-run ratio",
    "(> 1× means livetrail is better). All systems run on the same machine, in the same bench run, on the same",
    "generated files, interleaved run by run; clients live in separate processes from every server.",
    "",
    `Machine: ${results.meta?.cores ?? "?"} × ${results.meta?.cpu ?? "?"}, ${results.meta?.memGiB ?? "?"} GiB, Node ${results.meta?.node ?? "?"}. ` +
      `Peers: frontail 4.9.2 (npm, the bench's own package: \`npm ci --prefix bench\`), websocketd 0.4.1 (Debian). Last run: ${results.meta?.at ?? "?"} at commit ${results.meta?.commit ?? "?"} ` +
      `(${(results.meta?.lastRun?.suites ?? []).join(", ")}: ${results.meta?.lastRun?.seconds ?? "?"} s). ` +
      (results.meta?.lastFullRun
        ? `The whole suite last took ${results.meta.lastFullRun.seconds} s (${results.meta.lastFullRun.at}).`
        : ""),
    "",
    "| figure | livetrail | frontail | websocketd | target | lead (× frontail / websocketd) | met? |",
    "|---|---|---|---|---|---|---|",
  ];
  for (const row of ROWS) {
    const sys = b[row.bench]?.systems;
    if (!sys && !b[row.bench]?.error) continue;
    const get = (/** @type {"livetrail"|"frontail"|"websocketd"} */ k) =>
      row.keys[k] ? sys?.[/** @type {string} */ (row.keys[k])]?.[row.field] : undefined;
    const lt = get("livetrail");
    const fr = get("frontail");
    const wd = get("websocketd");
    const peerCell = (/** @type {"frontail"|"websocketd"} */ k, /** @type {Summary | undefined} */ s) =>
      row.keys[k] ? cell(s, row) : (row.none ?? "—");
    const leads = [lead(lt, fr, row.better), lead(lt, wd, row.better)].map((r) =>
      r === null ? "—" : `${num(r, r >= 10 ? 0 : 1)}×`,
    );
    let met = "—";
    if (b[row.bench]?.error) met = `**bench crashed**: ${b[row.bench].error}`;
    else if (!lt) met = "**not measured**";
    else if (row.met) {
      const ok = row.met(lt.median, { frontail: fr?.median, websocketd: wd?.median }, b[row.bench]);
      met = ok === null ? "—" : ok ? "yes" : "**no**";
    }
    lines.push(
      `| ${row.figure} | ${cell(lt, row)} | ${peerCell("frontail", fr)} | ${peerCell("websocketd", wd)} | ${row.target} | ${leads.join(" / ")} | ${met} |`,
    );
  }
  lines.push("", "## Method and parameters of the last run of each bench", "");
  for (const [name, r] of Object.entries(b)) {
    const res = /** @type {any} */ (r);
    if (res.error) {
      lines.push(`- **${name}**: crashed at ${res.at}: ${res.error}`);
      continue;
    }
    lines.push(
      `- **${name}** (${res.at}, commit ${res.commit}, ${res.seconds} s${res.quick ? ", quick mode" : ""}): ` +
        `${METHOD[name] ?? ""}${extra(name, res)} Parameters: \`${JSON.stringify(res.params)}\`.` +
        (res.failures?.length ? ` **Correctness failures:** ${res.failures.join("; ")}.` : ""),
    );
  }
  const analysis = join(import.meta.dirname, "../analysis.md");
  if (existsSync(analysis)) lines.push("", readFileSync(analysis, "utf8").trim());
  writeFileSync(path, `${lines.map((l) => l.trimEnd()).join("\n")}\n`);
}

/**
 * Figures that belong in the method line rather than the table.
 * @param {string} name
 * @param {any} res
 */
function extra(name, res) {
  if (name === "search" && res.systems?.grep) {
    const g = res.systems.grep;
    return ` GNU grep on the same file: ${num(g.literalCaseMBps?.median, 0)} MB/s for the case-sensitive literal (-F), ${num(g.literalMBps?.median, 0)} MB/s with -i, ${num(g.regexMBps?.median, 0)} MB/s for the regex (-i -E).`;
  }
  return "";
}

/** @type {Record<string, string>} */
const METHOD = {
  latency:
    "one ~100-byte line appended every 50 ms (absolute schedule; each line carries its monotonic write time), one client; write(2) to receipt in the client process. The polling variant starts livetrail with file watching off, so only its stat poll finds new data.",
  throughput:
    "the whole burst is built first, then appended in 64 KiB writes that cut lines anywhere; time from the first write until the client holds every line, each line's text checked byte for byte. Peak RSS and CPU are read from /proc for the server and every process it started (frontail's `tail`, websocketd's per-client `tail`). Peers get 200k lines (they need seconds per 100k).",
  alerts:
    "livetrail only. A server per variant (`serve FILE`, with `--config` holding an `alerts` section of 50 mixed rules: bench/lib/alert-rules.js) and one client; ~100-byte audit lines of which ~3% carry words the rules look for, appended in 64 KiB writes; time until the client holds every line. Variants: no rules, the rules on the main thread (`alerts.thread: false`), the rules in the worker thread (default); they alternate within a run and the ratio to no rules is taken per run. Main-thread CPU is the server's main thread's utime+stime (/proc/PID/task/PID/stat) over the burst, per line; lines the worker was too far behind to evaluate are livetrail_alerts_lines_dropped_total.",
  fanout:
    "clients spread over two client processes; RSS per connection = (tree RSS with N idle subscribed clients − RSS with the first 100 connected and primed) / (N − 100), the slope after one-time costs (code compiled on first use, the heap's first growth); the figure from the server's start, (RSS with N − RSS before any) / N, is reported beside it. Burst: 1,000 lines (100 at 10,000 clients) in one write, time until the last client has all. Steady: 100 lines/s (10 lines/s at 10,000 clients: the client processes share the 2 cores) for 10 s, latency over every line at every client, every client checked complete. websocketd forks a `tail` per client; past fs.inotify.max_user_instances (128 here) those `tail -F` fall back to 1 s polling.",
  "idle-clients":
    "livetrail only. The server on a one-line file with --max-connections above the count; four client processes, each with its own loopback source address (127.0.0.2-5, so the ephemeral ports of one address are not the limit) and 100 connections in flight, open WebSocket clients and subscribe them (acknowledged); 2 s later the server's RSS, and one line is appended: every client must receive it within 60 s. The server's fd limit is raised to the count (prlimit); where the hard fd limit is lower, as many clients as it leaves room for (params: wanted, clients, fdLimit).",
  churn:
    "after a warm-up, three rounds of 5,000 connect → subscribe (acknowledged) → close cycles (websocketd: 1,000, it forks a process per connection), 100 in flight; fds (/proc/PID/fd) and RSS of the server tree after each round, once the fd count stops falling. Steady growth in rounds two and three (their mean is in the table) is what a leak looks like; round one includes heap growth the GC keeps.",
  "slow-clients":
    "10 clients connect, subscribe and then stop reading (socket paused), one normal client keeps reading, while 1,000-byte lines arrive at 5,000 lines/s (5 MB/s per client). Latency of the normal client and server RSS at the end of each half.",
  "paused-catch-up":
    "livetrail only. A ~42 MB log of 100-byte audit lines (~440k); one normal client subscribes live and its append-to-receipt latency is measured at 20 lines/s for 10 s (unloaded); then 60 clients connect, each subscribes with `tail: 100000` and pauses its socket right after sending, and the normal client is measured again for 10 s (loaded). Server RSS right before the paused clients connect, its peak over the connect and loaded phases (sampled every 100 ms, and the kernel's VmHWM reset before the phase), at the end of the loaded phase and after 5 s idle; growth = peak − before, against the bound 60 × (maxBufferedBytes 4 MiB + maxFrameBytes 256 KiB) + 50 MB, both limits passed to the server in a config file. What the kernel's socket buffers hold for each paused client (outside RSS) is in the JSON (kernelQueuedMBEach).",
  "cold-start":
    "the server is spawned on an existing file; a client connects as soon as the port accepts and asks for the last 1,000 lines (livetrail: subscribe tail 1000; frontail: `-n 1000`; websocketd: `tail -n1000 -F`). Timed from spawn; the file is in the page cache (no root to drop it). Idle: the server spawned on a one-line file; spawn → the port accepts a TCP connection (polled every 10 ms), and the process tree's RSS (/proc) 3 s later, no client ever connected.",
  search:
    "GET /api/streams/NAME/search over the whole file (rare word at 4 known lines: the answer must hold all 4); MB/s = file size / request time. GNU grep -c on the same file is the yardstick in the JSON.",
  redis:
    "a redis-server of the bench's own (loopback, no persistence) and `livetrail ship` agents. Shipping: one agent, a file of 100-byte lines written before it starts (backlog: lines/s from the first entry in Redis to the last, XLEN polled every 2 ms; its CPU includes node's start-up) or appended in 1 MiB writes while it follows (burst: from the first write); agent CPU from /proc, redis-server's from INFO cpu, per million lines; every line must be in Redis once (XLEN). Memory: `MEMORY USAGE key SAMPLES 0` of the backlog stream and the growth of INFO used_memory over it, per million lines (= bytes per line). Latency: the latency suite's load (one line every 50 ms) appended to a file that an agent ships to Redis, one WebSocket client on `serve --redis URL NAME`; interleaved run by run with livetrail serving a file of its own (the file backend); write(2) to receipt in the client process. Replicas: two `serve --redis` on the same stream, 1,000 clients on each (one client process per replica), 1,000 lines appended in one write to the shipped file; time until every client of both has all of them, each replica's RSS (process tree) after the burst; every client must be complete.",
  docker:
    'livetrail only. `serve --docker --docker-root DIR --docker-host none` on one container whose json-file log gets the burst (~100-byte lines as records `{"log":"…\\n","stream":"stdout","time":"…"}`, ~170 bytes each), and `serve FILE` on the same lines in a plain file, run after run; each burst is built first and appended in 64 KiB writes that cut records anywhere; time from the first write until the one client holds every line, each decoded text checked byte for byte.',
  integrity:
    "livetrail only; bench/integrity-verify.js and bench/integrity-serve.js run as child processes (their JSON is read). Verify: a file of 100-byte lines sealed with sealFile (a checkpoint every 1,000 lines; wall and CPU time of the catch-up), the sidecar's size, then `verify` (every leaf and tile recomputed on worker threads, every checkpoint's signature and root checked), one round per run; CPU is the process's, all threads. Burst: the 1M-line burst (64 KiB writes) to one WebSocket client of `serve`, sealing off and on (`--seal-key`), both modes in each round, alternating which goes first; the ratio is per round; main-thread CPU is /proc/PID/task/PID/stat over the burst and the ≥ 3 s after it (probe lines every 50 ms); 'covered after' is when GET /api/streams/NAME/integrity first reports sealedTo past the burst, from its first write (polled every ~50 ms). Proofs: one log of 10M lines (1M in quick mode) sealed with a checkpoint every 100,000 lines, served with `--log-key`; after 20 warm-up requests, inclusion proofs of random lines and consistency proofs from a random size to a random checkpoint, one request at a time over HTTP, client-side time; p50/p99 of all requests (one set per bench run, so no spread).",
  sources:
    "livetrail only. The same burst of 100-byte lines to one WebSocket client (in the bench process, live subscription), from a command stream (`serve s=sh:'...; cat BURST'`: the command prints a primer line, waits for a go file, then cats a prebuilt file of the burst) and from a plain file (`serve s=FILE`, the burst appended in 64 KiB writes); time from creating the go file / the first write until the client holds every line, each line's sequence number checked in order. The command stream's ring keeps its defaults (100,000 lines, 16 MiB): delivery to a live client does not depend on it.",
  browser:
    "headless Chromium (playwright-core, /usr/bin/chromium) on the dashboard; lines streamed by appending to the file; 1,000,000 lines first (heap after a GC, filter `action=deploy`, scroll, evaluate() while 5,000 lines/s stream), then on to 5,000,000 at 100k lines/s. Renderer memory is the RSS of Chromium's renderer processes: the JS heap figure leaves out strings and buffers V8 keeps outside its heap.",
};
