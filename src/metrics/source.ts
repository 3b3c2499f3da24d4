/**
 * A source of metrics samples the server sends to dashboards that ask (`metrics-subscribe`) and keeps a bounded
 * history of. The host's /proc is one (host/host-source.ts); per-container CPU and memory from the Docker Engine
 * API is meant to be another, with a sample shape of its own and the same feed, history and wire messages.
 */
export interface TimedSample {
  /** Unix time (ms) at the end of the interval the sample covers. */
  t: number;
}

export interface MetricsSource<S extends TimedSample = TimedSample> {
  /** The `source` field of its wire messages ("host"). */
  readonly name: string;
  /** The sample of the interval ending at `nowMs`; null when there is none yet (counters need two readings). */
  sample(nowMs: number): Promise<S | null>;
  /** One sample standing for several (a minute of them, oldest first) in the downsampled history, timed at `t`. */
  combine(samples: readonly S[], t: number): S;
}
