/** Alert delivery to webhooks: what the server and the CLI import. */
export type { AttemptResult } from "./attempt.js";
export { type DeliveryClock, systemClock } from "./clock.js";
export {
  DEFAULT_CLOSE_DEADLINE_MS,
  DEFAULT_MAX_QUEUE,
  Dispatcher,
  type DispatcherOptions,
  type DispatcherStatus,
  deliverOnce,
} from "./dispatcher.js";
export { DEFAULT_RETRY, type RetryPolicy } from "./retry-policy.js";
export type { TargetStatus } from "./target-channel.js";
export {
  parseDashboardUrl,
  parseTargets,
  type RateLimit,
  redactUrl,
  sameTargets,
  TargetConfigError,
  type WebhookFormat,
  type WebhookTarget,
} from "./targets.js";
