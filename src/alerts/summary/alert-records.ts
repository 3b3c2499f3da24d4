import type { AlertNotification } from "../alert.js";

/** What the summary keeps of one notification found in the alerts stream. */
export type AlertRecord = Pick<
  AlertNotification,
  "id" | "rule" | "kind" | "severity" | "status" | "summary" | "startsAt" | "endsAt" | "count"
>;

const STAMP = /^\[[^\]]*\] /;

/** Where the server's alerts stream line puts the record, after its readable head (server/alert-line.ts). */
const RECORD = ' {"id":';

/**
 * A notification from a line of the `alerts` stream: the notification's JSON, alone, after an entry's `[time] `
 * stamp, or after the server's readable head (`[time] ERROR: FIRING critical rule: summary (stream audit) {"id":…}`;
 * JSON-escaped text cannot hold `{"id":`, so the last one starts the record). Anything else is not one: null.
 */
export function parseAlertRecord(text: string): AlertRecord | null {
  const at = text.lastIndexOf(RECORD);
  const json = at >= 0 ? text.slice(at + 1) : text.replace(STAMP, "");
  if (!json.startsWith("{")) return null;
  let raw: unknown;
  try {
    raw = JSON.parse(json);
  } catch {
    return null;
  }
  const n = raw as Partial<AlertNotification>;
  if (typeof n.rule !== "string" || (n.status !== "firing" && n.status !== "resolved")) return null;
  return {
    id: typeof n.id === "string" ? n.id : "",
    rule: n.rule,
    kind: n.kind ?? "match",
    severity: n.severity ?? "warning",
    status: n.status,
    summary: typeof n.summary === "string" ? n.summary : "",
    startsAt: typeof n.startsAt === "string" ? n.startsAt : "",
    endsAt: typeof n.endsAt === "string" ? n.endsAt : null,
    count: typeof n.count === "number" ? n.count : 0,
  };
}
