import type { Cluster, Redis } from "ioredis";
import { ReplyError } from "ioredis";
import { decodeCursor } from "../backend/file/file-cursor.js";
import { Follower } from "../backend/file/follower.js";
import type { FollowerEvent } from "../backend/file/follower-events.js";
import { readLineBytes } from "../backend/file/line-bytes.js";
import { encodeGap, encodeLine, REGISTRY_KEY, type StreamTop, streamKey } from "../backend/redis/entry.js";
import { CursorError } from "../core/cursor.js";
import { parseEntry } from "../core/entry.js";
import { exactLineData, type Line, lineDataOfSource } from "../core/line.js";
import { defineAppend } from "./append-script.js";
import { Batcher, type BatchFailure } from "./batcher.js";
import { fileIdentityOf, findMoved, planFollow } from "./follow-plan.js";
import { ForeignStreamError, readResumePoint } from "./resume-point.js";
import { Retention, type RetentionPolicy } from "./retention.js";

/**
 * Ships one log file to one Redis stream, exactly once across crashes of the agent and of Redis.
 *
 * The agent runs in sessions. A session reads the stream's newest entry (the resume point), follows the file from
 * the position stored in it and appends each line through the batcher. Any failure ends the session: a
 * connection error, a Redis error, or a batch refused because the stream's top is not where this agent left it
 * (Redis lost acknowledged writes). The follower is closed and what was in flight is dropped (the file is the
 * buffer, so memory stays bounded however long Redis is away); after a backoff the next session reads the resume
 * point again, so whatever did or did not reach Redis, shipping goes on right after the last entry Redis holds.
 */
export interface ShipperOptions {
  name: string;
  path: string;
  client: Redis | Cluster;
  hostLabel: string;
  retention: RetentionPolicy;
  report: (event: ShipEvent) => void;
  /** Entries per append call (default 1000). */
  batchEntries?: number;
  /** Append calls outstanding at once (default 4). */
  maxInFlight?: number;
  /** The follower's fallback stat poll (ms, default 1000). */
  pollIntervalMs?: number;
  /**
   * An entry holds a line's exact bytes up to this many (default 16 MiB); a longer line is shipped as its first
   * bytes (cut at a character boundary) with its real length in the entry's `c` field.
   */
  maxLineBytes?: number;
  /** Backoff between sessions after a failure: first and longest wait (ms); default 100 and 5000. */
  backoffMs?: { first: number; max: number };
  /** Resolves when the connection is up, rejects with why not (each session starts with it). */
  ready?: () => Promise<void>;
}

export type ShipEvent =
  /** A session ended on a connection or Redis error: retrying after a backoff. */
  | { type: "unreachable"; name: string; error: Error }
  /** A session started after a failure: the stream's top was read again. */
  | { type: "resumed"; name: string; position: number; seq: number }
  /** Redis's newest entry is not the last one appended: it lost acknowledged writes; re-shipping from its top. */
  | { type: "behind"; name: string; expected: string; actual: string }
  /** What happened to the file (missing, rotated, truncated, a gap written, an I/O error). */
  | { type: "file"; name: string; message: string }
  /** The stream cannot be shipped (not livetrail's, a bad resume point): this shipper stops. */
  | { type: "fatal"; name: string; error: Error };

const DEFAULT_BATCH_ENTRIES = 1000;
const DEFAULT_MAX_IN_FLIGHT = 4;
/**
 * 16 MiB: far beyond any log line, far below Redis's proto-max-bulk-len (512 MB) and the 1000-entry batch's
 * budget; the agent holds at most this much of one line (and the read buffer) while it is read.
 */
export const DEFAULT_MAX_LINE_BYTES = 16 * 1024 * 1024;
/** Bytes read from the file at once: ~2,500 lines of 100 B, about two batches. */
const READ_CHUNK_BYTES = 256 * 1024;

export class Shipper {
  readonly key: string;
  private readonly retention: Retention;
  private stopping = false;
  private session: Session | null = null;
  private runPromise: Promise<void> | null = null;
  private wake: (() => void) | null = null;

  constructor(private readonly options: ShipperOptions) {
    this.key = streamKey(options.name);
    this.retention = new Retention(options.retention);
    defineAppend(options.client);
  }

  /** Starts shipping; resolves when stop() has flushed, or the stream turned out unshippable (`fatal`). */
  run(): Promise<void> {
    this.runPromise ??= this.loop();
    return this.runPromise;
  }

