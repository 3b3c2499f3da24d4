/**
 * Wait for a condition instead of sleeping: tests never assume how long the machine takes, only how long
 * they are willing to wait before calling it a failure.
 */
export interface WaitForOptions {
  /** Give up after this long (default 10 s): generous because machines are shared and noisy. */
  timeoutMs?: number;
  /** How often to re-check (default 5 ms). */
  intervalMs?: number;
  /** Included in the timeout error to say what was awaited. */
  message?: string;
}

/**
 * Resolves with the first truthy value `check` returns; rejects with a clear message at the deadline.
 * `check` may be async; a thrown error is remembered and reported if the deadline passes.
 */
export async function waitFor<T>(
  check: () => T | Promise<T>,
  options: WaitForOptions = {},
): Promise<NonNullable<T>> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  const intervalMs = options.intervalMs ?? 5;
  const deadline = Date.now() + timeoutMs;
  let lastError: unknown;
  for (;;) {
    try {
      const value = await check();
      if (value) return value as NonNullable<T>;
    } catch (error) {
      lastError = error;
    }
    if (Date.now() >= deadline) {
      const what = options.message ?? "condition";
      const cause = lastError instanceof Error ? `: last error: ${lastError.message}` : "";
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}`);
    }
    await new Promise((resolve) => setTimeout(resolve, intervalMs));
  }
}

/** Resolves when `emitter`-style subscription delivers a value matching `predicate`, or rejects at the deadline. */
export function waitForEvent<E>(
  subscribe: (listener: (event: E) => void) => () => void,
  predicate: (event: E) => boolean,
  options: WaitForOptions = {},
): Promise<E> {
  const timeoutMs = options.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      remove();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${options.message ?? "event"}`));
    }, timeoutMs);
    const remove = subscribe((event) => {
      if (!predicate(event)) return;
      clearTimeout(timer);
      remove();
      resolve(event);
    });
  });
}
