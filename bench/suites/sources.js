/**
 * Sources: a burst of ~100-byte lines from a command stream (`serve c=sh:'... cat BURST'`) to one client, beside
 * the same burst appended to a plain file (`serve f=FILE`, 64 KiB writes). Time from the trigger (the go file /
 * the first write) until the client holds every line; every line is checked once, in order (parseLine's seq).
 * livetrail only: frontail and websocketd have no command streams of this kind (websocketd runs one per client).
 */
import { appendFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildBurst, makeLine, parseLine, writeBurst } from "../lib/lines.js";
import { nowMs, procStat, startSampler, waitFor } from "../lib/proc.js";
import { summarizeRecords } from "../lib/stats.js";
import { livetrail } from "../lib/systems/livetrail.js";

/** @param {import("../lib/context.js").Context} ctx */
export async function sources(ctx) {
  const lines = ctx.quick ? 100_000 : 1_000_000;
  const burst = buildBurst(lines);
  /** @type {Record<string, Record<string, number>[]>} */
  const records = { file: [], command: [] };
  for (let run = 0; run < ctx.runs; run++) {
    for (const variant of /** @type {const} */ (["file", "command"])) {
      const file = join(ctx.tmp, `sources-${variant}-${run}.log`);
      const go = join(ctx.tmp, `sources-go-${run}`);
      const burstFile = join(ctx.tmp, `sources-burst-${run}.log`);
      writeFileSync(file, "");
      if (variant === "command") writeFileSync(burstFile, burst);
      // The command prints a primer line, waits for the go file, then the whole burst as fast as cat writes.
      const spec =
        variant === "file"
          ? `s=${file}`
          : `s=sh:echo '${makeLine(-1).trimEnd()}'; while [ ! -e '${go}' ]; do sleep 0.005; done; cat '${burstFile}'; exec sleep 1000`;
      const server = await livetrail.start({ file: spec });
      try {
        let got = 0;
        let next = 0;
        let bad = 0;
        let primed = false;
        const client = await livetrail.connect(
          { ...server.target, stream: "s" },
          {
            tailLines: 10,
            onLine(text) {
              const parsed = parseLine(text);
              if (parsed === null) return;
              if (parsed.seq < 0) {
                primed = true;
                return;
              }
              if (parsed.seq !== next) bad++;
              next = parsed.seq + 1;
              got++;
            },
            onGap() {
              bad++;
            },
          },
        );
        if (variant === "file") {
          appendFileSync(file, makeLine(-1));
        }
        await waitFor(() => primed, { timeoutMs: 30_000, what: "the primer line" });
        const sampler = startSampler(server.pid, 50);
        const t0 = nowMs();
        if (variant === "file") writeBurst(file, burst);
        else writeFileSync(go, "");
        await waitFor(() => got >= lines || bad > 0, {
          timeoutMs: 180_000,
          intervalMs: 2,
          what: "every line",
        });
        const ms = nowMs() - t0;
        const res = sampler.stop();
        const rec = {
          seconds: ms / 1000,
          linesPerSec: lines / (ms / 1000),
          lossSum: bad + (lines - got),
          peakRssMB: Math.max(res.peakRss, procStat(server.pid)?.hwm ?? 0) / 2 ** 20,
          cpuSeconds: res.cpuS,
        };
        records[variant]?.push(rec);
        ctx.log(
          `  sources ${variant} run ${run + 1}: ${lines} lines in ${rec.seconds.toFixed(2)} s ` +
            `(${Math.round(rec.linesPerSec)} lines/s), out of order/lost ${rec.lossSum}, peak RSS ${rec.peakRssMB.toFixed(0)} MB, ` +
            `CPU ${rec.cpuSeconds.toFixed(2)} s`,
        );
        if (rec.lossSum > 0)
          ctx.fail(`sources ${variant}: ${rec.lossSum} lines lost, repeated or out of order`);
        await client.close();
      } finally {
        await server.stop();
      }
    }
  }
  return {
    params: { lines, lineBytes: 100, runs: ctx.runs },
    systems: Object.fromEntries(Object.entries(records).map(([k, recs]) => [k, summarizeRecords(recs)])),
  };
}
