import type { HostSample } from "../../protocol/messages.js";
import { averageSamples } from "../average.js";
import type { MetricsSource } from "../source.js";
import { type HostReading, type HostReadOptions, readHost } from "./host-reading.js";
import { hostSample } from "./host-sample.js";

/** The host's CPU, memory, load, disk and network from /proc (docs/metrics.md). */
export class HostSource implements MetricsSource<HostSample> {
  readonly name = "host";
  /** The newest reading: its counters are what /metrics exposes. */
  latest: HostReading | null = null;

  constructor(private readonly options: HostReadOptions) {}

  async sample(nowMs: number): Promise<HostSample | null> {
    const reading = await readHost(this.options, nowMs);
    const prev = this.latest;
    this.latest = reading;
    return prev === null ? null : hostSample(prev, reading);
  }

  combine(samples: readonly HostSample[], t: number): HostSample {
    const out = averageSamples(samples, t, 2);
    // Byte counts and rates stay whole numbers; percentages and loads keep two decimals.
    for (const k of ["total", "available", "used"] as const) out.mem[k] = Math.round(out.mem[k]);
    for (const k of ["read", "write", "used", "free"] as const)
      if (out.disk[k] !== undefined) out.disk[k] = Math.round(out.disk[k]);
    for (const n of Object.values(out.net)) {
      n.rx = Math.round(n.rx);
      n.tx = Math.round(n.tx);
    }
    return out;
  }
}
