import type { GapInfo } from "../store.js";
import { formatTime, type TimeMode } from "../time-format.js";

/**
 * The words of a gap row that hides lines: how many (and how many errors) from the server's count, else the live
 * gap's own `skipped`, else just "Lines"; then the time span they cover; while loading, how far it got.
 */

const n = (x: number) => x.toLocaleString("en");
const plural = (x: number, one: string) => `${n(x)} ${one}${x === 1 ? "" : "s"}`;

/** "2,200 lines (220 errors)", "more than 1,200,000 lines" (a count cut at the server's time limit), or "Lines". */
export function gapCountText(info: GapInfo): string {
  if (info.lines !== undefined) {
    const about = info.countExact === false ? "more than " : "";
    const errors = info.errors ? ` (${plural(info.errors, "error")})` : "";
    return `${about}${plural(info.lines, "line")}${errors}`;
  }
  return info.skipped !== undefined ? plural(info.skipped, "line") : "Lines";
}

/** " · 2025-01-01 00:05:00 – 00:41:39" (the date again only when it changes); "" when the times are not known. */
export function gapSpanText(info: GapInfo, mode: TimeMode): string {
  if (info.firstTime === undefined || info.lastTime === undefined) return "";
  const [d1, t1] = formatTime(info.firstTime, mode);
  const [d2, t2] = formatTime(info.lastTime, mode);
  return ` · ${d1} ${t1} – ${d2 === d1 ? "" : `${d2} `}${t2}`;
}

/** "Loading 3,000 of 2,200 lines…" while a fill runs. */
export function gapLoadingText(filling: NonNullable<GapInfo["filling"]>): string {
  const of = filling.total === null ? "" : ` of ${n(filling.total)}`;
  return `Loading ${n(filling.done)}${of} lines…`;
}
