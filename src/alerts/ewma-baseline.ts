/**
 * An anomaly rule's baseline of one alert: the EWMA mean and variance of its per-bucket counts (West's
 * incremental form), alpha = 2 / (span + 1). A bucket's count c is anomalous when
 * z = (c - mean) / sd ≥ the rule's zScore, with sd floored at sqrt(mean) (a Poisson count's spread) and at 1, so
 * a near-constant baseline does not turn one extra line into many standard deviations.
 */
export interface BaselineState {
  mean: number;
  variance: number;
  /** Closed buckets folded in. */
  buckets: number;
}

/** Folding in more than this many empty buckets at once changes nothing that matters: the mean is ~0 by then. */
const MAX_EMPTY_FOLDS = 10_000;

export class EwmaBaseline implements BaselineState {
  mean = 0;
  variance = 0;
  buckets = 0;
  private readonly alpha: number;

  constructor(span: number, state?: BaselineState) {
    this.alpha = 2 / (span + 1);
    if (state !== undefined) {
      this.mean = state.mean;
      this.variance = state.variance;
      this.buckets = state.buckets;
    }
  }

  /** Folds one closed bucket's count in. */
  add(count: number): void {
    if (this.buckets === 0) {
      this.mean = count;
      this.variance = 0;
    } else {
      const diff = count - this.mean;
      const step = this.alpha * diff;
      this.mean += step;
      this.variance = (1 - this.alpha) * (this.variance + diff * step);
    }
    this.buckets++;
  }

  /** Folds `n` empty buckets in (time passed with no matching line). */
  addEmpty(n: number): void {
    for (let k = 0; k < Math.min(n, MAX_EMPTY_FOLDS); k++) this.add(0);
    if (n > MAX_EMPTY_FOLDS) this.buckets += n - MAX_EMPTY_FOLDS;
  }

  zScore(count: number): number {
    const sd = Math.sqrt(Math.max(this.variance, this.mean, 1));
    return (count - this.mean) / sd;
  }

  toJSON(): BaselineState {
    return { mean: this.mean, variance: this.variance, buckets: this.buckets };
  }
}
