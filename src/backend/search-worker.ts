import { Worker } from "node:worker_threads";
import type { SearchQuery } from "./backend.js";
import { onAbort } from "./search-query.js";

/**
 * Runs a search scan in a worker thread with the query's deadline: a pathological regex (catastrophic
 * backtracking) is stopped by terminating the worker, which interrupts even a regex stuck in one line, and so is
 * a scan whose caller went away (the query's signal). The scan is plain JavaScript evaluated from a string, so it
 * runs the same from src (tests) and dist. `onMessage` gets each message and returns the outcome once there is
 * one; `timedOut` gives the outcome when the deadline passes first.
 */
export function runSearchWorker<T>(options: {
  source: string;
  workerData: unknown;
  query: SearchQuery;
  maxOldGenerationSizeMb: number;
  onMessage: (message: unknown) => T | undefined;
  timedOut: () => T;
}): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const worker = new Worker(options.source, {
      eval: true,
      workerData: options.workerData,
      resourceLimits: { maxOldGenerationSizeMb: options.maxOldGenerationSizeMb },
      stdout: false,
      stderr: false,
    });
    let settled = false;
    const finish = (outcome: T | Error): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      stopListening();
      void worker.terminate();
      if (outcome instanceof Error) reject(outcome);
      else resolve(outcome);
    };
    const timer = setTimeout(() => finish(options.timedOut()), options.query.timeoutMs);
    const stopListening = onAbort(options.query, finish);
    worker.on("message", (message: unknown) => {
      const outcome = options.onMessage(message);
      if (outcome !== undefined) finish(outcome);
    });
    worker.on("error", (error) => finish(error));
    worker.on("exit", () => finish(new Error("search worker exited without a result")));
  });
}
