import type { TimedSample } from "./source.js";

type Json = number | string | boolean | null | Json[] | { [key: string]: Json };

/**
 * The mean of samples of one shape, field by field (nested objects and arrays alike), rounded to `digits`
 * decimals: a key missing from some samples (an interface that came up mid-minute) is averaged over the samples
 * that have it. Non-numbers are taken from the newest sample. Any source whose samples are numbers can combine
 * with it.
 */
export function averageSamples<S extends TimedSample>(samples: readonly S[], t: number, digits = 1): S {
  if (samples.length === 0) throw new RangeError("averageSamples needs at least one sample");
  const scale = 10 ** digits;
  const mean = (values: Json[]): Json => {
    const present = values.filter((v) => v !== undefined);
    const last = present[present.length - 1] as Json;
    if (typeof last === "number") {
      const nums = present.filter((v): v is number => typeof v === "number");
      return Math.round((nums.reduce((a, b) => a + b, 0) / nums.length) * scale) / scale;
    }
    if (Array.isArray(last)) return last.map((_, i) => mean(present.map((v) => (v as Json[])[i] as Json)));
    if (last !== null && typeof last === "object") {
      const keys = new Set(
        present.flatMap((v) => (v !== null && typeof v === "object" ? Object.keys(v) : [])),
      );
      const out: Record<string, Json> = {};
      for (const k of keys) out[k] = mean(present.map((v) => (v as Record<string, Json>)[k] as Json));
      return out;
    }
    return last;
  };
  const out = mean(samples as unknown as Json[]) as unknown as S;
  out.t = t;
  return out;
}
