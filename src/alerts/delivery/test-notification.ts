import type { AlertNotification, RuleKind, Severity } from "../alert.js";

/** What a test needs of a rule: the engine's RuleSpec has these fields, so does a rule read from raw config. */
export interface TestableRule {
  name: string;
  kind: RuleKind;
  severity: Severity;
  streams: string[] | null;
}

/**
 * A notification as the rule would send it, marked as a test (label `test=true`, a summary that says so) and
 * with no evidence lines: there is no real line to link to.
 */
export function testNotification(rule: TestableRule, nowMs: number): AlertNotification {
  const time = new Date(nowMs).toISOString();
  return {
    id: `test:${rule.name}:${nowMs}`,
    rule: rule.name,
    kind: rule.kind,
    severity: rule.severity,
    status: "firing",
    labels: { stream: rule.streams?.[0] ?? "test", test: "true" },
    summary: `Test notification of rule "${rule.name}" from livetrail alert test: this target receives its alerts.`,
    startsAt: time,
    endsAt: null,
    count: 0,
    evidence: [],
  };
}
