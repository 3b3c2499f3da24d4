/**
 * The ship agent (`livetrail ship`) against a real redis-server, beside the file backend, on one machine.
 * Prints one JSON object:
 *   - backlog and burst: one agent ships N 100-byte lines (bench/lib/redis.js measureShipping: lines/s, the agent's
 *     CPU seconds and peak RSS, Redis's CPU seconds; on a shared 2-core machine the CPU seconds say more than the
 *     rate: 1 / max(agent, Redis) CPU per line is the rate with a core each);
 *   - redis memory: `MEMORY USAGE key SAMPLES 0` and the change in INFO used_memory, per million lines;
 *   - fileBackend: the same lines read by the file follower alone (lines/s), and the file's size per million lines.
 * `npm run bench -- redis` measures the same inside the bench run (bench/suites/redis.js), with latency and
 * replicas. Usage: node bench/redis-ship.js [--lines N] [--runs R]   (after `npm run build`; needs redis-server)
 */
import { mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Follower } from "../dist/backend/file/follower.js";
import { buildBurst, LINE_BYTES } from "./lib/lines.js";
import { nowMs } from "./lib/proc.js";
import { measureShipping, redisVersion, startRedis } from "./lib/redis.js";

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i < 0 ? fallback : Number(process.argv[i + 1]);
};
const LINES = arg("--lines", 1_000_000);
const RUNS = arg("--runs", 3);

async function followerRate(file, n) {
  const follower = new Follower(file, { start: { from: "start" }, watch: false });
  let seen = 0;
  const t0 = nowMs();
  follower.on((e) => {
    if (e.type === "lines") seen += e.lines.length;
  });
  await follower.start();
  const ms = nowMs() - t0;
  await follower.close();
  if (seen !== n) throw new Error(`follower read ${seen} lines, expected ${n}`);
  return (n / ms) * 1000;
}

const dir = mkdtempSync(join(tmpdir(), "livetrail-bench-ship-"));
const server = await startRedis(dir);
const burst = buildBurst(LINES);
const runs = [];
try {
  for (let run = 0; run < RUNS; run++) {
    const rec = await measureShipping(server, { dir, tag: String(run), burst, lines: LINES });
    if (rec.backlogEntries !== LINES || rec.burstEntries !== LINES)
      throw new Error(`shipped ${rec.backlogEntries} / ${rec.burstEntries} entries for ${LINES} lines`);
    const file = join(dir, `file-${run}.log`);
    writeFileSync(file, burst);
    runs.push({
      ...rec,
      fileFollowerLinesPerSec: await followerRate(file, LINES),
      fileBytesPerMillionLines: (statSync(file).size / LINES) * 1e6,
    });
    rmSync(file);
  }
} finally {
  await server.stop();
  rmSync(dir, { recursive: true, force: true });
}
const median = (key) => {
  const values = runs.map((r) => r[key]).sort((a, b) => a - b);
  return values[Math.floor(values.length / 2)];
};
console.log(
  JSON.stringify(
    {
      suite: "redis-ship",
      params: { lines: LINES, lineBytes: LINE_BYTES, runs: RUNS, redis: redisVersion(), persistence: "none" },
      median: Object.fromEntries(Object.keys(runs[0]).map((k) => [k, median(k)])),
      runs,
    },
    null,
    2,
  ),
);
