import type { StaleReason } from "../core/cursor.js";
import type { Line } from "../core/line.js";

/**
 * One stream's storage, as the server sees it: a live feed, history reads and the answers about cursors that only
 * the backend can give. Cursors are opaque to the server and clients: a backend makes, checks, orders and
 * resumes from its own (files: backend/file/; a bounded in-memory ring: backend/ring/).
 */
export interface StreamBackend {
  readonly name: string;
  /** What clients may assume of this stream's cursors (sent in `hello`). */
  readonly cursors: CursorScheme;
  /**
   * Starts the stream's single live feed. The last `tail` lines arrive as the first "lines" event, then new
   * lines and events as they happen. Called once per stream by its hub.
   */
  follow(options: FollowOptions, listener: (event: FeedEvent) => void): Promise<LiveFeed>;
  /**
   * Where delivery after `cursor` resumes, decided once, given `followed` (the live feed's cursor, null before
   * it has a source). Throws CursorError for a cursor this backend can never resume from (malformed, not at a
   * line boundary).
   */
  resumeFrom(cursor: string, followed: string | null): Promise<ResumePlan>;
  /** Throws CursorError when `cursor` is not one of this backend's (checked before any I/O). */
  check(cursor: string): void;
  /**
   * Orders two cursors of the same source (the caller knows they are: resumeFrom said "continue" on the feed's
   * current source): negative when `a` is before `b`, 0 at the same position (whatever their sequence numbers).
   */
  compare(a: string, b: string): number;
  /** Whether `next` directly follows `prev` in one source, so one lines frame can carry both. */
  continues(prev: Line, next: Line): boolean;
  /** A cursor naming the position just before `line` (paging backwards from a page that starts with it). */
  cursorBefore(line: Line): string;
  /**
   * Lines after `cursor` (null: from the start of the source), oldest first, at most `limit` lines and, when
   * given, `maxBytes` source bytes (at least one line when one exists). Throws StaleCursorError when the source
   * no longer holds that position.
   */
  readAfter(cursor: string | null, limit: number, maxBytes?: number): Promise<ReadAfterResult>;
  /** Lines before `cursor`, oldest first; `cursor` in the result names the position before the first line. */
  readBefore(cursor: string, limit: number): Promise<ReadBeforeResult>;
  /** The last `n` lines and the cursor after them. */
  tail(n: number): Promise<ReadAfterResult>;
  /** The cursor before the last `n` lines (read from it to get them), null when the source does not exist. */
  tailCursor(n: number): Promise<string | null>;
  /** The first lines at or after a time (ms since epoch), found without reading the whole source. */
  seek(atMs: number, limit: number): Promise<ReadAfterResult>;
  /** Whole-source search, bounded by `limit` matches and `timeoutMs`. */
  search(query: SearchQuery): Promise<SearchOutcome>;
  /** Size and age of the source; `unreadBytes` is how far the source is ahead of `followed`. */
  info(followed: string | null): Promise<SourceInfo>;
  /** The whole source as raw bytes (for the compat `/api/audit` endpoint), null when it does not exist. */
  openRaw(): Promise<NodeJS.ReadableStream | null>;
  /**
   * The exact source bytes of each line, `start` to `end` (terminator included), for the sealer when a line's
   * text is not its bytes (invalid UTF-8 shown as U+FFFD, a cut long line); null for a line whose bytes the
   * backend no longer has (its file was replaced or rotated away, a ring never held them). Optional: a backend
   * without it cannot have such lines sealed.
   */
  exactBytes?(lines: readonly Line[]): Promise<(Buffer | null)[]>;
  /**
   * The source's name in integrity checkpoints (`livetrail-file`), for a backend that is not a file: 1-256
   * printable ASCII characters without spaces, e.g. `ring:<run id>`, `redis:<stream key>`. Sealed streams whose
   * cursors are not durable (a ring) start a new chain with each run.
   */
  readonly sealIdentity?: string;
  /**
   * What the stream's source is beyond its lines, for `hello` (a container: its kind, state and a note such as
   * "the Engine API is not reachable"). Optional: files and rings have nothing to add.
   */
  about?(): StreamAbout;
}

/** A source's kind, state and a note for people (`hello`'s `streams[].source`). */
export interface StreamAbout {
  /** What groups the stream in the dashboard: "container". */
  kind: string;
  /** The source's state in its own words ("running", "exited"), when it has one. */
  state?: string;
  /** Something the user should know about the source, in a sentence. */
  note?: string;
}

/**
 * A backend whose source takes lines appended through the server (`POST /api/streams/:name/entries`) itself: a
 * Redis stream. A file stream is appended to by path (append/appender.ts) and does not need this.
 */