  /** Stops reading the file, sends what was read and waits (up to `timeoutMs`) for Redis to acknowledge it. */
  async stop(timeoutMs = 5000): Promise<void> {
    this.stopping = true;
    this.wake?.();
    const session = this.session;
    if (session !== null) {
      await Promise.race([session.finish(), new Promise((r) => setTimeout(r, timeoutMs).unref())]);
      session.abandon();
    }
    await this.runPromise;
  }

  /** The connection dropped: end the session now rather than when its calls time out. */
  connectionLost(error: Error): void {
    this.session?.fail({ kind: "error", error });
  }

  private async loop(): Promise<void> {
    const { first, max } = this.options.backoffMs ?? { first: 100, max: 5000 };
    let backoff = first;
    let failedBefore = false;
    while (!this.stopping) {
      const session = new Session(this.options, this.key, this.retention, () => {
        backoff = first;
      });
      this.session = session;
      const outcome = await session.run(failedBefore);
      this.session = null;
      if (this.stopping || outcome.kind === "stopped") return;
      failedBefore = true;
      const { failure } = outcome;
      if (failure.kind === "behind") {
        // Once after Redis lost writes; over and over only if something else writes the stream: then slowly.
        this.options.report({ type: "behind", name: this.options.name, ...failure });
      } else if (isFatal(failure.error)) {
        this.options.report({ type: "fatal", name: this.options.name, error: failure.error });
        return;
      } else {
        this.options.report({ type: "unreachable", name: this.options.name, error: failure.error });
      }
      await this.pause(backoff);
      backoff = Math.min(max, backoff * 2);
    }
  }

  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      this.wake = done;
      function done() {
        clearTimeout(timer);
        resolve();
      }
    });
  }
}

/** A failure the next session would meet again: a stream that is not livetrail's, a cursor that cannot be. */
function isFatal(error: Error): boolean {
  if (error instanceof ForeignStreamError || error instanceof CursorError) return true;
  return error instanceof ReplyError && /^WRONGTYPE/.test(error.message);
}

type Outcome = { kind: "stopped" } | { kind: "failed"; failure: BatchFailure };

/** What an entry's `l` holds for a line: its exact bytes (from its text), or bytes read back and how they are. */
type LineData = Buffer | { bytes: Buffer; cutFrom?: number; decoded?: true };

/** One run from a resume point until a failure or stop. */
class Session {
  private top: StreamTop | null = null;
  private batcher: Batcher | null = null;
  private follower: Follower | null = null;
  private failure: BatchFailure | null = null;
  private ended: (() => void) | null = null;
  private finishing = false;
  /**
   * Entries waiting for a rare line's bytes to be read from the file, as a chain: while it is not null, every
   * event's entries go after it (in the follower's order), and the follower waits before reading on.
   */
  private queue: Promise<void> | null = null;

  constructor(
    private readonly options: ShipperOptions,
    private readonly key: string,
    private readonly retention: Retention,
    private readonly onProgress: () => void,
  ) {}

  async run(afterFailure: boolean): Promise<Outcome> {
    const { client, name, hostLabel } = this.options;
    const over = new Promise<void>((resolve) => {
      this.ended = resolve;
    });
    try {
      await this.options.ready?.();
      const point = await readResumePoint(client, this.key);
      if (this.failure !== null) return { kind: "failed", failure: this.failure };
      // Servers discover streams here; written each session, so a registry lost with Redis's data comes back.
      await client.hset(REGISTRY_KEY, name, hostLabel);
      if (afterFailure)
        this.options.report({ type: "resumed", name, position: point.top.position, seq: point.top.seq });
      this.top = point.top;
      this.retention.restart(point.top.position);
      this.batcher = new Batcher({
        client,
        key: this.key,
        topId: point.topId,
        retention: this.retention,
        maxEntries: this.options.batchEntries ?? DEFAULT_BATCH_ENTRIES,
        maxInFlight: this.options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT,
        onFailure: (failure) => this.fail(failure),
        onAppended: () => this.onProgress(),
      });
      for (const source of await planFollow(this.options.path, point.file)) {
        if (this.failure !== null || this.finishing) break;
        const follower = new Follower(source.path, {
          start: source.start,
          watch: !source.drainOnly,
          pollIntervalMs: this.options.pollIntervalMs ?? 1000,
          maxLineBytes: this.options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES,
          readChunkBytes: READ_CHUNK_BYTES,
          pace: () => this.pace(),
        });
        this.follower = follower;
        follower.on((event) => this.onEvent(event, source.path));
        await follower.start();
        if (source.drainOnly) {
          await follower.close();
          if (this.failure === null && !this.finishing)
            this.options.report({
              type: "file",
              name,
              message: `drained ${source.path} (rotated while stopped)`,
            });
        }
      }
      if (this.failure === null && !this.finishing) await over;
    } catch (error) {
      this.fail({ kind: "error", error: error instanceof Error ? error : new Error(String(error)) });
    }
    await this.follower?.close();
    return this.failure === null ? { kind: "stopped" } : { kind: "failed", failure: this.failure };
  }

