import { type SearchQuery, SearchQueryError } from "./backend.js";
import { checkPattern } from "./pattern.js";

export { escapeRegExp } from "./pattern.js";

/**
 * Validates the query up front so a bad regex is the caller's error (400), not a failed scan: a regex must be
 * RE2 syntax (backend/pattern.ts; lookaround and backreferences are not).
 */
export function checkQuery(query: SearchQuery): void {
  if (query.q.length === 0) throw new SearchQueryError("empty query");
  if (query.regex) checkPattern(query.q, !query.caseSensitive);
}

/** Why a search stopped before its end: its caller went away (SearchQuery.signal). */
export class SearchAbortedError extends Error {
  override readonly name = "SearchAbortedError";
}

/**
 * Ends a running scan when the query's signal aborts: `stop` terminates the worker. Returns the function that
 * stops listening (call it when the scan ends by itself).
 */
export function onAbort(query: SearchQuery, stop: (error: Error) => void): () => void {
  const signal = query.signal;
  if (signal === undefined) return () => {};
  const abort = (): void => stop(new SearchAbortedError("the search was cancelled"));
  if (signal.aborted) {
    queueMicrotask(abort);
    return () => {};
  }
  signal.addEventListener("abort", abort, { once: true });
  return () => signal.removeEventListener("abort", abort);
}
