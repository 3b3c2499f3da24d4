import { describe, expect, it } from "vitest";
import {
  parseRules,
  RuleConfigError,
  ruleDefinition,
  rulesFromConfig,
  stateFileFromConfig,
} from "../../src/alerts/rule-config.js";
import { formatDuration, parseDuration } from "../../src/core/duration.js";

function problems(rules: unknown): string[] {
  try {
    parseRules(rules);
  } catch (error) {
    expect(error).toBeInstanceOf(RuleConfigError);
    return (error as RuleConfigError).problems;
  }
  throw new Error("expected the rules to be refused");
}

describe("alert rule config", () => {
  it("fills every default", () => {
    const [match, rate, silence, source, anomaly] = parseRules([
      { name: "any error", kind: "match", level: "error" },
      { name: "errors", kind: "rate", pattern: "ERROR", threshold: 5, window: "1m" },
      {
        name: "self-heal missing",
        kind: "silence",
        pattern: "Weekly self-heal: All checks passed",
        period: "8d",
      },
      { name: "feed", kind: "source" },
      { name: "burst", kind: "anomaly", regex: "fail(ed|ure)", case: "insensitive" },
    ]);
    expect(match).toMatchObject({
      kind: "match",
      severity: "warning",
      cooldownMs: 300_000,
      groupBy: ["stream"],
      evidence: 10,
      resolveAfterMs: 300_000,
      streams: null,
      filter: { pattern: null, regex: false, caseSensitive: true, levels: ["error"] },
    });
    expect(rate).toMatchObject({ threshold: 5, windowMs: 60_000, resolveAfterMs: 60_000 });
    expect(silence).toMatchObject({
      periodMs: 8 * 86_400_000,
      filter: { pattern: "Weekly self-heal: All checks passed" },
    });
    expect(source).toMatchObject({
      events: ["gap", "truncated", "missing", "command-exited", "tampered"],
      threshold: 0,
    });
    expect(anomaly).toMatchObject({
      bucketMs: 60_000,
      zScore: 4,
      minCount: 10,
      baseline: 60,
      warmup: 10,
      resolveAfterMs: 60_000,
      filter: { regex: true, caseSensitive: false },
    });
  });

  it("names the rule and the key in every error, and reports them all at once", () => {
    const found = problems([
      { name: "ok", kind: "match", pattern: "x" },
      { name: "errors", kind: "rate", pattern: "ERROR", threshold: 5 },
      { name: "self-heal missing", kind: "silence", pattern: "passed", period: "8d", window: "10 minutes" },
      { name: "bad regex", kind: "match", regex: "(unclosed" },
      { kind: "match", pattern: "x" },
      { name: "sev", kind: "match", pattern: "x", severity: "fatal", cooldown: 5 },
      { name: "ok", kind: "match", pattern: "y" },
      { name: "nothing", kind: "rate", threshold: 1, window: "1m" },
      "not an object",
    ]);
    expect(found).toEqual([
      'alerts.rules[1] ("errors").window: required: the sliding window, a duration like 1m',
      expect.stringMatching(
        /^alerts\.rules\[2\] \("self-heal missing"\)\.window: not a key of a silence rule/,
      ),
      expect.stringMatching(
        /^alerts\.rules\[3\] \("bad regex"\)\.regex: not a valid RE2 regular expression: /,
      ),
      "alerts.rules[4].name: expected a non-empty string of at most 200 characters",
      'alerts.rules[5] ("sev").severity: expected one of info, warning, critical',
      'alerts.rules[5] ("sev").cooldown: expected a duration like 10m (units ms, s, m, h, d, w; at most 366d)',
      'alerts.rules[6] ("ok").name: another rule has this name',
      'alerts.rules[7] ("nothing").pattern: a rate rule needs a pattern, a regex or a level',
      "alerts.rules[8]: expected an object",
    ]);
    expect(problems({ rules: [] })).toEqual(["alerts.rules: expected an array of rules"]);
  });

  it("parses durations and gives equal definitions for equal rules only", () => {
    expect(parseDuration("1h30m")).toBe(5_400_000);
    expect(parseDuration("500ms")).toBe(500);
    expect(parseDuration("2w")).toBe(1_209_600_000);
    for (const bad of ["10", "10 m", "", "0s", "367d", 10]) expect(parseDuration(bad)).toBeUndefined();
    expect(formatDuration(90_000)).toBe("1m30s");
    const a = parseRules([{ name: "r", kind: "rate", pattern: "E", threshold: 5, window: "1m" }]);
    const b = parseRules([{ window: "60s", threshold: 5, pattern: "E", kind: "rate", name: "r" }]);
    const c = parseRules([{ name: "r", kind: "rate", pattern: "E", threshold: 6, window: "1m" }]);
    expect(ruleDefinition(a[0] as never)).toBe(ruleDefinition(b[0] as never));
    expect(ruleDefinition(a[0] as never)).not.toBe(ruleDefinition(c[0] as never));
  });

  it("reads the rules of a whole config object", () => {
    expect(rulesFromConfig({ port: 8080 })).toEqual([]);
    expect(rulesFromConfig({ alerts: { targets: [] } })).toEqual([]);
    expect(
      rulesFromConfig({ alerts: { rules: [{ name: "e", kind: "match", level: "error" }] } })[0]?.name,
    ).toBe("e");
    expect(() => rulesFromConfig({ alerts: [] })).toThrow("alerts: expected an object");
    expect(stateFileFromConfig({ alerts: { stateFile: "state/a.json" } }, "/etc/livetrail")).toBe(
      "/etc/livetrail/state/a.json",
    );
    expect(stateFileFromConfig({ alerts: { stateFile: "/var/lib/a.json" } }, "/etc")).toBe("/var/lib/a.json");
    expect(stateFileFromConfig({}, "/etc")).toBeNull();
    expect(() => stateFileFromConfig({ alerts: { stateFile: 3 } }, "/etc")).toThrow(
      "alerts.stateFile: expected a file path",
    );
    expect(() => rulesFromConfig({ alerts: { rules: [{ name: "e", kind: "nope" }] } })).toThrow(
      'alerts.rules[0] ("e").kind: expected one of match, rate, anomaly, silence, source',
    );
  });
});
