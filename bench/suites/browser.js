/**
 * 8. The browser: the dashboard in headless Chromium (playwright-core driving /usr/bin/chromium).
 * livetrail: stream 1,000,000 lines in, then read JS heap (after a GC) and DOM node count, time a filter
 * over them, time the render after scrolling to the middle, and measure how fast the page answers an
 * evaluate() call while 5,000 lines/s keep streaming in. Then stream on to 5,000,000 lines and read again what the
 * page holds, its heap, its renderer's memory (the JS heap leaves out strings and buffers held outside it) and a
 * filter over all of it. frontail: the same responsiveness test on its page.
 * Uses the dashboard's read-only `window.__livetrail` debug hook (src/web/main.ts).
 * BENCH_BROWSER_CAP=N opens the page with `?cap=N` (e.g. an older build at the line budget the new one ships with).
 */
import { appendFileSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";
import { buildBurst, makeLine, writeBurst, writePaced } from "../lib/lines.js";
import { nowMs, sleep, waitFor } from "../lib/proc.js";
import { Histogram, summarizeRecords } from "../lib/stats.js";
import { systems } from "../lib/systems/index.js";

const CHROMIUM_ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
  "--no-first-run",
];
const STREAM_RATE = 5000;
const INGEST_CHUNK = 5_000; // lines appended every 100 ms while filling the page
const MANY = 5_000_000; // lines streamed in the second part
const MANY_CHUNK = 10_000; // lines appended every 100 ms on the way to MANY

/** @param {import("../lib/context.js").Context} ctx */
export async function browser(ctx) {
  const total = ctx.quick ? 100_000 : 1_000_000;
  const many = ctx.quick ? 200_000 : MANY;
  const streamSeconds = ctx.quick ? 3 : 8;
  /** @type {Record<string, Record<string, number>[]>} */
  const records = {};
  // One run: filling a page with a million lines is the slowest step of the suite.
  const runs = 1;
  const chrome = await chromium.launch({ executablePath: "/usr/bin/chromium", args: CHROMIUM_ARGS });
  try {
    for (let run = 0; run < runs; run++) {
      for (const s of ctx.systems.filter((x) => x !== "websocketd")) {
        const rec =
          s === "livetrail"
            ? await livetrailRun(ctx, chrome, run, total, many, streamSeconds)
            : await frontailRun(ctx, chrome, run, streamSeconds);
        records[s] = [...(records[s] ?? []), rec];
      }
    }
  } finally {
    await chrome.close();
  }
  return {
    params: {
      lines: total,
      manyLines: many,
      manyLinesPerSec: MANY_CHUNK * 10,
      ingestLinesPerSec: INGEST_CHUNK * 10,
      streamLinesPerSec: STREAM_RATE,
      streamSeconds,
      evalEveryMs: 100,
      runs,
    },
    systems: Object.fromEntries(Object.entries(records).map(([k, recs]) => [k, summarizeRecords(recs)])),
  };
}

/**
 * page.evaluate() that fails after `ms` instead of hanging the bench.
 * @template A, R
 * @param {import("playwright-core").Page} page
 * @param {(a: A) => R | Promise<R>} fn
 * @param {A} [arg]
 * @param {number} [ms]
 * @returns {Promise<R>}
 */
function ev(page, fn, arg, ms = 60_000) {
  return Promise.race([
    page.evaluate(/** @type {any} */ (fn), arg),
    sleep(ms).then(() => {
      throw new Error(`the page did not answer within ${ms} ms`);
    }),
  ]);
}

/**
 * evaluate() round trips every 100 ms while `work` runs; their latency histogram.
 * @param {import("playwright-core").Page} page
 * @param {Promise<unknown>} work
 */
async function probeWhile(page, work) {
  const h = new Histogram();
  let done = false;
  work.finally(() => {
    done = true;
  });
  while (!done) {
    const t0 = nowMs();
    // A frozen page may not answer for long: after 10 s we count 10 s and stop probing.
    const answered = await Promise.race([page.evaluate(() => true), sleep(10_000).then(() => false)]);
    h.add(nowMs() - t0);
    if (!answered) break;
    await sleep(100);
  }
  await work;
  return h.summary();
}

/**
 * @param {import("playwright-core").Page} page
 */
