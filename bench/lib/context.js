/**
 * What every suite gets from the runner: a temp dir, which systems to run, how many runs, a logger,
 * and a way to flag a correctness failure (which fails the whole bench run).
 */
import { existsSync } from "node:fs";
import { join, resolve } from "node:path";

export const ROOT = resolve(import.meta.dirname, "../..");
/** The livetrail build under test: this checkout's dist/, or BENCH_LIVETRAIL_DIST (see systems/livetrail.js). */
export const LIVETRAIL_CLI = process.env.BENCH_LIVETRAIL_DIST
  ? existsSync(join(process.env.BENCH_LIVETRAIL_DIST, "bin/main.js"))
    ? join(process.env.BENCH_LIVETRAIL_DIST, "bin/main.js")
    : join(process.env.BENCH_LIVETRAIL_DIST, "cli/main.js")
  : join(ROOT, "dist/bin/main.js");

/**
 * @typedef {{
 *   tmp: string,
 *   quick: boolean,
 *   runs: number,
 *   systems: string[],
 *   log: (...a: unknown[]) => void,
 *   fail: (why: string) => void,
 *   failures: string[],
 * }} Context
 */

/**
 * @param {{ tmp: string, quick: boolean, runs?: number, systems?: string[] }} o
 * @returns {Context}
 */
export function makeContext({ tmp, quick, runs, systems }) {
  /** @type {string[]} */
  const failures = [];
  const all = ["livetrail", "frontail", "websocketd"];
  let chosen = systems ?? all;
  if (chosen.includes("livetrail") && !existsSync(LIVETRAIL_CLI)) {
    console.log(`! ${LIVETRAIL_CLI} is missing (npm run build): livetrail rows are skipped`);
    chosen = chosen.filter((s) => s !== "livetrail");
  }
  return {
    tmp,
    quick,
    runs: runs ?? (quick ? 1 : 3),
    systems: chosen,
    log: (...a) => console.log(...a),
    fail: (why) => {
      failures.push(why);
      console.log(`FAIL: ${why}`);
    },
    failures,
  };
}
