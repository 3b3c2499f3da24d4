import type { Line } from "../core/line.js";
import type { FollowerOptions } from "./file/follower.js";
import type { FollowerEvent } from "./file/follower-events.js";

/**
 * One stream's storage, as the server sees it. The file implementation follows a log file; a Redis Streams
 * implementation can come later. Cursors are opaque strings made by the backend; `positionOf` orders them within
 * the current source so the hub can tell which lines a cursor already covers.
 */
export interface StreamBackend {
  readonly name: string;
  /**
   * Starts the stream's single live feed. The last `tail` lines arrive as the first "lines" event, then new
   * lines and events as they happen. Called once per stream by its hub.
   */
  follow(
    options: { tail: number; pace?: FollowerOptions["pace"] },
    listener: (event: FollowerEvent) => void,
  ): Promise<LiveFeed>;
  /** Lines after `cursor` (null: from the start of the source), oldest first. */
  readAfter(cursor: string | null, limit: number): Promise<ReadAfterResult>;
  /** Lines before `cursor`, oldest first; `cursor` in the result names the position before the first line. */
  readBefore(cursor: string, limit: number): Promise<ReadBeforeResult>;
  /** The last `n` lines and the cursor after them. */
  tail(n: number): Promise<ReadAfterResult>;
  /** The first lines at or after a time (ms since epoch), found without reading the whole source. */
  seek(atMs: number, limit: number): Promise<ReadAfterResult>;
  /** Whole-source search, bounded by `limit` matches and `timeoutMs`. */
  search(query: SearchQuery): Promise<SearchOutcome>;
  /** Whether `cursor` names a position in the current source ("same"), an older one ("changed") or none ("gone"). */
  locate(cursor: string): Promise<"same" | "changed" | "gone">;
  /**
   * Whether two cursors name the same source (the same file, not merely the same path), so their positions
   * compare; false when that cannot be told. Throws on a malformed cursor.
   */
  sameSource(a: string, b: string): Promise<boolean>;
  /** Ordering key of a cursor inside its source (a byte offset for files). Throws on a malformed cursor. */
  positionOf(cursor: string): number;
  /** A cursor naming the position just before `line` (paging backwards from a page that starts with it). */
  cursorBefore(line: Line): string;
  /** A cursor naming the very start of the current source, null when it does not exist. */
  startCursor(): Promise<string | null>;
  info(): Promise<SourceInfo>;
  /** The whole source as raw bytes (for the compat `/api/audit` endpoint), null when it does not exist. */
  openRaw(): Promise<NodeJS.ReadableStream | null>;
}

export interface LiveFeed {
  /** Position after the last line emitted, null before the source exists. */
  readonly cursor: string | null;
  close(): Promise<void>;
}

export interface ReadAfterResult {
  lines: Line[];
  /** Position after the last line returned (or the starting position when none). */
  cursor: string;
  /** More lines exist after `cursor` right now. */
  more: boolean;
}

export interface ReadBeforeResult {
  lines: Line[];
  /** Position before the first line returned (or the given cursor when none). */
  cursor: string;
  /** More lines exist before `cursor`. */
  more: boolean;
}

export interface SearchQuery {
  q: string;
  regex: boolean;
  /** Match case exactly. */
  caseSensitive: boolean;
  limit: number;
  timeoutMs: number;
}

export interface SearchOutcome {
  matches: Line[];
  limited: boolean;
  timedOut: boolean;
  scannedBytes: number;
}

export interface SourceInfo {
  exists: boolean;
  size: number;
  mtimeMs: number | null;
}

/** Raised for a search the caller got wrong (bad regex): the HTTP layer answers 400 with the message. */
export class SearchQueryError extends Error {
  override name = "SearchQueryError";
}
