import { type SearchQuery, SearchQueryError } from "./backend.js";

/** Validates the query up front so a bad regex is the caller's error (400), not a failed scan. */
export function checkQuery(query: SearchQuery): void {
  if (query.q.length === 0) throw new SearchQueryError("empty query");
  if (!query.regex) return;
  try {
    new RegExp(query.q, query.caseSensitive ? "u" : "iu");
  } catch (error) {
    throw new SearchQueryError(`invalid regular expression: ${(error as Error).message}`);
  }
}

/** The query as a regex source matching it literally. */
export function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}
