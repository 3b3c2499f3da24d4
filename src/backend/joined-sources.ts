import type { StreamSource } from "./backend.js";

/**
 * Several stream sources as one (globs and containers in one server): each starts in turn and adds its streams;
 * closing closes all of them, also when one fails to close.
 */
export function joinSources(sources: readonly StreamSource[]): StreamSource | undefined {
  if (sources.length <= 1) return sources[0];
  return {
    async start(add) {
      for (const source of sources) await source.start(add);
    },
    async close() {
      const results = await Promise.allSettled(sources.map((s) => s.close()));
      const failed = results.find((r): r is PromiseRejectedResult => r.status === "rejected");
      if (failed !== undefined) throw failed.reason;
    },
  };
}
