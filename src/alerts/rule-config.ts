import { isAbsolute, resolve } from "node:path";
import { parseDuration } from "../core/duration.js";
import type { EntryLevel } from "../core/entry.js";
import { regexProblem } from "../core/regex-dialect.js";
import type { RuleKind, Severity } from "./alert.js";

/**
 * Alert rules as the config file holds them (`alerts.rules: [...]`), validated into RuleSpecs with every
 * default filled in. An error names the rule and the key: `alerts.rules[2] ("self-heal missing").window: ...`.
 */

/** What a line must be to count for a rule: a pattern (literal or RE2 regex) and/or a level. */
export interface LineFilterSpec {
  /** Literal text (when `regex` is false) or an RE2-syntax regular expression; null: any text. */
  pattern: string | null;
  regex: boolean;
  caseSensitive: boolean;
  /** Levels the line's entry must have (core/entry.ts), null: any level. */
  levels: EntryLevel[] | null;
}

/** Labels an alert may be grouped by: one alert per distinct value. */
export type GroupKey = "stream" | "level";

/** Feed events a `source` rule can watch. `command-exited` comes from command streams. */
export type SourceEventKind =
  | "gap"
  | "truncated"
  | "rotated"
  | "restarted"
  | "missing"
  | "error"
  | "command-exited"
  | "tampered";

interface RuleBase {
  name: string;
  severity: Severity;
  /** Minimum time between two firing notifications of one alert. */
  cooldownMs: number;
  groupBy: GroupKey[];
  /** Lines kept as evidence per alert (newest). */
  evidence: number;
  /** Quiet time after which a firing alert resolves. */
  resolveAfterMs: number;
  /** Streams the rule watches, null: all. */
  streams: string[] | null;
  description: string | null;
}

export interface MatchRule extends RuleBase {
  kind: "match";
  filter: LineFilterSpec;
}
export interface RateRule extends RuleBase {
  kind: "rate";
  filter: LineFilterSpec;
  /** Fires on more than this many matching lines within windowMs. */
  threshold: number;
  windowMs: number;
}
export interface AnomalyRule extends RuleBase {
  kind: "anomaly";
  filter: LineFilterSpec;
  bucketMs: number;
  /** Standard deviations above the baseline mean that count as anomalous. */
  zScore: number;
  /** A bucket with fewer matching lines never fires. */
  minCount: number;
  /** EWMA span in buckets: alpha = 2 / (baseline + 1). */
  baseline: number;
  /** Buckets of history the baseline needs before it may fire. */
  warmup: number;
}
export interface SilenceRule extends RuleBase {
  kind: "silence";
  filter: LineFilterSpec;
  periodMs: number;
}
export interface SourceRule extends RuleBase {
  kind: "source";
  events: SourceEventKind[];
  /** Fires on more than this many events within windowMs (0: on the first). */
  threshold: number;
  windowMs: number;
}

export type RuleSpec = MatchRule | RateRule | AnomalyRule | SilenceRule | SourceRule;

export class RuleConfigError extends Error {
  override readonly name = "RuleConfigError";
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
  }
}

const KINDS: readonly RuleKind[] = ["match", "rate", "anomaly", "silence", "source"];
const SEVERITIES: readonly Severity[] = ["info", "warning", "critical"];
const LEVELS: readonly EntryLevel[] = ["error", "warn", "ok", "info"];
const GROUP_KEYS: readonly GroupKey[] = ["stream", "level"];
const SOURCE_EVENTS: readonly SourceEventKind[] = [
  "gap",
  "truncated",
  "rotated",
  "restarted",
  "missing",
  "error",
  "command-exited",
  "tampered",
];
const COMMON_KEYS = [
  "name",
  "kind",
  "severity",
  "cooldown",
  "groupBy",
  "evidence",
  "resolveAfter",
  "streams",
  "description",
];
const FILTER_KEYS = ["pattern", "regex", "case", "level"];
const KIND_KEYS: Readonly<Record<RuleKind, readonly string[]>> = {
  match: FILTER_KEYS,
  rate: [...FILTER_KEYS, "threshold", "window"],
  anomaly: [...FILTER_KEYS, "bucket", "zScore", "minCount", "baseline", "warmup"],
  silence: [...FILTER_KEYS, "period"],
  source: ["events", "threshold", "window"],
};
const DEFAULT_COOLDOWN_MS = 5 * 60_000;
const DEFAULT_EVIDENCE = 10;
const MAX_EVIDENCE = 100;
const MAX_PATTERN_CHARS = 4096;
const MAX_RULES = 500;

