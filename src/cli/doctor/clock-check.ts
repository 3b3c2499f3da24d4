import { open } from "node:fs/promises";
import { parseEntry } from "../../core/entry.js";
import { type CheckResult, fail, ok, warn } from "./check-result.js";

/** How much of a log's end is read to find its newest stamped line. */
const TAIL_BYTES = 64 * 1024;
/** Entries a little ahead are a writer's rounding or NTP slew; minutes ahead are a clock that is wrong. */
const WARN_AHEAD_MS = 30_000;
const FAIL_AHEAD_MS = 5 * 60_000;

/**
 * Clock skew between this host and the log: its newest timestamp (core/entry.ts's rule) should not be in the
 * future. One that is means the writer's clock or this host's is wrong, and the dashboard's times, `at=` seeks
 * and alert windows are off by as much. (A log behind the clock is only quiet: that says nothing.)
 */
export async function checkClockSkew(file: string, now: Date): Promise<CheckResult | null> {
  const newest = await newestStamp(file);
  if (newest === null) return null; // missing, unreadable (reported by the file check) or no stamped line
  const ahead = newest.ms - now.getTime();
  const what = `${file}: newest entry ${newest.ts}, host clock ${now.toISOString()}`;
  const fix =
    "sync the clocks (timedatectl set-ntp true; chronyc tracking) on this host and on the log's writer";
  if (ahead > FAIL_AHEAD_MS) return fail("clock", `${what}: the log is ${seconds(ahead)} ahead`, fix);
  if (ahead > WARN_AHEAD_MS) return warn("clock", `${what}: the log is ${seconds(ahead)} ahead`, fix);
  return ok("clock", `${what}: no skew seen`);
}

async function newestStamp(file: string): Promise<{ ts: string; ms: number } | null> {
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(file, "r");
  } catch {
    return null;
  }
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, TAIL_BYTES);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, size - length);
    const lines = buffer.toString("utf8").split("\n");
    for (let i = lines.length - 1; i >= 0; i--) {
      const entry = parseEntry((lines[i] as string).replace(/\r$/, ""));
      if (entry.ts !== undefined && entry.tsMs !== undefined) return { ts: entry.ts, ms: entry.tsMs };
    }
    return null;
  } catch {
    return null;
  } finally {
    await handle.close();
  }
}

function seconds(ms: number): string {
  const s = Math.round(ms / 1000);
  return s >= 3600 ? `${(s / 3600).toFixed(1)} h` : s >= 120 ? `${Math.round(s / 60)} min` : `${s} s`;
}
