import { FollowedLine, type Line } from "../core/line.js";
import { LineSplitter } from "../core/line-splitter.js";
import { Batch, frameGroups } from "./frames.js";

/**
 * Synthetic lines per round, and rounds: every function of the path compiled and its inline caches filled
 * (the first-use cost), in a few ms of start-up; more rounds bought no better first lines in the latency bench.
 */
const LINES = 200;
const ROUNDS = 3;
const FRAME_BYTES = 16 * 1024;

let warmed = false;

/**
 * Runs a synthetic batch through the live path once per process — splitter, lines, frame groups, both `/ws`
 * encodings — and sends it nowhere. Without it the first real lines pay for V8's first compile and
 * tier-up of each function (the first line of a fresh server arrived ~2 ms late, every run).
 */
export function warmHotPath(): void {
  if (warmed) return;
  warmed = true;
  let text = "";
  for (let i = 0; i < LINES; i++) {
    text += `[2026-01-01T00:00:${String(i % 60).padStart(2, "0")}Z] seq=${i} user=warm action=${i % 7 === 0 ? "ünïcode" : "read"}${i % 5 === 0 ? "\r" : ""}\n`;
  }
  const bytes = Buffer.from(text);
  // One source, nothing skipped: every line continues the one before.
  const continues = (prev: Line, next: Line): boolean => next.seq === prev.seq + 1;
  for (let round = 0; round < ROUNDS; round++) {
    const splitter = new LineSplitter();
    const lines: Line[] = [];
    let seq = 0;
    const sink = (t: string, start: number, end: number, truncatedFrom: number | undefined): void => {
      const line = new FollowedLine(++seq, t, start, end, "0.warmup.");
      if (truncatedFrom !== undefined) line.truncatedFrom = truncatedFrom;
      lines.push(line);
    };
    // Cut inside a line, as reads do, so the carried-line path runs too.
    const cut = 1000 + round;
    splitter.push(bytes.subarray(0, cut), sink);
    splitter.push(bytes.subarray(cut), sink);
    for (const group of frameGroups(lines, FRAME_BYTES, continues)) {
      const batch = new Batch("warm-up", group);
      batch.frame("json");
      batch.frame("binary");
    }
  }
}
