import { describe, expect, it } from "vitest";
import type { WireAlert } from "../../src/protocol/messages.js";
import { AlertsState } from "../../src/web/alerts-state.js";

function alert(
  id: string,
  status: WireAlert["status"],
  severity: WireAlert["severity"] = "warning",
): WireAlert {
  return {
    id,
    rule: `rule-${id}`,
    kind: "match",
    severity,
    status,
    labels: { stream: "audit" },
    summary: "s",
    startsAt: "2026-12-04T19:00:00.000Z",
    endsAt: status === "resolved" ? "2026-12-04T19:05:00.000Z" : null,
    count: 1,
    evidence: [],
  };
}

describe("AlertsState", () => {
  it("keeps each episode once in its latest state, newest change first", () => {
    const s = new AlertsState();
    expect(s.enabled).toBe(false);
    s.reset([alert("a", "firing")], [alert("a", "firing"), alert("b", "resolved")]);
    expect(s.enabled).toBe(true);
    expect(s.all().map((a) => a.id)).toEqual(["a", "b"]);
    expect(s.apply(alert("c", "firing", "critical"))).toBe(true);
    expect(s.apply(alert("c", "firing", "critical"))).toBe(false);
    expect(s.firing().map((a) => a.id)).toEqual(["c", "a"]);
    expect(s.worst()).toBe("critical");
    expect(s.apply(alert("c", "resolved", "critical"))).toBe(false);
    expect(s.firing().map((a) => a.id)).toEqual(["a"]);
    expect(s.worst()).toBe("warning");
    expect(s.all().map((a) => a.id)).toEqual(["c", "a", "b"]);
  });

  it("drops resolved episodes past its bound, never firing ones", () => {
    const s = new AlertsState();
    s.apply(alert("keep", "firing"));
    for (let i = 0; i < 300; i++) s.apply(alert(`r${i}`, "resolved"));
    expect(s.all()).toHaveLength(200);
    expect(s.firing().map((a) => a.id)).toEqual(["keep"]);
    expect(s.all()[0]?.id).toBe("r299");
  });
});
