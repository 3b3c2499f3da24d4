import { Worker } from "node:worker_threads";
import type { Line } from "../../core/line.js";
import type { SearchOutcome, SearchQuery } from "../backend.js";
import { PATTERN_WORKER_SOURCE, type PatternSpec, patternSpec } from "../pattern.js";
import { checkQuery, escapeRegExp, onAbort } from "../search-query.js";
import { type LineRecord, lineText } from "./entry.js";
import { type StreamRecords, toLine } from "./redis-records.js";

/** Entries read per XRANGE of a scan: one chunk is what the scan holds at a time. */
const CHUNK_ENTRIES = 5000;

/**
 * Whole-stream search, oldest first: the stream is read in chunks (XRANGE … COUNT) and each chunk's lines are
 * matched, with the checks every backend makes (search-query.ts). A literal query (either case) runs here: its
 * matching time is linear, a chunk takes about a millisecond. A regex runs on RE2 (backend/pattern.ts, linear time) in one worker
 * thread for the whole search, chunk after chunk, so a long one is stopped at the deadline by terminating the worker instead
 * of blocking the server (as file/search.ts and ring-search.ts do). Memory: one chunk plus the matches.
 */
export async function searchStream(
  records: StreamRecords,
  query: SearchQuery,
  maxLineBytes: number,
): Promise<SearchOutcome> {
  checkQuery(query);
  const flags = query.caseSensitive ? "u" : "iu";
  const matcher: Matcher = query.regex
    ? new RegexWorker(patternSpec(query.q, true, !query.caseSensitive))
    : literalMatcher(query.caseSensitive ? query.q : new RegExp(escapeRegExp(query.q), flags));
  let finish: () => void = () => {};
  const done = new Promise<void>((resolve) => {
    finish = resolve;
  });
  // Resolves (never rejects) when the deadline passes or the caller goes away, whichever comes first.
  const stopped = new Promise<"timeout" | Error>((resolve) => {
    const timer = setTimeout(() => resolve("timeout"), query.timeoutMs);
    const stopListening = onAbort(query, (error) => resolve(error));
    void done.then(() => {
      clearTimeout(timer);
      stopListening();
    });
  });
  const matches: Line[] = [];
  let scannedBytes = 0;
  try {
    let start = "-";
    for (;;) {
      const chunk = await Promise.race([records.after(start, CHUNK_ENTRIES), stopped]);
      if (chunk === "timeout") return { matches, limited: false, timedOut: true, scannedBytes };
      if (chunk instanceof Error) throw chunk;
      const last = chunk[chunk.length - 1];
      if (last === undefined) return { matches, limited: false, timedOut: false, scannedBytes };
      const lines = chunk.filter((r): r is LineRecord => r.kind === "line");
      const texts = lines.map((r) => lineText(r.bytes, maxLineBytes).text);
      const found = await Promise.race([matcher.run(texts, query.limit - matches.length), stopped]);
      if (found === "timeout") return { matches, limited: false, timedOut: true, scannedBytes };
      if (found instanceof Error) throw found;
      for (const i of found.indexes) matches.push(toLine(lines[i] as LineRecord, maxLineBytes));
      const scanned = found.limited ? lines.slice(0, (found.indexes.at(-1) ?? -1) + 1) : lines;
      for (const record of scanned) scannedBytes += record.bytes.length + 1;
      if (found.limited) return { matches, limited: true, timedOut: false, scannedBytes };
      if (chunk.length < CHUNK_ENTRIES) return { matches, limited: false, timedOut: false, scannedBytes };
      start = `(${last.id}`;
      // Let other requests and live lines in between chunks.
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  } finally {
    finish();
    matcher.stop();
  }
}

interface ChunkResult {
  /** Indexes of the matching texts, at most `limit`. */
  indexes: number[];
  /** A match beyond `limit` exists in the chunk. */
  limited: boolean;
}

interface Matcher {
  run(texts: string[], limit: number): Promise<ChunkResult>;
  stop(): void;
}

function literalMatcher(needle: string | RegExp): Matcher {
  const test = typeof needle === "string" ? (t: string) => t.includes(needle) : (t: string) => needle.test(t);
  return {
    async run(texts, limit) {
      return matchTexts(texts, test, limit);
    },
    stop() {},
  };
}

function matchTexts(texts: string[], test: (text: string) => boolean, limit: number): ChunkResult {
  const indexes: number[] = [];
  for (let i = 0; i < texts.length; i++) {
    if (!test(texts[i] as string)) continue;
    if (indexes.length >= limit) return { indexes, limited: true };
    indexes.push(i);
  }
  return { indexes, limited: false };
}

const WORKER_SOURCE = `${PATTERN_WORKER_SOURCE}
const { parentPort, workerData } = require("node:worker_threads");
const re = compilePattern(workerData.spec);
parentPort.on("message", ({ texts, limit }) => {
  const indexes = [];
  let limited = false;
  for (let i = 0; i < texts.length; i++) {
    if (!re.test(texts[i])) continue;
    if (indexes.length >= limit) { limited = true; break; }
    indexes.push(i);
  }
  parentPort.postMessage({ indexes, limited });
});
`;

/** One worker thread for a whole regex search: started once, fed one chunk at a time, terminated at the end. */
class RegexWorker implements Matcher {
  private readonly worker: Worker;
  private pending: { resolve: (r: ChunkResult) => void; reject: (e: Error) => void } | null = null;

  constructor(spec: PatternSpec) {
    this.worker = new Worker(WORKER_SOURCE, {
      eval: true,
      workerData: { spec },
      resourceLimits: { maxOldGenerationSizeMb: 256 },
      stdout: false,
      stderr: false,
    });
    this.worker.on("message", (result: ChunkResult) => this.settle(null, result));
    this.worker.on("error", (error) => this.settle(error, null));
    this.worker.on("exit", () => this.settle(new Error("search worker exited without a result"), null));
  }

  run(texts: string[], limit: number): Promise<ChunkResult> {
    return new Promise((resolve, reject) => {
      this.pending = { resolve, reject };
      this.worker.postMessage({ texts, limit });
    });
  }

  stop(): void {
    void this.worker.terminate();
  }

  private settle(error: Error | null, result: ChunkResult | null): void {
    const pending = this.pending;
    this.pending = null;
    if (pending === null) return;
    if (error !== null) pending.reject(error);
    else pending.resolve(result as ChunkResult);
  }
}
