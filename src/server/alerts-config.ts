import type { DeliveryClock } from "../alerts/delivery/clock.js";
import type { RetryPolicy } from "../alerts/delivery/retry-policy.js";
import {
  parseDashboardUrl,
  parseTargets,
  TargetConfigError,
  type WebhookTarget,
} from "../alerts/delivery/targets.js";
import { parseRules, RuleConfigError, type RuleSpec, stateFileFromConfig } from "../alerts/rule-config.js";
import type { Scheduler } from "../alerts/scheduler.js";

/** The server's alerting: rules evaluated on every stream, notifications to webhooks, the dashboard and a stream. */
export interface AlertsOptions {
  rules: RuleSpec[];
  targets: WebhookTarget[];
  /** Base of the links in webhook bodies (`alerts.dashboardUrl`); null: webhooks carry no links. */
  dashboardUrl: string | null;
  /** `alerts.stateFile`: where the engine keeps its state; default `<stateDir>/alerts-state.json`, or none. */
  stateFile?: string | null;
  /**
   * `alerts.thread`: false evaluates the rules on the main thread, in the pass that feeds clients; default (true)
   * in a worker thread (alerts/engine-thread.ts). An injected scheduler implies the main thread.
   */
  thread?: boolean;
  /** The engine's time (tests inject a manual one; the rules then run on the main thread). Default: the system clock. */
  scheduler?: Scheduler;
  /** Delivery's time and sleeps (tests). Default: the system clock. */
  deliveryClock?: DeliveryClock;
  retry?: Partial<RetryPolicy>;
}

const KEYS = new Set(["rules", "targets", "dashboardUrl", "stateFile", "thread"]);

/** Thrown with every problem of the `alerts` section, each naming the rule or target and the key. */
export class AlertsConfigError extends Error {
  override readonly name = "AlertsConfigError";
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
  }
}

/** The config file's `alerts` object, validated by the engine's and delivery's own parsers; paths against `baseDir`. */
export function parseAlertsConfig(raw: unknown, baseDir = process.cwd()): AlertsOptions {
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new AlertsConfigError(["alerts: must be an object with rules (and targets, dashboardUrl)"]);
  }
  const section = raw as Record<string, unknown>;
  const problems: string[] = [];
  for (const key of Object.keys(section)) {
    if (!KEYS.has(key)) problems.push(`alerts.${key}: unknown key (known: ${[...KEYS].join(", ")})`);
  }
  let rules: RuleSpec[] = [];
  try {
    rules = parseRules(section.rules ?? []);
  } catch (error) {
    if (!(error instanceof RuleConfigError)) throw error;
    problems.push(...error.problems);
  }
  let targets: WebhookTarget[] = [];
  let dashboardUrl: string | null = null;
  try {
    targets = parseTargets(section.targets);
    dashboardUrl = parseDashboardUrl(section.dashboardUrl);
  } catch (error) {
    if (!(error instanceof TargetConfigError)) throw error;
    problems.push(error.message);
  }
  let stateFile: string | null = null;
  try {
    stateFile = stateFileFromConfig({ alerts: section }, baseDir);
  } catch (error) {
    if (!(error instanceof RuleConfigError)) throw error;
    problems.push(...error.problems);
  }
  const thread = section.thread;
  if (thread !== undefined && typeof thread !== "boolean")
    problems.push("alerts.thread: must be true or false");
  if (problems.length > 0) throw new AlertsConfigError(problems);
  return {
    rules,
    targets,
    dashboardUrl,
    ...(stateFile === null ? {} : { stateFile }),
    ...(typeof thread === "boolean" ? { thread } : {}),
  };
}
