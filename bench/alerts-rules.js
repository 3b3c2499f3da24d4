/**
 * Alert rules in the hot path: what 50 mixed rules cost per line, against no rules. `node bench/alerts-rules.js
 * [--quick] [--runs N]` (build dist/ first: `npm run build`); prints one JSON object.
 * Two mixes of 50 rules (match, rate, anomaly, silence, source; literals, caseless literals, regexes, levels):
 * every regex with some fixed text, and the same with two regexes that have none (tested on every line).
 * 1. engine: ~1M lines (100k distinct ~100-byte audit lines, 10 rounds, 64 KiB batches) through
 *    AlertEngine.onLines; CPU ns per line, and the end-to-end ratio that cost projects onto the documented
 *    1M-line burst to one WebSocket client (docs/benchmarks.md: 1.12M lines/s, ~893 ns per line).
 * 2. feed: a 1M-line burst appended to a real file followed by a Hub (FileBackend, the server's own read, split
 *    and window path, no client), with the engine tapped and without; lines per CPU second and their ratio.
 *    With no client the hub does the least work per line, so this ratio is the worst case of the drop.
 * Runs alternate with/without so drift on the shared machine hits both alike; the median is reported.
 */
import { appendFileSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import { join } from "node:path";
import { extraFor, rules50 } from "./lib/alert-rules.js";
import { makeLine } from "./lib/lines.js";

const dist = new URL("../dist/", import.meta.url);
const { AlertEngine } = await import(new URL("alerts/engine.js", dist).href);
const { parseRules } = await import(new URL("alerts/rule-config.js", dist).href);
const { FileBackend } = await import(new URL("backend/file/file-backend.js", dist).href);
const { Hub } = await import(new URL("server/hub.js", dist).href);

const args = process.argv.slice(2);
const quick = args.includes("--quick");
const runsAt = args.indexOf("--runs");
const RUNS = runsAt >= 0 ? Number(args[runsAt + 1]) : quick ? 1 : 5;
const FEED_LINES = quick ? 200_000 : 1_000_000;

function makeEngine(rules) {
  let notified = 0;
  const engine = new AlertEngine({ rules, backlogMs: Number.POSITIVE_INFINITY, onNotify: () => notified++ });
  return { engine, notified: () => notified };
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
}

/** 1. ns per line through onLines. */
async function engineCost(rules) {
  const distinct = 100_000;
  const rounds = quick ? 2 : 10;
  const lines = [];
  for (let i = 0; i < distinct; i++) {
    const text = makeLine(i, 0, extraFor(i)).slice(0, -1);
    lines.push({ seq: i, text, start: i * 100, end: i * 100 + 100, cursor: `1.x.${i}` });
  }
  const batches = [];
  for (let i = 0; i < lines.length; i += 650) batches.push(lines.slice(i, i + 650));
  const source = { name: "audit", cursor: null };
  const { engine, notified } = makeEngine(rules);
  await engine.start();
  engine.watch("audit");
  for (const b of batches) engine.onLines(source, b); // warm-up round
  // CPU time, not wall time: the machine is shared, and a busy neighbour must not count as rule cost.
  const cpu0 = process.cpuUsage();
  for (let r = 0; r < rounds; r++) for (const b of batches) engine.onLines(source, b);
  const cpu = process.cpuUsage(cpu0);
  const ns = ((cpu.user + cpu.system) * 1000) / (rounds * distinct);
  await engine.close();
  return { nsPerLine: ns, notifications: notified() };
}

/** 2. lines/s from append to the tap of a real hub over a real file. */
async function feedRate(rules, dir, run) {
  const file = join(dir, `feed-${rules === null ? "none" : "rules"}-${run}.log`);
  writeFileSync(file, "");
  const hub = new Hub("audit", new FileBackend("audit", file, { pollIntervalMs: 50 }), true, {
    windowLines: 10_000,
    windowBytes: 64 << 20,
    maxFrameBytes: 256 << 10,
  });
  let seen = 0;
  let done;
  const all = new Promise((resolve) => {
    done = resolve;
  });
  let engine = null;
  if (rules !== null) {
    engine = makeEngine(rules).engine;
    await engine.start();
    engine.attach(hub);
  }
  hub.tap({
    onLines: (_h, lines) => {
      seen += lines.length;
      if (seen >= FEED_LINES) done();
    },
    onEvent: () => {},
  });
  await hub.start();
  const parts = [];
  for (let i = 0; i < FEED_LINES; i++) parts.push(makeLine(i, 0, extraFor(i)));
  const burst = Buffer.from(parts.join(""));
  const t0 = performance.now();
  const cpu0 = process.cpuUsage();
  for (let at = 0; at < burst.length; at += 1 << 16) appendFileSync(file, burst.subarray(at, at + (1 << 16)));
  await all;
  const cpu = process.cpuUsage(cpu0);
  const seconds = (performance.now() - t0) / 1000;
  await hub.close();
  await engine?.close();
  // Per CPU second of this process (writing the burst included, the same for both): robust to neighbours.
  return { wall: FEED_LINES / seconds, cpu: FEED_LINES / ((cpu.user + cpu.system) / 1e6) };
}

const mixes = { withLiterals: parseRules(rules50(false)), twoLiteralFree: parseRules(rules50(true)) };
const dir = mkdtempSync(join(os.tmpdir(), "livetrail-bench-alerts-"));
try {
  const engine = { none: [], withLiterals: [], twoLiteralFree: [], notifications: 0 };
  const feed = { none: [], withLiterals: [], twoLiteralFree: [] };
  for (let run = 0; run < RUNS; run++) {
    engine.none.push((await engineCost([])).nsPerLine);
    for (const [mix, rules] of Object.entries(mixes)) {
      const cost = await engineCost(rules);
      engine[mix].push(cost.nsPerLine);
      engine.notifications = cost.notifications;
    }
    feed.none.push(await feedRate(null, dir, run));
    for (const [mix, rules] of Object.entries(mixes)) feed[mix].push(await feedRate(rules, dir, run));
  }
  const round1 = (x) => Number(x.toFixed(1));
  const cpuRate = (mix) => median(feed[mix].map((r) => r.cpu));
  const wallRate = (mix) => median(feed[mix].map((r) => r.wall));
  // Against the documented end-to-end burst (1M lines to one WebSocket client, docs/benchmarks.md): ns per line.
  const e2eNsPerLine = 1e9 / 1_120_000;
  const out = {
    bench: "alerts-rules",
    date: new Date().toISOString(),
    node: process.version,
    cpus: os.cpus().length,
    loadavg: os.loadavg().map((x) => Number(x.toFixed(2))),
    runs: RUNS,
    rules: 50,
    engine: {
      lines: (quick ? 2 : 10) * 100_000,
      unit: "CPU ns per line through AlertEngine.onLines",
      none: round1(median(engine.none)),
      withLiterals: round1(median(engine.withLiterals)),
      twoLiteralFree: round1(median(engine.twoLiteralFree)),
      samples: {
        withLiterals: engine.withLiterals.map(round1),
        twoLiteralFree: engine.twoLiteralFree.map(round1),
      },
      notificationsPerRound: engine.notifications,
      endToEndNsPerLine: round1(e2eNsPerLine),
      projectedEndToEndRatio: {
        withLiterals: Number((e2eNsPerLine / (e2eNsPerLine + median(engine.withLiterals))).toFixed(3)),
        twoLiteralFree: Number((e2eNsPerLine / (e2eNsPerLine + median(engine.twoLiteralFree))).toFixed(3)),
      },
    },
    feed: {
      lines: FEED_LINES,
      unit: "lines per CPU second of the process (wall in wallLinesPerSec), a real file followed by a Hub, no client",
      none: Math.round(cpuRate("none")),
      withLiterals: Math.round(cpuRate("withLiterals")),
      twoLiteralFree: Math.round(cpuRate("twoLiteralFree")),
      ratio: {
        withLiterals: Number((cpuRate("withLiterals") / cpuRate("none")).toFixed(3)),
        twoLiteralFree: Number((cpuRate("twoLiteralFree") / cpuRate("none")).toFixed(3)),
      },
      wallLinesPerSec: {
        none: Math.round(wallRate("none")),
        withLiterals: Math.round(wallRate("withLiterals")),
        twoLiteralFree: Math.round(wallRate("twoLiteralFree")),
      },
    },
  };
  console.log(JSON.stringify(out, null, 2));
} finally {
  rmSync(dir, { recursive: true, force: true });
}
