import { describe, expect, it } from "vitest";
import { parseAlertRecord } from "../../../src/alerts/summary/alert-records.js";

const RECORD = {
  id: "self-heal-missing:audit:1",
  rule: "self-heal-missing",
  kind: "silence",
  severity: "critical",
  status: "firing",
  summary: 'no "Weekly self-heal: All checks passed" in 8d {"id": 1}',
  startsAt: "2026-12-04T19:40:00.000Z",
  endsAt: null,
  count: 0,
};

describe("parseAlertRecord", () => {
  it("reads the record alone, after a stamp, and after the server's readable head", () => {
    const json = JSON.stringify(RECORD);
    const head = `ERROR: FIRING critical self-heal-missing: ${RECORD.summary} (stream audit)`;
    for (const line of [json, `[2026-12-04T19:40:00Z] ${json}`, `[2026-12-04T19:40:00Z] ${head} ${json}`]) {
      expect(parseAlertRecord(line)).toEqual(RECORD);
    }
  });

  it("is null for lines that hold no notification", () => {
    for (const line of [
      "[2026-12-04T19:40:00Z] OK: health check passed",
      '[2026-12-04T19:40:00Z] {"id": "x", "rule": "r"}',
      '{"id":"x","rule":"r","status":"pending"}',
      '[2026-12-04T19:40:00Z] FIRING x {"id":"x", broken',
    ]) {
      expect(parseAlertRecord(line)).toBeNull();
    }
  });
});
