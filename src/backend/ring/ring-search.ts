import type { SearchQuery } from "../backend.js";
import { PATTERN_WORKER_SOURCE, patternSpec } from "../pattern.js";
import { checkQuery, escapeRegExp } from "../search-query.js";
import { runSearchWorker } from "../search-worker.js";

/**
 * Searches lines held in memory in a worker thread, like the file search (backend/file/search.ts), so a search
 * past its time limit is stopped by terminating the worker instead of blocking the server. A regex runs on RE2
 * (backend/pattern.ts, linear time); an any-case literal on an escaped V8 regex, which cannot backtrack.
 */
const WORKER_SOURCE = `${PATTERN_WORKER_SOURCE}
const { parentPort, workerData } = require("node:worker_threads");
const { texts, spec, pattern, literal, limit } = workerData;
const re = literal !== null ? null : spec !== null ? compilePattern(spec) : new RegExp(pattern, "iu");
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
      spec: query.regex ? patternSpec(query.q, true, !query.caseSensitive) : null,
      pattern: escapeRegExp(query.q),
      literal: !query.regex && query.caseSensitive ? query.q : null,
      limit: query.limit,
    },
    query,
    maxOldGenerationSizeMb: 256,
    onMessage: (m) => ({ ...(m as Omit<TextSearchOutcome, "timedOut">), timedOut: false }),
    timedOut: () => ({ indexes: [], limited: false, timedOut: true, scannedBytes: 0 }),
  });
}