export interface AppendableBackend extends StreamBackend {
  /** Appends whole lines (without newlines), all or none. */
  appendLines(texts: readonly string[]): Promise<{ entries: number; bytes: number }>;
}

export function isAppendable(backend: StreamBackend): backend is AppendableBackend {
  return typeof (backend as Partial<AppendableBackend>).appendLines === "function";
}

/**
 * Streams that become known while the server runs (Redis streams as agents create them): `add` hands the server
 * each new one, which it serves like those it was started with.
 */
export interface StreamSource {
  /** `host`: the host label the stream's lines come from, when the source knows it (shown in `hello`). */
  start(add: (name: string, backend: StreamBackend, host?: string) => void): Promise<void>;
  close(): Promise<void>;
}

export interface CursorScheme {
  /**
   * True when cursors stay valid across a server restart (files: they name the file and offset); false when they
   * name one run of the server (a ring filled from stdin).
   */
  durable: boolean;
}

export interface FollowOptions {
  tail: number;
  /**
   * Called between the chunks of a burst: a promise means "wait before reading on" (backpressure from the
   * fastest live client, see Hub.pace).
   */
  pace?: () => Promise<void> | null;
}

/** Why following restarted at a new position that does not compare with the old ones. */
export type ResetReason = "rotated" | "truncated" | "restarted";

/** Why lines could not be delivered: a stale cursor's reason, or a client too slow to keep up. */
export type GapReason = StaleReason | "slow-client";

/** What a live feed reports, in source-neutral words. A backend never logs: the host decides what to print. */
export type FeedEvent =
  /** Complete lines in source order, read in one pass (a batch: send it as one frame). */
  | { type: "lines"; lines: Line[] }
  /** Following goes on at `cursor`, in a source (or generation of it) whose positions do not compare with before. */
  | { type: "reset"; reason: ResetReason; cursor: string }
  /** The source does not exist (yet, or any more); the feed waits for it. */
  | { type: "missing" }
  /** Lines between `from` and `to` cannot be delivered (`skipped` of them, when known); delivery goes on at `to`. */
  | { type: "gap"; reason: StaleReason; from: string | null; to: string; skipped?: number }
  /**
   * The source's process exited (a command stream) after its last line, at `cursor`: its exit `code`, or the
   * `signal` that ended it; it starts again in `restartInMs` (null: it is not restarted, the server is stopping).
   */
  | {
      type: "exited";
      code: number | null;
      signal: NodeJS.Signals | null;
      cursor: string;
      restartInMs: number | null;
    }
  /** A non-fatal I/O problem (permissions, EIO); the feed keeps trying. */
  | { type: "error"; error: Error };

/** The answer of resumeFrom: where delivery after a client's cursor goes on. */
export type ResumePlan =
  /** `from` is on the feed's current source and readable: deliver what follows it. */
  | { kind: "continue"; from: string }
  /**
   * The lines after the cursor are lost (`skipped` of them, when known); deliver from `to`, on the feed's current
   * source. `to` null: the feed's source is no longer readable from the backend (a file renamed away with its
   * successor not yet followed), so only what the hub holds in memory can be delivered.
   */
  | { kind: "gap"; reason: StaleReason; to: string | null; skipped?: number }
  /** There is no source: deliver live lines once one appears. */
  | { kind: "missing" }
  /** The source is ahead of the live feed (a rotation or truncation it has not reported yet): ask again after it. */
  | { kind: "wait" };

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
  /** The first line returned is the first the source holds (nothing older to page back to). */
  atStart: boolean;
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
  /** Aborted when nobody waits for the answer any more: the scan stops at once and the search rejects. */
  signal?: AbortSignal;
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
  /** Bytes the source holds beyond the followed cursor (0 when it cannot be told). */
  unreadBytes: number;
}

/** The stream has no source to read (a file that does not exist yet): HTTP answers 404 `no_file`. */
export class SourceMissingError extends Error {
  override name = "SourceMissingError";
  readonly code = "no_file";
}

/**
 * The stream's storage cannot be reached right now (Redis down): HTTP answers 503 `source_unavailable`. The live
 * feed reconnects by itself; a read may simply be retried.
 */
export class SourceUnavailableError extends Error {
  override name = "SourceUnavailableError";
  readonly code = "source_unavailable";
}

/** Raised for a search the caller got wrong (bad regex): the HTTP layer answers 400 with the message. */
export class SearchQueryError extends Error {
  override name = "SearchQueryError";
  readonly code = "bad_query";
}
