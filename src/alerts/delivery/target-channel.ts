import type { AlertNotification } from "../alert.js";
import { type AttemptResult, postOnce } from "./attempt.js";
import type { DeliveryClock } from "./clock.js";
import { renderBody } from "./formats/render.js";
import { backoffMs, isRetryable, parseRetryAfter, type RetryPolicy } from "./retry-policy.js";
import { messageId, signatureHeaders } from "./signing.js";
import { redactUrl, type WebhookTarget } from "./targets.js";
import { TokenBucket } from "./token-bucket.js";

/** What /metrics and the UI show of one target. */
export interface TargetStatus {
  name: string;
  format: WebhookTarget["format"];
  /** Scheme and host only: a webhook URL's path is often its credential (Slack). */
  url: string;
  /** Notifications waiting (the one being sent included). */
  queued: number;
  /** Delivered (a 2xx answer). */
  sent: number;
  /** Given up: a 4xx other than 429, or every attempt failed. */
  failed: number;
  /** Attempts after the first. */
  retried: number;
  /** Never sent: the queue was full, or close() ran out of time. */
  dropped: number;
  /** Replaced, while waiting for a rate-limit token, by a newer notification of the same alert. */
  coalesced: number;
  lastError: { at: string; message: string; status: number | null } | null;
  lastSentAt: string | null;
}

export interface ChannelOptions {
  dashboardUrl: string | null;
  clock: DeliveryClock;
  retry: RetryPolicy;
  maxQueue: number;
  onFailure?: (target: string, message: string) => void;
}

/**
 * One target's delivery: a bounded queue drained in order by one worker, which waits for a rate-limit token,
 * then sends with retries. With a rate limit, a notification of an alert already waiting replaces it, so a storm
 * collapses to the newest state of each alert; past `maxQueue` new notifications are dropped and counted.
 */
export class TargetChannel {
  private readonly queue: AlertNotification[] = [];
  private readonly bucket: TokenBucket | null;
  private readonly counts = { sent: 0, failed: 0, retried: 0, dropped: 0, coalesced: 0 };
  private lastError: TargetStatus["lastError"] = null;
  private lastSentAt: string | null = null;
  private running: Promise<void> | null = null;
  /** queue[0] is being sent (its token taken): a newer state of it goes behind it, not in its place. */
  private sending = false;
  private closed = false;
  /** Aborts sleeps and requests once close() is past its deadline. */
  private readonly stop = new AbortController();

  constructor(
    readonly target: WebhookTarget,
    private readonly options: ChannelOptions,
  ) {
    this.bucket = target.rateLimit === null ? null : new TokenBucket(target.rateLimit, options.clock.now);
  }

  enqueue(n: AlertNotification): void {
    if (this.closed) {
      this.counts.dropped++;
      return;
    }
    // Over a rate limit, a waiting notification of the same alert is superseded by this one (the one in flight
    // is not); without one, nothing waits for long and every state is sent.
    const start = this.sending ? 1 : 0;
    const waiting = this.bucket === null ? -1 : this.queue.findIndex((q, i) => i >= start && q.id === n.id);
    if (waiting !== -1) {
      this.queue[waiting] = n;
      this.counts.coalesced++;
      return;
    }
    if (this.queue.length >= this.options.maxQueue) {
      this.counts.dropped++;
      return;
    }
    this.queue.push(n);
    this.running ??= this.drain().finally(() => {
      this.running = null;
    });
  }

  /** Resolves when nothing is waiting or in flight. */
  async idle(): Promise<void> {
    while (this.running !== null) await this.running;
  }

  /** Stops taking notifications; sends what waits until `deadline` aborts, then drops the rest. */
  async close(deadline: AbortSignal): Promise<void> {
    this.closed = true;
    const onDeadline = (): void => this.stop.abort();
    if (deadline.aborted) onDeadline();
    else deadline.addEventListener("abort", onDeadline, { once: true });
    try {
      await this.idle();
    } finally {
      deadline.removeEventListener("abort", onDeadline);
    }
  }

  status(): TargetStatus {
    return {
      name: this.target.name,
      format: this.target.format,
      url: redactUrl(this.target.url),
      queued: this.queue.length,
      ...this.counts,
      lastError: this.lastError,
      lastSentAt: this.lastSentAt,
    };
  }

  private async drain(): Promise<void> {
    while (this.queue.length > 0) {
      if (this.stop.signal.aborted) {
        this.counts.dropped += this.queue.length;
        this.queue.length = 0;
        return;
      }
      try {
        await this.waitForToken();
        this.sending = true;
        await this.deliver(this.queue[0] as AlertNotification);
      } catch (error) {
        // Closing past the deadline: the loop's next turn drops what is left, the one in flight included.
        if (this.stop.signal.aborted) continue;
        this.fail(`could not send: ${(error as Error).message}`, null);
      } finally {
        this.sending = false;
      }
      this.queue.shift();
    }
  }

  private async waitForToken(): Promise<void> {
    if (this.bucket === null) return;
    for (;;) {
      if (this.bucket.take()) return;
      await this.options.clock.sleep(this.bucket.waitMs(), this.stop.signal);
    }
  }

  /** Every attempt of one notification; resolves with the outcome counted. */
  private async deliver(n: AlertNotification): Promise<void> {
    const { clock, retry, dashboardUrl } = this.options;
    const body = renderBody(this.target.format, n, dashboardUrl, clock.now);
    const id = messageId(n.id, n.status);
    for (let attempt = 1; ; attempt++) {
      const result = await this.attempt(id, body);
      if (result.ok) {
        this.counts.sent++;
        this.lastSentAt = new Date(clock.now()).toISOString();
        return;
      }
      if (this.stop.signal.aborted) throw new Error("closing");
      let message = result.error ?? "failed";
      const retryable = isRetryable(result.status);
      if (retryable && attempt < retry.maxAttempts) {
        const asked = parseRetryAfter(result.retryAfter, clock.now());
        if (asked === null || asked <= retry.maxRetryAfterMs) {
          this.counts.retried++;
          await clock.sleep(asked ?? backoffMs(attempt, retry, clock.random), this.stop.signal);
          continue;
        }
        message += ` (Retry-After ${Math.round(asked / 1000)} s is past the ${retry.maxRetryAfterMs / 1000} s limit)`;
      } else if (retryable) {
        message += ` (after ${attempt} attempts)`;
      }
      this.fail(message, result.status);
      return;
    }
  }

  private attempt(id: string, body: string): Promise<AttemptResult> {
    const secret = this.target.secret;
    // Signed per attempt: the timestamp says when this request was made, so receivers can refuse replays.
    const headers =
      secret === null ? {} : signatureHeaders(secret, id, Math.floor(this.options.clock.now() / 1000), body);
    return postOnce(this.target, body, headers, this.stop.signal);
  }

  private fail(message: string, status: number | null): void {
    this.counts.failed++;
    this.lastError = { at: new Date(this.options.clock.now()).toISOString(), message, status };
    this.options.onFailure?.(this.target.name, message);
  }
}
