/**
 * Preloaded into a server under benchmark (`node --import ./bench/lib/loop-delay.js ...`): the main thread's
 * event-loop delay, from perf_hooks.monitorEventLoopDelay (10 ms resolution). Each SIGUSR2 writes what was seen
 * since the last one to $LIVETRAIL_LOOP_DELAY_FILE (JSON: n, the count of reports so far; maxMs, p99Ms, meanMs)
 * and starts over, so a benchmark signals once before a burst and once after it.
 */
import { writeFileSync } from "node:fs";
import { monitorEventLoopDelay } from "node:perf_hooks";

const file = process.env.LIVETRAIL_LOOP_DELAY_FILE;
if (file !== undefined) {
  const histogram = monitorEventLoopDelay({ resolution: 10 });
  histogram.enable();
  let n = 0;
  process.on("SIGUSR2", () => {
    n++;
    const ms = (ns) => Number((ns / 1e6).toFixed(1));
    const report = {
      n,
      maxMs: ms(histogram.max),
      p99Ms: ms(histogram.percentile(99)),
      meanMs: ms(histogram.mean),
    };
    histogram.reset();
    writeFileSync(file, JSON.stringify(report));
  });
}
