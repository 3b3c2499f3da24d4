/**
 * 6. Cold start on a big file: time from spawning the server until a client has the last 1,000 lines
 * (the server process is cold; the file is in the page cache, as it is on a box that just wrote it), and the
 * server's RSS then. The same on a 10 MB file shows whether RSS depends on the file's size.
 * frontail needs `-n 1000` and websocketd `tail -n1000` for this: that is how each sends existing lines.
 * Idle: the server spawned on a one-line file: spawn -> the port accepts, and its RSS IDLE_MS later with no
 * client ever connected (what a server that nobody watches costs).
 */

import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { bigFile, TAIL } from "../lib/big-file.js";
import { ClientPool } from "../lib/client-pool.js";
import { nowMs, sleep, treeStat } from "../lib/proc.js";
import { summarizeRecords } from "../lib/stats.js";
import { systems } from "../lib/systems/index.js";

export const BIG_BYTES = 1024 ** 3;
/** How long the idle server runs before its RSS is read: start-up's garbage is collected by then. */
const IDLE_MS = 3000;

/** @param {import("../lib/context.js").Context} ctx */
export async function coldStart(ctx) {
  const bigBytes = ctx.quick ? 100 * 2 ** 20 : BIG_BYTES;
  const t = Date.now();
  const big = await bigFile(ctx.tmp, bigBytes);
  const small = await bigFile(ctx.tmp, 10 * 2 ** 20);
  const oneLine = join(ctx.tmp, "cold-start-one-line.log");
  writeFileSync(oneLine, "[2026-01-01T00:00:00Z] seq=-1 t=0 idle\n");
  ctx.log(
    `  generated ${(big.bytes / 2 ** 20).toFixed(0)} MB and ${(small.bytes / 2 ** 20).toFixed(0)} MB logs in ${Date.now() - t} ms`,
  );
  /** @type {Record<string, Record<string, number>[]>} */
  const records = Object.fromEntries(ctx.systems.map((s) => [s, []]));
  const pool = new ClientPool(1);
  try {
    for (let run = 0; run < ctx.runs; run++) {
      for (const s of ctx.systems) {
        const onBig = await coldRun(pool, s, big);
        const onSmall = await coldRun(pool, s, small);
        const idle = await idleRun(s, oneLine);
        const rec = {
          ms: onBig.ms,
          listenMs: onBig.listenMs,
          afterListenMs: onBig.ms - onBig.listenMs,
          rssMB: onBig.rss / 2 ** 20,
          smallFileMs: onSmall.ms,
          smallFileRssMB: onSmall.rss / 2 ** 20,
          rssBigMinusSmallMB: (onBig.rss - onSmall.rss) / 2 ** 20,
          lost: onBig.lost,
          idleListenMs: idle.listenMs,
          idleRssMB: idle.rss / 2 ** 20,
        };
        records[s]?.push(rec);
        ctx.log(
          `  cold-start ${s} run ${run + 1}: last ${TAIL} lines of ${(big.bytes / 2 ** 30).toFixed(2)} GB in ` +
            `${rec.ms.toFixed(0)} ms (listening after ${rec.listenMs.toFixed(0)} ms), RSS ${rec.rssMB.toFixed(0)} MB; ` +
            `10 MB file: ${rec.smallFileMs.toFixed(0)} ms, RSS ${rec.smallFileRssMB.toFixed(0)} MB; lost ${rec.lost}; ` +
            `idle on one line: listening after ${rec.idleListenMs.toFixed(0)} ms, RSS ${rec.idleRssMB.toFixed(1)} MB`,
        );
        if (s === "livetrail" && onBig.lost)
          ctx.fail(`cold-start: livetrail client missed ${onBig.lost} of the last lines`);
      }
    }
  } finally {
    await pool.close();
  }
  return {
    params: {
      fileBytes: big.bytes,
      smallFileBytes: small.bytes,
      tailLines: TAIL,
      runs: ctx.runs,
      pageCache: "warm",
      idleMs: IDLE_MS,
    },
    systems: Object.fromEntries(Object.entries(records).map(([k, recs]) => [k, summarizeRecords(recs)])),
  };
}

/**
 * @param {ClientPool} pool
 * @param {string} name
 * @param {import("../lib/big-file.js").BigFile} file
 */
async function coldRun(pool, name, file) {
  const system = /** @type {import("../lib/systems/types.js").System} */ (systems[name]);
  await pool.track(file.tailFirstSeq, TAIL);
  const t0 = nowMs();
  const server = await system.start({ file: file.path, tailLines: TAIL });
  const listenMs = nowMs() - t0;
  try {
    await pool.connect(name, server.target, 1, { tailLines: TAIL });
    const s = await pool.settle({ stallMs: 5000, timeoutMs: 60_000 });
    const r = await pool.report();
    return { ms: s.complete ? s.at - t0 : Number.NaN, listenMs, rss: treeStat(server.pid).rss, lost: r.lost };
  } finally {
    await pool.disconnectAll();
    await server.stop();
  }
}

/**
 * @param {string} name
 * @param {string} file
 */
async function idleRun(name, file) {
  const system = /** @type {import("../lib/systems/types.js").System} */ (systems[name]);
  const t0 = nowMs();
  const server = await system.start({ file });
  const listenMs = nowMs() - t0;
  try {
    await sleep(IDLE_MS);
    return { listenMs, rss: treeStat(server.pid).rss };
  } finally {
    await server.stop();
  }
}