  /** Stop reading and send what was read: resolves once Redis has answered all of it. */
  async finish(): Promise<void> {
    this.finishing = true;
    await this.follower?.close();
    while (this.queue !== null) await this.queue;
    await this.batcher?.drain();
    this.ended?.();
  }

  abandon(): void {
    this.batcher?.abandon();
    this.ended?.();
  }

  fail(failure: BatchFailure): void {
    if (this.failure !== null) return;
    this.failure = failure;
    this.batcher?.abandon();
    // The follower stops emitting at once; its close (awaited by run) releases the file.
    void this.follower?.close();
    this.ended?.();
  }

  private pace(): Promise<void> | null {
    if (this.queue === null) return this.batcher?.pace() ?? null;
    return this.queue.then(() => this.batcher?.pace() ?? undefined);
  }

  private onEvent(event: FollowerEvent, path: string): void {
    if (this.failure !== null) return;
    const name = this.options.name;
    switch (event.type) {
      case "lines":
        this.ship(event.lines, path);
        return;
      case "gap":
        this.inOrder(() => this.gap(event.reason, event.to));
        this.options.report({
          type: "file",
          name,
          message: `lines lost (${event.reason}); gap marker written`,
        });
        return;
      case "truncated":
        // Lines written after the last read and before the truncation are gone, and how many cannot be told.
        this.inOrder(() => this.gap("truncated", event.cursor));
        this.options.report({
          type: "file",
          name,
          message: "file truncated; gap marker written, following from the start",
        });
        return;
      case "rotated":
        this.options.report({ type: "file", name, message: "file replaced; following the new file" });
        return;
      case "missing":
        this.options.report({ type: "file", name, message: "no such file; waiting for it to appear" });
        return;
      case "error":
        this.options.report({ type: "file", name, message: event.error.message });
        return;
    }
  }

  /**
   * Each line's entry holds its exact bytes. Almost always its text is them (exactLineData) and the entries are
   * made at once; the rare others (invalid UTF-8, a line cut by the follower) are read back from the file, and
   * these lines and everything after them wait in the queue for that read, so entries keep the file's order.
   */
  private ship(lines: readonly Line[], path: string): void {
    const data: (LineData | null)[] = lines.map(exactLineData);
    if (this.queue === null && !data.includes(null)) {
      this.append(lines, data as LineData[]);
      return;
    }
    // The read starts now, while the file is most likely still the lines' file; the entries wait their turn, and
    // so does whatever comes next (a burst emits several batches in one go).
    const reading = this.fillIn(lines, data, path);
    this.queue ??= Promise.resolve();
    this.inOrder(async () => this.append(lines, await reading));
  }

  /** Runs `step` now, or after the queue when it is not empty. */
  private inOrder(step: () => void | Promise<void>): void {
    if (this.queue === null) {
      step();
      return;
    }
    const tail: Promise<void> = this.queue
      .then(() => (this.failure === null ? step() : undefined))
      .catch((error: unknown) =>
        this.fail({ kind: "error", error: error instanceof Error ? error : new Error(String(error)) }),
      )
      .then(() => {
        if (this.queue === tail) this.queue = null;
      });
    this.queue = tail;
  }

  /** Fills in the lines whose text is not their bytes, from the file; never rejects. */
  private async fillIn(lines: readonly Line[], data: (LineData | null)[], path: string): Promise<LineData[]> {
    const max = this.options.maxLineBytes ?? DEFAULT_MAX_LINE_BYTES;
    const missing: Line[] = [];
    for (const [i, line] of lines.entries()) {
      if (data[i] !== null) continue;
      // A cut line whose head is valid UTF-8: its text is exactly its first bytes.
      if (line.truncatedFrom !== undefined && !line.text.includes("\uFFFD"))
        data[i] = { bytes: Buffer.from(line.text, "utf8"), cutFrom: line.truncatedFrom };
      else missing.push(line);
    }
    const read = await readBack(path, missing, max);
    let k = 0;
    let lost = 0;
    for (const [i, line] of lines.entries()) {
      if (data[i] !== null) continue;
      const bytes = read[k++] ?? null;
      const got = bytes === null ? null : sourceData(line, bytes, max);
      if (got === null) lost++;
      data[i] = got ?? { bytes: Buffer.from(line.text, "utf8"), decoded: true, ...cut(line) };
    }
    if (lost > 0)
      this.options.report({
        type: "file",
        name: this.options.name,
        message: `${lost} line(s) shipped as decoded text (entry field d): the file changed before their bytes were read`,
      });
    return data as LineData[];
  }