async function heapAndNodes(page) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send("HeapProfiler.collectGarbage");
  await cdp.send("Performance.enable");
  const { metrics } = await cdp.send("Performance.getMetrics");
  await cdp.detach();
  const m = Object.fromEntries(metrics.map((x) => [x.name, x.value]));
  const domNodes = await page.evaluate(() => document.getElementsByTagName("*").length);
  return { heapMB: (m.JSHeapUsedSize ?? Number.NaN) / 2 ** 20, domNodes, rendererMB: await rendererMB(page) };
}

/**
 * Resident memory of the browser's renderer processes (one page is open): what the page costs in all, with the
 * strings and buffers V8 keeps outside its heap (a TextDecoder's output, typed arrays).
 * @param {import("playwright-core").Page} page
 */
async function rendererMB(page) {
  const browser = page.context().browser();
  if (!browser) return Number.NaN;
  const cdp = await browser.newBrowserCDPSession();
  try {
    const { processInfo } = /** @type {{ processInfo: { type: string, id: number }[] }} */ (
      await cdp.send("SystemInfo.getProcessInfo")
    );
    let kb = 0;
    for (const p of processInfo.filter((x) => x.type === "renderer")) {
      const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${p.id}/status`, "utf8"));
      kb += Number(m?.[1] ?? Number.NaN);
    }
    return kb / 1024;
  } finally {
    await cdp.detach();
  }
}

/**
 * What the page holds: gap rows ("N lines skipped") and distinct bench lines among the rows.
 * @param {import("playwright-core").Page} page
 * @param {number} total lines streamed
 */
function heldLines(page, total) {
  return ev(
    page,
    (n) => {
      const texts = /** @type {any} */ (window).__livetrail.lineTexts(n + 1_000_000);
      let gaps = 0;
      let distinct = 0;
      const seen = new Uint8Array(n + 1);
      for (const t of texts) {
        if (t === null) gaps++;
        else {
          const m = / seq=(\d+) /.exec(t);
          const seq = m ? Number(m[1]) : -1;
          if (seq >= 0 && seq <= n && seen[seq] === 0) {
            seen[seq] = 1;
            distinct++;
          }
        }
      }
      return { gaps, distinct };
    },
    total,
    180_000,
  );
}

/**
 * Types `text` into the filter box and waits for its rows: the pass as the page timed it, keystroke to painted.
 * @param {import("playwright-core").Page} page
 * @param {string} text
 */
function timeFilter(page, text) {
  return ev(
    page,
    async (t) => {
      const h = /** @type {any} */ (window).__livetrail;
      const input = /** @type {HTMLInputElement} */ (document.getElementById("search"));
      const before = h.lastFilterMs();
      const beforeMatches = h.matchCount();
      const t0 = performance.now();
      input.value = t;
      input.dispatchEvent(new Event("input", { bubbles: true }));
      await new Promise((resolve) => {
        const tick = () =>
          h.lastFilterMs() !== before || h.matchCount() !== beforeMatches
            ? requestAnimationFrame(() => resolve(undefined))
            : setTimeout(tick, 1);
        tick();
      });
      return { wallMs: performance.now() - t0, passMs: h.lastFilterMs(), matches: h.matchCount() };
    },
    text,
  );
}

/** @param {import("playwright-core").Page} page */
function clearFilter(page) {
  return ev(page, async () => {
    const input = /** @type {HTMLInputElement} */ (document.getElementById("search"));
    input.value = "";
    input.dispatchEvent(new Event("input", { bubbles: true }));
    await new Promise((r) => setTimeout(r, 400));
  });
}

/**
 * Appends lines [from, to) in chunks, one every 100 ms, and waits for the page to show the last one.
 * @param {import("playwright-core").Page} page
 * @param {string} file
 * @param {number} from
 * @param {number} to
 * @param {number} chunk
 */
async function ingest(page, file, from, to, chunk) {
  const t0 = nowMs();
  for (let first = from; first < to; first += chunk) {
    writeBurst(file, buildBurst(Math.min(chunk, to - first), first));
    await sleep(100);
  }
  await page.waitForFunction(
    (t) => /** @type {any} */ (window).__livetrail.lastLine()?.includes(t),
    `seq=${to - 1} `,
    { timeout: 600_000, polling: 200 },
  );
  return (nowMs() - t0) / 1000;
}

/**
 * @param {import("../lib/context.js").Context} ctx
 * @param {import("playwright-core").Browser} chrome
 * @param {number} run
 * @param {number} total
 * @param {number} many
 * @param {number} streamSeconds
 */
async function livetrailRun(ctx, chrome, run, total, many, streamSeconds) {
  const file = join(ctx.tmp, `browser-livetrail-${run}.log`);
  writeFileSync(file, "");
  const server = await /** @type {import("../lib/systems/types.js").System} */ (systems.livetrail).start({
    file,
  });
  const page = await chrome.newPage({ viewport: { width: 1280, height: 800 } });
  try {
    const cap = process.env.BENCH_BROWSER_CAP;
    await page.goto(`http://127.0.0.1:${server.port}/${cap ? `?cap=${cap}` : ""}`);
    // Subscribed once a primer line written now shows up.
    await waitFor(
      async () => {
        appendFileSync(file, makeLine(-1));
        return page.evaluate(() => /** @type {any} */ (window).__livetrail?.lastLine()?.includes("seq=-1 "));
      },
      { timeoutMs: 30_000, intervalMs: 250, what: "the dashboard to show a primer line" },
    );
    // Stream the lines in: INGEST_CHUNK-line appends every 100 ms.
    const ingestSeconds = await ingest(page, file, 0, total, INGEST_CHUNK);
    ctx.log(
      `  browser livetrail run ${run + 1}: ${total} lines in the page after ${ingestSeconds.toFixed(1)} s`,
    );
    const linesHeld = await ev(page, () => /** @type {any} */ (window).__livetrail.lineCount());
    const held = await heldLines(page, total);
    ctx.log(
      `  browser livetrail run ${run + 1}: ${linesHeld} rows: ${held.distinct} distinct lines, ${held.gaps} gap rows`,
    );
    const mem = await heapAndNodes(page);
    const filter = await timeFilter(page, "action=deploy");
    await clearFilter(page);

    const scroll = await ev(
      page,
      async (/** @type {number} */ lines) => {
        const el = /** @type {HTMLElement} */ (document.getElementById("log"));
        const mid = lines / 2;
        // Rows are recycled in blocks, so DOM order is not screen order: look for any row near the middle.
        const nearMiddle = () => {
          for (const m of (el.textContent ?? "").matchAll(/seq=(\d+) /g)) {
            if (Math.abs(Number(m[1]) - mid) < lines * 0.02) return Number(m[1]);
          }
          return null;
        };
        const t = performance.now();
        el.scrollTop = el.scrollHeight / 2;
        // Rendered when a row near the middle is in the DOM and a frame has been produced after it.
        /** @type {number | null} */
        let found = null;
        await new Promise((resolve) => {
          const give = performance.now() + 5000;
          const tick = () => {
            found = nearMiddle();
            if (found !== null) requestAnimationFrame(() => resolve(undefined));
            else if (performance.now() > give) resolve(undefined);
            else requestAnimationFrame(tick);
          };
          tick();
        });
        return {
          ms: found === null ? Number.NaN : performance.now() - t,
          rows: /** @type {any} */ (window).__livetrail.domRowCount(),
          seq: found,
        };
      },
      total,
    );
    ctx.log(`  browser livetrail run ${run + 1}: scrolled to the middle: a row shown is seq ${scroll.seq}`);

    // Back to the bottom (follow), then stream at 5,000 lines/s while probing.
    await page.keyboard.press("End");
    const eval_ = await probeWhile(
      page,
      writePaced(file, {
        count: (STREAM_RATE / 100) * streamSeconds,
        intervalMs: 10,
        firstSeq: total,
        batch: STREAM_RATE / 100,
      }),
    );
    const after = await heapAndNodes(page);

    // On to MANY lines (the stream's seqs continue after the paced part's).
    const manyFrom = total + (STREAM_RATE / 100) * streamSeconds * (STREAM_RATE / 100);
    const manySeconds = await ingest(page, file, manyFrom, manyFrom + many - total, MANY_CHUNK);
    const manyRows = await ev(page, () => /** @type {any} */ (window).__livetrail.lineCount());
    const heldMany = await heldLines(page, manyFrom + many);
    const memMany = await heapAndNodes(page);
    const filterMany = await timeFilter(page, "action=deploy");
    await clearFilter(page);
    ctx.log(
      `  browser livetrail run ${run + 1}: ${many} lines streamed (${manySeconds.toFixed(1)} s for the last ` +
        `${many - total}): ${manyRows} rows, ${heldMany.distinct} distinct lines, ${heldMany.gaps} gap rows; heap ` +
        `${memMany.heapMB.toFixed(0)} MB, renderer ${memMany.rendererMB.toFixed(0)} MB; filter pass ` +
        `${filterMany.passMs.toFixed(0)} ms (${filterMany.matches} matches)`,
    );
    const rec = {
      ingestSeconds,
      linesHeld: held.distinct,
      gapRows: held.gaps,
      heapMB: mem.heapMB,
      domNodes: mem.domNodes,
      filterMs: filter.passMs,
      filterWallMs: filter.wallMs,
      filterMatches: filter.matches,
      scrollRenderMs: scroll.ms,
      scrollDomRows: scroll.rows,
      evalP50Ms: eval_.p50,
      evalP99Ms: eval_.p99,
      evalMaxMs: eval_.max,
      heapAfterStreamMB: after.heapMB,
      rendererMB: mem.rendererMB,
      manyLinesHeld: heldMany.distinct,
      manyGapRows: heldMany.gaps,
      manyHeapMB: memMany.heapMB,
      manyRendererMB: memMany.rendererMB,
      manyFilterMs: filterMany.passMs,
      manyFilterMatches: filterMany.matches,
    };
    ctx.log(
      `  browser livetrail run ${run + 1}: ${held.distinct} lines held after ${ingestSeconds.toFixed(1)} s, heap ` +
        `${rec.heapMB.toFixed(0)} MB (renderer ${rec.rendererMB.toFixed(0)} MB), ${rec.domNodes} DOM nodes; filter pass ${rec.filterMs.toFixed(0)} ms ` +
        `(keystroke→painted ${rec.filterWallMs.toFixed(0)} ms, ${filter.matches} matches); scroll-to-middle render ` +
        `${rec.scrollRenderMs.toFixed(1)} ms; evaluate() at ${STREAM_RATE} lines/s p50/p99/max ` +
        `${eval_.p50.toFixed(1)}/${eval_.p99.toFixed(1)}/${eval_.max.toFixed(1)} ms`,
    );
    return rec;
  } finally {
    await page.close();
    await server.stop();
  }
}

/**
 * @param {import("../lib/context.js").Context} ctx
 * @param {import("playwright-core").Browser} chrome
 * @param {number} run
 * @param {number} streamSeconds
 */
async function frontailRun(ctx, chrome, run, streamSeconds) {
  const file = join(ctx.tmp, `browser-frontail-${run}.log`);
  writeFileSync(file, "");
  const server = await /** @type {import("../lib/systems/types.js").System} */ (systems.frontail).start({
    file,
  });
  const page = await chrome.newPage({ viewport: { width: 1280, height: 800 } });
  try {
    await page.goto(`http://127.0.0.1:${server.port}/`);
    // Wait until the page's socket receives lines (frontail shows each as a div.line).
    await waitFor(
      async () => {
        writeBurst(file, buildBurst(1, 0));
        return (await page.evaluate(() => document.querySelectorAll(".line").length)) > 0;
      },
      { timeoutMs: 30_000, intervalMs: 200, what: "frontail's page to show a line" },
    );
    const eval_ = await probeWhile(
      page,
      writePaced(file, {
        count: (STREAM_RATE / 100) * streamSeconds,
        intervalMs: 10,
        firstSeq: 1,
        batch: STREAM_RATE / 100,
      }),
    );
    // The page may still be working through a backlog: read what it holds without waiting for that.
    const linesHeld = await Promise.race([
      page.evaluate(() => document.querySelectorAll(".line").length),
      sleep(5000).then(() => Number.NaN),
    ]);
    const rec = { evalP50Ms: eval_.p50, evalP99Ms: eval_.p99, evalMaxMs: eval_.max, linesHeld };
    ctx.log(
      `  browser frontail run ${run + 1}: evaluate() at ${STREAM_RATE} lines/s p50/p99/max ` +
        `${eval_.p50.toFixed(1)}/${eval_.p99.toFixed(1)}/${eval_.max.toFixed(1)} ms; ${linesHeld} lines held`,
    );
    return rec;
  } finally {
    await page.close();
    await server.stop();
  }
}
