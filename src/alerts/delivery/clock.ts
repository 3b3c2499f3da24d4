import { setTimeout as delay } from "node:timers/promises";

/** Time as delivery sees it: injected in tests, so backoff and rate limits run on virtual time. */
export interface DeliveryClock {
  now(): number;
  /** Resolves after `ms`; rejects when `signal` aborts (close() past its deadline). */
  sleep(ms: number, signal: AbortSignal): Promise<void>;
  /** In [0, 1): the jitter of retry delays. */
  random(): number;
}

export const systemClock: DeliveryClock = {
  now: () => Date.now(),
  sleep: async (ms, signal) => {
    await delay(ms, undefined, { signal });
  },
  random: () => Math.random(),
};
