/**
 * Docker: lines/s from a container's json-file log to one client (`serve --docker`: records decoded, partial
 * records joined), beside the same lines in a plain file (`serve FILE`). The same ~100-byte lines either way: a
 * record `{"log":"<line>\n","stream":"stdout","time":"..."}` is ~170 bytes. The burst is built first, then
 * appended in 64 KiB writes that cut records anywhere; time from the first write until the client holds every
 * line, each line's text checked byte for byte (the decoded text must be the line).
 */
import { randomBytes } from "node:crypto";
import { appendFileSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ClientPool } from "../lib/client-pool.js";
import { makeLine, writeBurst } from "../lib/lines.js";
import { nowMs, procStat, startSampler } from "../lib/proc.js";
import { summarizeRecords } from "../lib/stats.js";
import { livetrail } from "../lib/systems/livetrail.js";

const TIME = "2026-12-04T12:00:00.123456789Z";

/** @param {string} line a line with its "\n", as makeLine gives it */
function recordOf(line) {
  return `{"log":${JSON.stringify(line)},"stream":"stdout","time":"${TIME}"}\n`;
}

/** @param {import("../lib/context.js").Context} ctx */
export async function docker(ctx) {
  const lines = ctx.quick ? 100_000 : 500_000;
  const plain = [];
  const records = [];
  for (let i = 0; i < lines; i++) {
    const line = makeLine(i);
    plain.push(line);
    records.push(recordOf(line));
  }
  const bursts = { file: Buffer.from(plain.join("")), docker: Buffer.from(records.join("")) };
  /** @type {Record<string, Record<string, number>[]>} */
  const results = { file: [], docker: [] };
  const pool = new ClientPool(1);
  try {
    for (let run = 0; run < ctx.runs; run++) {
      for (const key of /** @type {const} */ (["file", "docker"])) {
        let file = join(ctx.tmp, `docker-bench-${run}.log`);
        let server;
        if (key === "docker") {
          const root = join(ctx.tmp, `docker-root-${run}`);
          const id = randomBytes(32).toString("hex");
          const dir = join(root, "containers", id);
          mkdirSync(dir, { recursive: true });
          writeFileSync(
            join(dir, "config.v2.json"),
            JSON.stringify({ ID: id, Name: "/bench", State: { Running: true } }),
          );
          writeFileSync(
            join(dir, "hostconfig.json"),
            JSON.stringify({ LogConfig: { Type: "json-file", Config: {} } }),
          );
          file = join(dir, `${id}-json.log`);
          writeFileSync(file, "");
          server = await livetrail.start({ file, docker: { root, stream: "bench" } });
        } else {
          writeFileSync(file, "");
          server = await livetrail.start({ file });
        }
        try {
          const c = await pool.connect("livetrail", server.target, 1);
          if (c.failed) throw new Error(`${key}: could not connect: ${c.errorSamples.join("; ")}`);
          let primer = -1;
          await pool.primeAll(() => {
            const line = makeLine(primer--);
            appendFileSync(file, key === "docker" ? recordOf(line) : line);
          });
          await pool.track(0, lines, { verify: true, burst: true });
          const sampler = startSampler(server.pid, 50);
          const t0 = nowMs();
          const settled = pool.settle({ stallMs: 5000, timeoutMs: 120_000 });
          writeBurst(file, bursts[key]);
          const s = await settled;
          const res = sampler.stop();
          const r = await pool.report();
          const ms = s.complete ? s.at - t0 : Number.NaN;
          const rec = {
            seconds: ms / 1000,
            linesPerSec: s.complete ? lines / (ms / 1000) : Number.NaN,
            mbPerSec: s.complete ? bursts[key].length / 2 ** 20 / (ms / 1000) : Number.NaN,
            lossSum: r.lost + r.dup + r.mangled,
            peakRssMB: Math.max(res.peakRss, procStat(server.pid)?.hwm ?? 0) / 2 ** 20,
            cpuSeconds: res.cpuS,
          };
          results[key]?.push(rec);
          ctx.log(
            `  docker ${key} run ${run + 1}: ${lines} lines (${(bursts[key].length / 2 ** 20).toFixed(0)} MB) in ` +
              `${rec.seconds.toFixed(2)} s (${Math.round(rec.linesPerSec)} lines/s), lost ${r.lost} dup ${r.dup} ` +
              `mangled ${r.mangled}, peak RSS ${rec.peakRssMB.toFixed(0)} MB, CPU ${rec.cpuSeconds.toFixed(2)} s`,
          );
          if (r.lost || r.dup || r.mangled || r.gaps) {
            ctx.fail(
              `docker ${key}: lost ${r.lost}, duplicated ${r.dup}, mangled ${r.mangled}, gaps ${r.gaps}`,
            );
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
    params: { lines, lineBytes: 100, recordBytes: Math.round(bursts.docker.length / lines), runs: ctx.runs },
    systems: Object.fromEntries(Object.entries(results).map(([k, recs]) => [k, summarizeRecords(recs)])),
  };
}
