/**
 * 1. Latency: one line appended every 50 ms, 200 lines; write-to-receipt p50/p99/max at one client.
 * livetrail also runs with its polling fallback forced. Systems are interleaved run by run so that
 * machine noise falls on all of them alike.
 */
import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ClientPool } from "../lib/client-pool.js";
import { makeLine, writePaced } from "../lib/lines.js";
import { summarizeRecords } from "../lib/stats.js";
import { systems } from "../lib/systems/index.js";

/**
 * The paced load: `count` lines, one every `intervalMs` (the redis suite measures through Redis with the same).
 * @param {import("../lib/context.js").Context} ctx
 */
export function latencyLoad(ctx) {
  return { count: ctx.quick ? 60 : 200, intervalMs: 50 };
}

/**
 * One paced run at one connected-to server: the client is primed, then `count` lines are written one every
 * `intervalMs` to `file`; resolves with write-to-receipt p50/p99/max and the correctness counts (`rec`), and the gaps the client was told of.
 * @param {ClientPool} pool a pool of one client, disconnected by the caller
 * @param {{ system: string, target: any, file: string, count: number, intervalMs: number, what: string }} o
 */
export async function pacedLatency(pool, o) {
  const c = await pool.connect(o.system, o.target, 1);
  if (c.failed) throw new Error(`${o.what}: could not connect: ${c.errorSamples.join("; ")}`);
  let primer = -1;
  await pool.primeAll(() => appendFileSync(o.file, makeLine(primer--)));
  await pool.track(0, o.count, { verify: true });
  const done = pool.allDone(o.count * o.intervalMs + 10_000).catch(() => 0);
  await writePaced(o.file, { count: o.count, intervalMs: o.intervalMs });
  await done;
  const r = await pool.report();
  const rec = {
    p50: r.latency.p50,
    p99: r.latency.p99,
    max: r.latency.max,
    lost: r.lost,
    dup: r.dup,
    mangled: r.mangled,
  };
  return { rec, gaps: r.gaps };
}

/** @param {import("../lib/context.js").Context} ctx */
export async function latency(ctx) {
  const { count, intervalMs } = latencyLoad(ctx);
  /** @type {{ key: string, system: string, poll?: boolean }[]} */
  const variants = [];
  for (const s of ctx.systems) {
    variants.push({ key: s, system: s });
    if (s === "livetrail") variants.push({ key: "livetrail-poll", system: s, poll: true });
  }
  /** @type {Record<string, Record<string, number>[]>} */
  const records = Object.fromEntries(variants.map((v) => [v.key, []]));
  const pool = new ClientPool(1);
  try {
    for (let run = 0; run < ctx.runs; run++) {
      for (const v of variants) {
        const file = join(ctx.tmp, `latency-${v.key}-${run}.log`);
        writeFileSync(file, "");
        const server = await /** @type {import("../lib/systems/types.js").System} */ (
          systems[v.system]
        ).start({
          file,
          poll: v.poll,
        });
        try {
          const { rec } = await pacedLatency(pool, {
            system: v.system,
            target: server.target,
            file,
            count,
            intervalMs,
            what: v.key,
          });
          records[v.key]?.push(rec);
          ctx.log(
            `  latency ${v.key} run ${run + 1}: p50 ${fmt(rec.p50)} p99 ${fmt(rec.p99)} max ${fmt(rec.max)} ms, lost ${rec.lost} dup ${rec.dup}`,
          );
          if (v.system === "livetrail" && (rec.lost || rec.dup || rec.mangled)) {
            ctx.fail(`latency ${v.key}: lost ${rec.lost}, duplicated ${rec.dup}, mangled ${rec.mangled}`);
          }
        } finally {
          await pool.disconnectAll();
          await server.stop();
        }
      }
    }
  } finally {
    await pool.close();
  }
  return {
    params: { lines: count, intervalMs, runs: ctx.runs },
    systems: Object.fromEntries(Object.entries(records).map(([k, recs]) => [k, summarizeRecords(recs)])),
  };
}

/** @param {number} x */
const fmt = (x) => x.toFixed(2);
