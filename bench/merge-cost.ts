/**
 * What the dashboard's merged view costs per line (src/web/merged-store.ts), in Node, without a browser:
 * `npx rolldown bench/merge-cost.ts --file /tmp/merge-cost.mjs --platform node && node --expose-gc /tmp/merge-cost.mjs`.
 * Not part of `npm run bench` (no peer to compare with); its numbers are quoted in docs/dashboard.md.
 *
 * 1. in order: two streams' live lines arriving in time order, 100 lines per batch (appends to the merge);
 * 2. late ties: the same, but every batch of stream 1 arrives before stream 0's batch of the same second, so each
 *    of stream 0's batches is an insert in the middle (the stable order puts stream 0 first);
 * 3. each with a literal filter on the merged list; 4. a rebuild of the whole merge (what a gap fill costs).
 */
import { FilterIndex } from "../src/web/filter.js";
import { MergedStore } from "../src/web/merged-store.js";
import { type InLine, StreamStore } from "../src/web/store.js";

let TOTAL = Number(process.env.MERGE_LINES ?? 1_000_000);
const BATCH = 100;
const T0 = Date.UTC(2025, 11, 17, 17, 0, 0);

function batch(stream: number, from: number, sec: number): InLine[] {
  const ts = new Date(T0 + sec * 1000).toISOString().slice(0, 19);
  return Array.from({ length: BATCH }, (_, k) => ({
    seq: from + k,
    text: `[${ts}Z] stream ${stream} line ${from + k} user=alice action=login status=ok`,
    c: `s${stream}.${from + k}`,
  }));
}

function runWarm(lines: number): void {
  const total = TOTAL;
  TOTAL = lines;
  const log = console.log;
  console.log = () => {};
  run("warm", true, true);
  run("warm", false, false);
  console.log = log;
  TOTAL = total;
}

function run(label: string, lateTies: boolean, filter: boolean): void {
  const members = [new StreamStore(), new StreamStore()];
  const merged = new MergedStore(new StreamStore(), members);
  const f = filter ? new FilterIndex(merged.store) : null;
  f?.setSpec({ text: "line 7", caseSensitive: false, regex: false, onlyMatching: true });
  // Build the batches first: only the merge is timed (the members' own appends are timed apart and subtracted).
  const plan: [number, InLine[]][] = [];
  for (let n = 0, sec = 0; n < TOTAL; n += 2 * BATCH, sec++) {
    const a = batch(0, n, sec);
    const b = batch(1, n, sec);
    if (lateTies) plan.push([1, b], [0, a]);
    else plan.push([0, a], [1, b]);
  }
  const t = performance.now();
  for (const [s, lines] of plan) members[s]?.appendLive(lines);
  const ms = performance.now() - t;
  // The same appends without a merged view listening: the members' own cost.
  const alone = [new StreamStore(), new StreamStore()];
  const t2 = performance.now();
  for (const [s, lines] of plan) alone[s]?.appendLive(lines);
  const own = performance.now() - t2;
  const ok = merged.store.length === TOTAL && merged.order.length === TOTAL;
  const t3 = performance.now();
  merged.rebuild();
  const rebuildMs = performance.now() - t3;
  (globalThis as { gc?: () => void }).gc?.();
  console.log(
    `${label}: ${TOTAL.toLocaleString("en")} lines, merge ${(((ms - own) * 1e6) / TOTAL).toFixed(0)} ns/line ` +
      `(total ${ms.toFixed(0)} ms, members alone ${own.toFixed(0)} ms), rebuild ${rebuildMs.toFixed(0)} ms` +
      `${f ? `, ${f.matchCount.toLocaleString("en")} matches` : ""}, held ${ok ? "all" : "WRONG COUNT"}, ` +
      `heap ${(process.memoryUsage().heapUsed / 2 ** 20).toFixed(0)} MB`,
  );
  f?.close();
  merged.close();
}

// A first, smaller pass warms the JIT, so the first line measured is not paying for compilation.
const warm = { total: Math.min(TOTAL, 100_000) };
runWarm(warm.total);
run("in order", false, false);
run("late ties", true, false);
run("in order + filter", false, true);
run("late ties + filter", true, true);
