import type { AlertNotification } from "../alert.js";
import { type AttemptResult, postOnce } from "./attempt.js";
import { type DeliveryClock, systemClock } from "./clock.js";
import { renderBody } from "./formats/render.js";
import { DEFAULT_RETRY, type RetryPolicy } from "./retry-policy.js";
import { messageId, signatureHeaders } from "./signing.js";
import { TargetChannel, type TargetStatus } from "./target-channel.js";
import type { WebhookTarget } from "./targets.js";

export interface DispatcherOptions {
  targets: WebhookTarget[];
  /** `alerts.dashboardUrl`: the base of the links to evidence lines (null: no links). */
  dashboardUrl: string | null;
  clock?: DeliveryClock;
  retry?: Partial<RetryPolicy>;
  /** Notifications one target holds waiting at most (default 100). */
  maxQueue?: number;
  /** Called once per notification a target gave up on, for the host's log. */
  onFailure?: (target: string, message: string) => void;
}

export interface DispatcherStatus {
  targets: TargetStatus[];
}

export const DEFAULT_MAX_QUEUE = 100;
export const DEFAULT_CLOSE_DEADLINE_MS = 5_000;

/**
 * Hands each notification to every webhook target. `send` never blocks and never throws: each target has its own
 * bounded queue, rate limit and retries, so a slow or failing target delays only itself.
 */
export class Dispatcher {
  private readonly channels: TargetChannel[];
  private closing: Promise<void> | null = null;

  constructor(options: DispatcherOptions) {
    const channel = {
      dashboardUrl: options.dashboardUrl,
      clock: options.clock ?? systemClock,
      retry: { ...DEFAULT_RETRY, ...options.retry },
      maxQueue: options.maxQueue ?? DEFAULT_MAX_QUEUE,
      ...(options.onFailure === undefined ? {} : { onFailure: options.onFailure }),
    };
    this.channels = options.targets.map((target) => new TargetChannel(target, channel));
  }

  send(n: AlertNotification): void {
    for (const channel of this.channels) channel.enqueue(n);
  }

  /** Resolves when every target has sent or given up on everything it was handed. */
  async idle(): Promise<void> {
    await Promise.all(this.channels.map((c) => c.idle()));
  }

  /**
   * Stops taking notifications and drains the queues for at most `deadlineMs`; then in-flight requests are
   * aborted and what still waits is counted as dropped. Idempotent.
   */
  close(deadlineMs = DEFAULT_CLOSE_DEADLINE_MS): Promise<void> {
    this.closing ??= (async () => {
      const deadline = AbortSignal.timeout(deadlineMs);
      await Promise.all(this.channels.map((c) => c.close(deadline)));
    })();
    return this.closing;
  }

  status(): DispatcherStatus {
    return { targets: this.channels.map((c) => c.status()) };
  }
}

/**
 * One attempt to one target, signed like the real thing, without queue, rate limit or retries: what
 * `livetrail alert test` shows the user, the answer as the target gave it.
 */
export function deliverOnce(
  target: WebhookTarget,
  n: AlertNotification,
  dashboardUrl: string | null,
  clock: Pick<DeliveryClock, "now"> = systemClock,
): Promise<AttemptResult> {
  const body = renderBody(target.format, n, dashboardUrl, clock.now);
  const headers =
    target.secret === null
      ? {}
      : signatureHeaders(target.secret, messageId(n.id, n.status), Math.floor(clock.now() / 1000), body);
  return postOnce(target, body, headers, new AbortController().signal);
}