/** Validates `alerts.rules`; throws RuleConfigError listing every problem. */
export function parseRules(value: unknown, at = "alerts.rules"): RuleSpec[] {
  if (!Array.isArray(value)) throw new RuleConfigError([`${at}: expected an array of rules`]);
  if (value.length > MAX_RULES) throw new RuleConfigError([`${at}: at most ${MAX_RULES} rules`]);
  const problems: string[] = [];
  const rules: RuleSpec[] = [];
  const names = new Set<string>();
  value.forEach((raw, i) => {
    const rule = parseRule(raw, i, at, problems);
    if (rule === null) return;
    if (names.has(rule.name)) problems.push(`${at}[${i}] ("${rule.name}").name: another rule has this name`);
    names.add(rule.name);
    rules.push(rule);
  });
  if (problems.length > 0) throw new RuleConfigError(problems);
  return rules;
}

/** A stable text of a rule's whole definition: equal texts mean the same rule (reload, persisted state). */
export function ruleDefinition(rule: RuleSpec): string {
  return JSON.stringify(
    rule,
    Object.keys(rule)
      .sort()
      .concat(Object.keys(filterKeysOf(rule)).sort()),
  );
}

function filterKeysOf(rule: RuleSpec): object {
  return "filter" in rule ? rule.filter : {};
}

function parseRule(raw: unknown, i: number, at: string, problems: string[]): RuleSpec | null {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    problems.push(`${at}[${i}]: expected an object`);
    return null;
  }
  const r = raw as Record<string, unknown>;
  const named = typeof r.name === "string" && r.name.trim() !== "" && r.name.length <= 200;
  const where = named ? `${at}[${i}] ("${r.name as string}")` : `${at}[${i}]`;
  const before = problems.length;
  const bad = (key: string, what: string): void => {
    problems.push(`${where}.${key}: ${what}`);
  };
  if (!named) bad("name", "expected a non-empty string of at most 200 characters");
  const kind = r.kind as RuleKind;
  if (!KINDS.includes(kind)) {
    bad("kind", `expected one of ${KINDS.join(", ")}`);
    return null;
  }
  const allowed = new Set([...COMMON_KEYS, ...KIND_KEYS[kind]]);
  for (const key of Object.keys(r)) {
    if (!allowed.has(key)) bad(key, `not a key of a ${kind} rule (known: ${[...allowed].join(", ")})`);
  }
  const duration = (key: string, fallback: number): number => {
    if (r[key] === undefined) return fallback;
    const ms = parseDuration(r[key]);
    if (ms === undefined) bad(key, "expected a duration like 10m (units ms, s, m, h, d, w; at most 366d)");
    return ms ?? fallback;
  };
  const integer = (key: string, fallback: number, min: number, max: number): number => {
    const v = r[key];
    if (v === undefined) return fallback;
    if (typeof v !== "number" || !Number.isInteger(v) || v < min || v > max) {
      bad(key, `expected a whole number from ${min} to ${max}`);
      return fallback;
    }
    return v;
  };
  const severity = (r.severity ?? "warning") as Severity;
  if (!SEVERITIES.includes(severity)) bad("severity", `expected one of ${SEVERITIES.join(", ")}`);
  const cooldownMs = duration("cooldown", DEFAULT_COOLDOWN_MS);
  const groupBy = stringList(r.groupBy, GROUP_KEYS, "groupBy", bad) ?? ["stream"];
  let streams: string[] | null = null;
  if (r.streams !== undefined) {
    const list = r.streams;
    if (!Array.isArray(list) || list.length === 0 || !list.every((s) => typeof s === "string" && s !== "")) {
      bad("streams", "expected a non-empty list of stream names (leave it out for all streams)");
    } else streams = [...new Set(list as string[])];
  }
  if (r.description !== undefined && typeof r.description !== "string")
    bad("description", "expected a string");
  const base = {
    name: named ? (r.name as string) : "",
    severity,
    cooldownMs,
    groupBy,
    evidence: integer("evidence", DEFAULT_EVIDENCE, 0, MAX_EVIDENCE),
    resolveAfterMs: 0,
    streams,
    description: typeof r.description === "string" ? r.description : null,
  };
  let rule: RuleSpec;
  if (kind === "source") {
    const events = stringList(r.events, SOURCE_EVENTS, "events", bad) ?? [
      "gap",
      "truncated",
      "missing",
      "command-exited",
      "tampered",
    ];
    if (events.length === 0) bad("events", "expected at least one event");
    rule = {
      ...base,
      kind,
      events,
      threshold: integer("threshold", 0, 0, 1_000_000),
      windowMs: duration("window", cooldownMs),
    };
    rule.resolveAfterMs = duration("resolveAfter", Math.max(rule.windowMs, cooldownMs));
  } else {
    const filter = parseFilter(r, kind, bad);
    if (kind === "match") rule = { ...base, kind, filter };
    else if (kind === "rate") {
      if (r.window === undefined) bad("window", "required: the sliding window, a duration like 1m");
      if (r.threshold === undefined) bad("threshold", "required: fires on more than this many lines");
      rule = {
        ...base,
        kind,
        filter,
        threshold: integer("threshold", 1, 0, 100_000),
        windowMs: duration("window", 60_000),
      };
    } else if (kind === "anomaly") {
      rule = {
        ...base,
        kind,
        filter,
        bucketMs: duration("bucket", 60_000),
        zScore: positiveNumber(r.zScore, 4, "zScore", bad),
        minCount: integer("minCount", 10, 1, 10_000_000),
        baseline: integer("baseline", 60, 2, 100_000),
        warmup: integer("warmup", 10, 1, 100_000),
      };
    } else {
      if (r.period === undefined) bad("period", "required: how long without a matching line, e.g. 8d");
      rule = { ...base, kind, filter, periodMs: duration("period", 86_400_000) };
    }
    const fallback =
      rule.kind === "rate" ? rule.windowMs : rule.kind === "anomaly" ? rule.bucketMs : cooldownMs;
    rule.resolveAfterMs = duration("resolveAfter", fallback);
  }
  return problems.length > before ? null : rule;
}

