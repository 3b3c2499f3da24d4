import { Ring } from "./ring.js";
import type { TimedSample } from "./source.js";

/** A sample as kept: its time and its wire JSON (serialised once; a snapshot only joins them). */
interface Kept {
  t: number;
  json: string;
}

export interface HistoryLimits {
  /** Samples kept at full resolution (default 3,600: one hour at 1 s). */
  seconds?: number;
  /** One-minute samples kept (default 1,440: 24 hours). */
  minutes?: number;
}

const MINUTE = 60_000;

/**
 * The bounded history of one source: every sample for the last `seconds` of them, and one combined sample per
 * minute for the last `minutes` minutes, each in a fixed-size ring. Samples are kept as their JSON, so the memory
 * is about the bytes of (seconds + minutes) samples, plus the current minute's sample objects (docs/metrics.md).
 */
export class MetricsHistory<S extends TimedSample> {
  private readonly fine: Ring<Kept>;
  private readonly coarse: Ring<Kept>;
  private minute: number | null = null;
  private bucket: S[] = [];

  constructor(
    private readonly combine: (samples: readonly S[], t: number) => S,
    limits: HistoryLimits = {},
  ) {
    this.fine = new Ring(limits.seconds ?? 3600);
    this.coarse = new Ring(limits.minutes ?? 1440);
  }

  /** Adds a sample (times must not go backwards; an older one is ignored). Returns its JSON. */
  push(sample: S): string {
    const json = JSON.stringify(sample);
    const newest = this.fine.at(this.fine.size - 1);
    if (newest !== undefined && sample.t < newest.t) return json;
    this.fine.push({ t: sample.t, json });
    const m = Math.floor(sample.t / MINUTE);
    if (this.minute !== null && m !== this.minute) this.flush();
    this.minute = m;
    this.bucket.push(sample);
    return json;
  }

  /**
   * The history after `sinceMs`: the full-resolution samples, and the minute samples from before the oldest of
   * them (both oldest first, as JSON). A minute still running is not among the minute samples.
   */
  since(sinceMs: number): { minutes: string[]; seconds: string[] } {
    const seconds = this.fine.from((k) => k.t > sinceMs);
    const oldest = this.fine.at(0)?.t ?? Number.POSITIVE_INFINITY;
    const minutes = this.coarse.from((k) => k.t > sinceMs).filter((k) => k.t < oldest);
    return { minutes: minutes.map((k) => k.json), seconds: seconds.map((k) => k.json) };
  }

  /** How many samples each ring holds (for tests and docs). */
  get sizes(): { seconds: number; minutes: number } {
    return { seconds: this.fine.size, minutes: this.coarse.size };
  }

  private flush(): void {
    if (this.bucket.length === 0 || this.minute === null) return;
    const combined = this.combine(this.bucket, this.minute * MINUTE);
    this.coarse.push({ t: combined.t, json: JSON.stringify(combined) });
    this.bucket = [];
  }
}
