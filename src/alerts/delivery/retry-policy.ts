/**
 * When to try a webhook again and how long to wait: network errors, timeouts, 5xx and 429 are worth another
 * attempt; any other answer will not change by asking again. Delays grow exponentially with "equal jitter"
 * (half fixed, half random) so targets that failed together do not retry in lockstep; a Retry-After answer
 * sets the delay instead.
 */

export interface RetryPolicy {
  /** Attempts in all, the first included. */
  maxAttempts: number;
  baseDelayMs: number;
  maxDelayMs: number;
  /** A Retry-After longer than this ends the delivery as failed instead of holding the queue. */
  maxRetryAfterMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = {
  maxAttempts: 5,
  baseDelayMs: 1_000,
  maxDelayMs: 60_000,
  maxRetryAfterMs: 300_000,
};

/** null status: no answer (network error, timeout). */
export function isRetryable(status: number | null): boolean {
  return status === null || status === 429 || status >= 500;
}

/** The wait before retry number `retry` (1: after the first attempt). */
export function backoffMs(retry: number, policy: RetryPolicy, random: () => number): number {
  const full = Math.min(policy.maxDelayMs, policy.baseDelayMs * 2 ** (retry - 1));
  return Math.round(full / 2 + (random() * full) / 2);
}

/** Retry-After as delta-seconds or an HTTP date, in ms from `nowMs`; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, nowMs: number): number | null {
  if (value === null) return null;
  const text = value.trim();
  if (/^\d{1,9}$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return null;
  return Math.max(0, at - nowMs);
}
