import { parseDuration } from "../../core/duration.js";

/** `--since`: a span back from now (`90m`, `24h`, `7d`, `2w`, `1h30m`) or an ISO-8601 time. Null when unreadable. */
export function parseSince(text: string, nowMs: number): number | null {
  const span = parseDuration(text.trim());
  if (span !== undefined) return nowMs - span;
  // A date, or a date and time with a zone: a local time without a zone would depend on the machine.
  if (!/^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))?$/.test(text.trim()))
    return null;
  const at = Date.parse(text.trim());
  return Number.isNaN(at) || at > nowMs ? null : at;
}
