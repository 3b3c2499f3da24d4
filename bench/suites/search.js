/**
 * 7. History search: the server's search API over the whole 1 GB file for a rare word (literal) and for a
 * regex, in MB/s of file scanned. The peers have no server-side search; GNU grep on the same file is shown
 * as a yardstick of what the disk cache and one core allow. Every answer must hold every rare line.
 * Then a catastrophic pattern, `(a+)+$`, over a file of lines of a's ending in "!" (a backtracking engine needs
 * 2^n steps per line), against a plain regex over the same file: the ratio of their times (≈ 1 when no pattern
 * takes longer than a scan; a backtracking engine hits the 5 s search limit instead).
 */
import { execFileSync } from "node:child_process";
import { writeFileSync } from "node:fs";
import { basename, join } from "node:path";
import { bigFile, RARE } from "../lib/big-file.js";
import { nowMs } from "../lib/proc.js";
import { summarizeRecords } from "../lib/stats.js";
import { systems } from "../lib/systems/index.js";
import { BIG_BYTES } from "./cold-start.js";

/** @param {import("../lib/context.js").Context} ctx */
export async function search(ctx) {
  const big = await bigFile(ctx.tmp, ctx.quick ? 100 * 2 ** 20 : BIG_BYTES);
  const mb = big.bytes / 1e6;
  /** @type {Record<string, Record<string, number>[]>} */
  const records = { livetrail: [], grep: [] };
  // The API's default is case-insensitive; a case-sensitive literal can be matched on raw bytes.
  const queries = {
    literal: { q: RARE, regex: "0", case: "0" },
    literalCase: { q: RARE, regex: "0", case: "1" },
    regex: { q: `zanz[a-z]+qu{2}x`, regex: "1", case: "0" },
  };
  const evilPath = join(ctx.tmp, "evil.log");
  const evilLines = ctx.quick ? 100_000 : 500_000;
  writeFileSync(evilPath, `${"a".repeat(99)}!\n`.repeat(evilLines));
  const evilMB = (evilLines * 101) / 1e6;
  const evilQueries = { plain: "zanz[a-z]+qu{2}x", catastrophic: "(a+)+$" };
  const server = ctx.systems.includes("livetrail")
    ? await systems.livetrail?.start({ file: big.path, args: [evilPath] })
    : null;
  try {
    for (let run = 0; run < ctx.runs; run++) {
      /** @type {Record<string, number>} */
      const rec = {};
      if (server) {
        for (const [kind, p] of Object.entries(queries)) {
          const url = `http://127.0.0.1:${server.port}/api/streams/${encodeURIComponent(basename(big.path))}/search?q=${encodeURIComponent(p.q)}&regex=${p.regex}&case=${p.case}&limit=100`;
          const t0 = nowMs();
          const res = await fetch(url);
          const body = /** @type {any} */ (await res.json());
          const s = (nowMs() - t0) / 1000;
          const found = Array.isArray(body.matches) ? body.matches.length : -1;
          rec[`${kind}MBps`] = body.timedOut || res.status !== 200 ? Number.NaN : mb / s;
          rec[`${kind}Seconds`] = s;
          rec[`${kind}Found`] = found;
          ctx.log(
            `  search livetrail ${kind} run ${run + 1}: HTTP ${res.status}, ${found}/${big.rareCount} found in ${s.toFixed(2)} s ` +
              `(${(mb / s).toFixed(0)} MB/s)${body.timedOut ? ", TIMED OUT" : ""}`,
          );
          if (res.status === 200 && !body.timedOut && found !== big.rareCount) {
            ctx.fail(`search ${kind}: livetrail found ${found} of ${big.rareCount} lines`);
          }
        }
        /** @type {Record<string, number>} */
        const evilSeconds = {};
        for (const [kind, q] of Object.entries(evilQueries)) {
          const url = `http://127.0.0.1:${server.port}/api/streams/${encodeURIComponent(basename(evilPath))}/search?q=${encodeURIComponent(q)}&regex=1&case=1&limit=100`;
          const t0 = nowMs();
          const res = await fetch(url);
          const body = /** @type {any} */ (await res.json());
          const s = (nowMs() - t0) / 1000;
          evilSeconds[kind] = body.timedOut || res.status !== 200 ? Number.NaN : s;
          ctx.log(
            `  search livetrail ${kind} ${q} over ${evilMB.toFixed(0)} MB of a's: HTTP ${res.status} in ${s.toFixed(2)} s ` +
              `(${(evilMB / s).toFixed(0)} MB/s)${body.timedOut ? ", TIMED OUT" : ""}`,
          );
          if (res.status === 200 && !body.timedOut && body.matches?.length !== 0) {
            ctx.fail(`search ${kind}: livetrail found ${body.matches?.length} lines where none match`);
          }
        }
        rec.catastrophicMBps = evilMB / (evilSeconds.catastrophic ?? Number.NaN);
        rec.catastrophicVsScan = (evilSeconds.catastrophic ?? Number.NaN) / (evilSeconds.plain ?? Number.NaN);
        records.livetrail?.push(rec);
      }
      /** @type {Record<string, number>} */
      const g = {};
      // The same three questions: any-case literal, case-sensitive literal, any-case regex.
      const grepArgs = {
        literal: ["-c", "-i", "-F", RARE],
        literalCase: ["-c", "-F", RARE],
        regex: ["-c", "-i", "-E", queries.regex.q],
      };
      for (const [kind, args] of Object.entries(grepArgs)) {
        const t0 = nowMs();
        const out = execFileSync("grep", [...args, big.path])
          .toString()
          .trim();
        const s = (nowMs() - t0) / 1000;
        g[`${kind}MBps`] = mb / s;
        g[`${kind}Found`] = Number(out);
      }
      records.grep?.push(g);
      ctx.log(`  search grep run ${run + 1}: ${JSON.stringify(g)}`);
    }
  } finally {
    await server?.stop();
  }
  return {
    params: {
      fileBytes: big.bytes,
      word: RARE,
      regex: queries.regex.q,
      catastrophic: evilQueries.catastrophic,
      catastrophicFileBytes: evilLines * 101,
      runs: ctx.runs,
      pageCache: "warm",
    },
    systems: Object.fromEntries(Object.entries(records).map(([k, recs]) => [k, summarizeRecords(recs)])),
  };
}
