/** `--since`: a span back from now (`90m`, `24h`, `7d`, `2w`, `30s`) or an ISO-8601 time. Null when unreadable. */
export function parseSince(text: string, nowMs: number): number | null {
  const span = /^(\d{1,6})(s|m|h|d|w)$/.exec(text.trim());
  if (span !== null) {
    const unit = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }[span[2] as "s"];
    const ms = Number(span[1]) * unit;
    return ms > 0 ? nowMs - ms : null;
  }
  // A date, or a date and time with a zone: a local time without a zone would depend on the machine.
  if (!/^\d{4}-\d{2}-\d{2}(?:T\d{2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:\d{2}))?$/.test(text.trim()))
    return null;
  const at = Date.parse(text.trim());
  return Number.isNaN(at) || at > nowMs ? null : at;
}