function parseFilter(
  r: Record<string, unknown>,
  kind: RuleKind,
  bad: (key: string, what: string) => void,
): LineFilterSpec {
  const hasPattern = r.pattern !== undefined;
  const hasRegex = r.regex !== undefined;
  if (hasPattern && hasRegex) bad("regex", "give either pattern (literal text) or regex, not both");
  const text = hasRegex ? r.regex : r.pattern;
  const key = hasRegex ? "regex" : "pattern";
  let pattern: string | null = null;
  if (text !== undefined) {
    if (typeof text !== "string" || text === "" || text.length > MAX_PATTERN_CHARS) {
      bad(key, `expected a non-empty string of at most ${MAX_PATTERN_CHARS} characters`);
    } else pattern = text;
  }
  const caseOption = r.case ?? "sensitive";
  if (caseOption !== "sensitive" && caseOption !== "insensitive")
    bad("case", 'expected "sensitive" or "insensitive"');
  const levelList = typeof r.level === "string" ? [r.level] : r.level;
  const levels = r.level === undefined ? null : stringList(levelList, LEVELS, "level", bad);
  if (text === undefined && r.level === undefined) {
    bad("pattern", `a ${kind} rule needs a pattern, a regex or a level`);
  }
  if (pattern !== null && hasRegex) {
    const error = regexProblem(pattern, caseOption === "insensitive");
    if (error !== null) bad("regex", `not a valid RE2 regular expression: ${error}`);
  }
  return { pattern, regex: hasRegex, caseSensitive: caseOption !== "insensitive", levels };
}

function stringList<T extends string>(
  value: unknown,
  allowed: readonly T[],
  key: string,
  bad: (key: string, what: string) => void,
): T[] | null {
  if (value === undefined) return null;
  if (!Array.isArray(value) || !value.every((v) => allowed.includes(v as T))) {
    bad(key, `expected a list of ${allowed.join(", ")}`);
    return null;
  }
  return [...new Set(value as T[])];
}

function positiveNumber(
  value: unknown,
  fallback: number,
  key: string,
  bad: (key: string, what: string) => void,
): number {
  if (value === undefined) return fallback;
  if (typeof value !== "number" || !Number.isFinite(value) || value <= 0 || value > 1000) {
    bad(key, "expected a number above 0 (at most 1000)");
    return fallback;
  }
  return value;
}

/**
 * The rules of a whole server config object, as `serve --config` reads it (`{"alerts": {"rules": [...]}}`);
 * none when it has no `alerts` or no `alerts.rules`. Other `alerts` keys (targets, ...) are delivery's.
 */
export function rulesFromConfig(config: Readonly<Record<string, unknown>>): RuleSpec[] {
  const alerts = config.alerts;
  if (alerts === undefined) return [];
  if (typeof alerts !== "object" || alerts === null || Array.isArray(alerts)) {
    throw new RuleConfigError(["alerts: expected an object"]);
  }
  const rules = (alerts as Record<string, unknown>).rules;
  return rules === undefined ? [] : parseRules(rules);
}

/** `alerts.stateFile` of a whole config object, resolved against the config file's directory; null when unset. */
export function stateFileFromConfig(
  config: Readonly<Record<string, unknown>>,
  baseDir: string,
): string | null {
  const file = (config.alerts as Record<string, unknown> | undefined)?.stateFile;
  if (file === undefined) return null;
  if (typeof file !== "string" || file === "")
    throw new RuleConfigError(["alerts.stateFile: expected a file path"]);
  return isAbsolute(file) ? file : resolve(baseDir, file);
}
