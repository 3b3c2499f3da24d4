import type { SearchQuery } from "../backend.js";
import { checkQuery, escapeRegExp } from "../search-query.js";
import { runSearchWorker } from "../search-worker.js";

/**
 * Searches lines held in memory in a worker thread, like the file search (backend/file/search.ts), so a
 * pathological regex is stopped at the time limit by terminating the worker instead of blocking the server.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { texts, pattern, flags, literal, limit } = workerData;
const re = literal === null ? new RegExp(pattern, flags) : null;
const indexes = [];
let scanned = 0;
let limited = false;
for (let i = 0; i < texts.length; i++) {
  const text = texts[i];
  scanned += Buffer.byteLength(text) + 1;
  if (literal !== null ? text.includes(literal) : re.test(text)) {
    if (indexes.length === limit) { limited = true; break; }
    indexes.push(i);
  }
}
parentPort.postMessage({ indexes, limited, scanned });
`;

export interface TextSearchOutcome {
  /** Indexes of the matching texts, in order. */
  indexes: number[];
  limited: boolean;
  timedOut: boolean;
  scannedBytes: number;
}

export function searchTexts(texts: string[], query: SearchQuery): Promise<TextSearchOutcome> {
  checkQuery(query);
  return runSearchWorker<TextSearchOutcome>({
    source: WORKER_SOURCE,
    workerData: {
      texts,
      pattern: query.regex ? query.q : escapeRegExp(query.q),
      flags: query.caseSensitive ? "u" : "iu",
      literal: !query.regex && query.caseSensitive ? query.q : null,
      limit: query.limit,
    },
    query,
    maxOldGenerationSizeMb: 256,
    onMessage: (m) => ({ ...(m as Omit<TextSearchOutcome, "timedOut">), timedOut: false }),
    timedOut: () => ({ indexes: [], limited: false, timedOut: true, scannedBytes: 0 }),
  });
}
