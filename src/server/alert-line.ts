import type { AlertNotification } from "../alerts/alert.js";
import type { EntryInput } from "../append/appender.js";
import { EntryError, type EntryLevel, formatEntry } from "../append/entry-format.js";

/**
 * One notification as a line of the `alerts` stream: a readable head for people and the dashboard's level
 * colours, then the notification's record as JSON for `livetrail summary` (alerts/summary/alert-records.ts finds
 * it at the last ` {"id":`, which JSON-escaped text cannot contain):
 *
 *   [2026-12-04T19:40:00Z] ERROR: FIRING critical self-heal-missing: no "…passed" in 8d (stream audit) {"id":…}
 *
 * The level label is explicit (not guessed from words), so a resolution is `OK` even when its summary says
 * "critical" or "failed". Evidence stays out: its lines are in their own streams, a click away.
 */
export function alertEntry(n: AlertNotification): EntryInput {
  const labels = Object.entries(n.labels)
    .map(([k, v]) => `${k} ${v}`)
    .join(", ");
  const head = `${n.status.toUpperCase()} ${n.severity} ${n.rule}: ${n.summary}${labels ? ` (${labels})` : ""}`;
  const record = {
    id: n.id,
    rule: n.rule,
    kind: n.kind,
    severity: n.severity,
    status: n.status,
    summary: n.summary,
    startsAt: n.startsAt,
    endsAt: n.endsAt,
    count: n.count,
  };
  const at = new Date((n.status === "resolved" && n.endsAt) || n.startsAt);
  const entry = {
    message: `${head} ${JSON.stringify(record)}`,
    level: levelOf(n),
    time: Number.isNaN(at.getTime()) ? new Date() : at,
  };
  try {
    formatEntry(entry.message, entry);
    return entry;
  } catch (error) {
    if (!(error instanceof EntryError)) throw error;
    // Over the 64 KiB an entry may have (labels come from lines): the head alone, shortened.
    return { ...entry, message: `${head.slice(0, 4096)}…` };
  }
}

/** The entry's line, newline included (for a stream kept in memory). */
export function alertLine(n: AlertNotification): string {
  const entry = alertEntry(n);
  return formatEntry(entry.message, entry);
}

function levelOf(n: AlertNotification): EntryLevel {
  if (n.status === "resolved") return "ok";
  return n.severity === "critical" ? "error" : n.severity === "warning" ? "warn" : "info";
}
