/**
 * The engine's time: a clock and timers driven by it. Production uses the system clock and setTimeout; tests
 * inject a manual one and advance it, so silence and resolution fire on time without lines and without sleeping.
 */
export interface Scheduler {
  now(): number;
  /** Runs `fn` once the clock reaches `atMs` (at once if it has); returns the function that cancels it. */
  at(atMs: number, fn: () => void): () => void;
}

// setTimeout takes at most 2^31-1 ms (~24.8 days); longer waits re-arm.
const MAX_DELAY_MS = 2 ** 31 - 1;

export const systemScheduler: Scheduler = {
  now: () => Date.now(),
  at(atMs, fn) {
    let timer: NodeJS.Timeout;
    const arm = (): void => {
      const delay = atMs - Date.now();
      timer = setTimeout(delay > MAX_DELAY_MS ? arm : fn, Math.max(0, Math.min(delay, MAX_DELAY_MS)));
      // Alert timers never keep the process alive on their own.
      timer.unref();
    };
    arm();
    return () => clearTimeout(timer);
  },
};
