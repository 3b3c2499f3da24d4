/**
 * What an alert rule hands to delivery (webhooks, the dashboard, the `alerts` stream): one notification per
 * change of state of one alert (a rule and its group), with the lines that caused it.
 */

export type Severity = "info" | "warning" | "critical";
export type AlertStatus = "firing" | "resolved";
export type RuleKind = "match" | "rate" | "anomaly" | "silence" | "source";

/** One line that made the rule fire, with what it takes to open the dashboard at it. */
export interface AlertEvidence {
  stream: string;
  /** The line's text (bounded by the engine). */
  text: string;
  /** The entry's own time (ISO 8601) when the line has one, else null. */
  time: string | null;
  /** Resume cursor of the line: the dashboard opens at it with `/#stream=<stream>&line=<cursor>`. */
  cursor: string;
}

export interface AlertNotification {
  /** Stable for one firing episode of one alert (rule + group + start), repeated by its resolution. */
  id: string;
  rule: string;
  kind: RuleKind;
  severity: Severity;
  status: AlertStatus;
  /** Grouping labels (always `stream`; more when the rule groups by them). */
  labels: Record<string, string>;
  /** One human sentence: what happened ("7 lines matching /ERROR/ in 1m on audit"). */
  summary: string;
  /** ISO 8601 times from the engine's clock. */
  startsAt: string;
  endsAt: string | null;
  /** Matching lines (or events) counted in this episode so far. */
  count: number;
  /** The newest matching lines, at most the rule's evidence limit, oldest first. */
  evidence: AlertEvidence[];
}