  private append(lines: readonly Line[], data: readonly LineData[]): void {
    const batcher = this.batcher as Batcher;
    const host = this.options.hostLabel;
    let top = this.top as StreamTop;
    // One read's lines come from one file, whose cursor prefix only changes while its fingerprint grows (its
    // first 256 bytes): compare the ends of the batch before taking one identity for all of it.
    const first = fileIdentityOf((lines[0] as Line).cursor);
    const uniform = first === fileIdentityOf((lines[lines.length - 1] as Line).cursor);
    for (const [i, line] of lines.entries()) {
      const text = line.text;
      const timeMs = parseEntry(text).tsMs;
      const lineData = data[i] as LineData;
      const exact = Buffer.isBuffer(lineData);
      const bytes = exact ? lineData : lineData.bytes;
      const entry = encodeLine(top, {
        bytes,
        host,
        file: uniform ? first : fileIdentityOf(line.cursor),
        offset: line.end,
        ...(timeMs === undefined ? {} : { timeMs }),
        ...(exact ? {} : lineData),
      });
      // The batch travels as JSON (append-script.ts): hand it the string these bytes were encoded from rather than
      // decode them again (a CRLF line's bytes are its text and the CR).
      if (exact) {
        const at = entry.fields.indexOf(bytes);
        // (only a CRLF line's bytes end in a CR: the follower takes it off the text, except for an unterminated line)
        if (at >= 0)
          entry.fields[at] = !line.unterminated && bytes[bytes.length - 1] === CR ? `${text}\r` : text;
      }
      top = entry.top;
      batcher.push(entry);
    }
    this.top = top;
  }

  /** A gap marker, with where the follower goes on (`to`, a file cursor) as its resume point. */
  private gap(reason: string, to: string): void {
    const entry = encodeGap(this.top as StreamTop, {
      reason,
      host: this.options.hostLabel,
      file: fileIdentityOf(to),
      offset: decodeCursor(to).offset,
    });
    this.top = entry.top;
    (this.batcher as Batcher).push(entry);
  }
}

const CR = 0x0d;

/**
 * A line's data from the bytes read back (`start` onwards, at most the bound), or null when they are not the
 * line's: they must decode to its text, so a file rewritten in place is not taken for it.
 */
function sourceData(line: Line, bytes: Buffer, max: number): LineData | null {
  if (line.truncatedFrom !== undefined) return { bytes: bytes.subarray(0, max), cutFrom: line.truncatedFrom };
  if (bytes.length !== line.end - line.start) return null;
  const data = lineDataOfSource(line, bytes);
  const content = !line.unterminated && data[data.length - 1] === CR ? data.subarray(0, -1) : data;
  return content.toString("utf8") === line.text ? { bytes: data } : null;
}

function cut(line: Line): { cutFrom?: number } {
  return line.truncatedFrom === undefined ? {} : { cutFrom: line.truncatedFrom };
}

/**
 * The source bytes of `lines` (all from one file; a whole line is at most the bound and its CRLF, a cut one is
 * read up to the bound), null for those it no longer has. From the path while it names their file; else from the
 * file it was rotated to (`app.log.1`: the follower drains a renamed file after the path moved on).
 */
async function readBack(path: string, lines: readonly Line[], max: number): Promise<(Buffer | null)[]> {
  const none = () => lines.map(() => null);
  if (lines.length === 0) return [];
  const read = await readLineBytes(path, lines, max + 2).catch(none);
  const rest = lines.filter((_, i) => read[i] === null);
  if (rest.length === 0) return read;
  const moved = await findMoved(path, decodeCursor((rest[0] as Line).cursor)).catch(() => null);
  if (moved === null) return read;
  const again = await readLineBytes(moved, rest, max + 2).catch(none);
  let k = 0;
  return read.map((bytes) => bytes ?? again[k++] ?? null);
}
