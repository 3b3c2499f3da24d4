export interface BackoffOptions {
  /** Wait before the first restart. */
  initialMs: number;
  /** Longest wait: the doubling stops here. */
  maxMs: number;
  /** A run at least this long counts as healthy: the next restart waits initialMs again. */
  resetAfterMs: number;
}

/**
 * Restart delays for a process that exits: initialMs, doubling with each quick exit up to maxMs, back to initialMs
 * after a run that lasted resetAfterMs. Pure arithmetic, so the policy is tested without waiting.
 */
export class Backoff {
  private quickExits = 0;

  constructor(private readonly options: BackoffOptions) {
    if (!(options.initialMs >= 0 && options.maxMs >= options.initialMs && options.resetAfterMs >= 0))
      throw new RangeError("backoff needs 0 <= initialMs <= maxMs and resetAfterMs >= 0");
  }

  /** The wait before starting again after a run that lasted `ranMs`. */
  next(ranMs: number): number {
    if (ranMs >= this.options.resetAfterMs) this.quickExits = 0;
    const delay = Math.min(this.options.maxMs, this.options.initialMs * 2 ** this.quickExits);
    if (delay < this.options.maxMs) this.quickExits++;
    return delay;
  }
}
