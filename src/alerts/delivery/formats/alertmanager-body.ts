import type { AlertNotification } from "../../alert.js";
import { alertLink } from "./links.js";

/**
 * What Alertmanager's `POST /api/v2/alerts` takes: an array of alerts, identified by their labels. `endsAt` is
 * set on the resolution only; a firing alert without it is kept by Alertmanager for its `resolve_timeout`.
 */
export interface AlertmanagerAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt: string;
  endsAt?: string;
  generatorURL?: string;
}

/** Evidence lines in the `description` annotation, at most this many characters in all. */
const MAX_DESCRIPTION = 4000;

export function alertmanagerBody(
  n: AlertNotification,
  dashboardUrl: string | null,
  now: () => number,
): AlertmanagerAlert[] {
  const labels: Record<string, string> = {};
  for (const [key, value] of Object.entries(n.labels)) labels[labelName(key)] = value;
  // Ours last: alertname and severity are what Alertmanager routes on, a rule's group label must not hide them.
  Object.assign(labels, { alertname: n.rule, severity: n.severity, kind: n.kind, source: "livetrail" });
  const alert: AlertmanagerAlert = {
    labels,
    annotations: {
      summary: n.summary,
      description: description(n),
      count: String(n.count),
      livetrail_id: n.id,
    },
    startsAt: n.startsAt,
  };
  if (n.status === "resolved") alert.endsAt = n.endsAt ?? new Date(now()).toISOString();
  const link = alertLink(n, dashboardUrl);
  if (link !== null) alert.generatorURL = link;
  return [alert];
}

/** Label names Prometheus-style (`[a-zA-Z_][a-zA-Z0-9_]*`), which every Alertmanager version accepts. */
function labelName(key: string): string {
  const cleaned = key.replace(/[^a-zA-Z0-9_]/g, "_");
  return /^[a-zA-Z_]/.test(cleaned) ? cleaned : `_${cleaned}`;
}

function description(n: AlertNotification): string {
  let out = "";
  for (const e of n.evidence) {
    const line = `${e.stream}${e.time === null ? "" : ` ${e.time}`}: ${e.text}\n`;
    if (out.length + line.length > MAX_DESCRIPTION) break;
    out += line;
  }
  return out.trimEnd();
}
