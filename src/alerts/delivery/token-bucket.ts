import type { RateLimit } from "./targets.js";

/** A target's rate limit: `burst` tokens, refilled at `perMinute`; one notification spends one. */
export class TokenBucket {
  private tokens: number;
  private updatedMs: number;
  private readonly perMs: number;

  constructor(
    private readonly limit: RateLimit,
    private readonly now: () => number,
  ) {
    this.tokens = limit.burst;
    this.updatedMs = now();
    this.perMs = limit.perMinute / 60_000;
  }

  /** Spends a token if one is there. */
  take(): boolean {
    this.refill();
    if (this.tokens < 1) return false;
    this.tokens -= 1;
    return true;
  }

  /** How long until take() can succeed (0: now). */
  waitMs(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil((1 - this.tokens) / this.perMs);
  }

  private refill(): void {
    const t = this.now();
    this.tokens = Math.min(this.limit.burst, this.tokens + (t - this.updatedMs) * this.perMs);
    this.updatedMs = t;
  }
}
