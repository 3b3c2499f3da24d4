import type { Cluster, Redis } from "ioredis";
import { ReplyError } from "ioredis";
import { decodeCursor } from "../backend/file/file-cursor.js";
import { Follower } from "../backend/file/follower.js";
import type { FollowerEvent } from "../backend/file/follower-events.js";
import { encodeGap, encodeLine, REGISTRY_KEY, type StreamTop, streamKey } from "../backend/redis/entry.js";
import { CursorError } from "../core/cursor.js";
import { parseEntry } from "../core/entry.js";
import type { Line } from "../core/line.js";
import { defineAppend } from "./append-script.js";
import { Batcher, type BatchFailure } from "./batcher.js";
import { fileIdentityOf, planFollow } from "./follow-plan.js";
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
  /** Longer lines are shipped cut to this many bytes (default 1 MiB). */
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
const DEFAULT_MAX_LINE_BYTES = 1024 * 1024;
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

/** One run from a resume point until a failure or stop. */
class Session {
  private top: StreamTop | null = null;
  private batcher: Batcher | null = null;
  private follower: Follower | null = null;
  private failure: BatchFailure | null = null;
  private ended: (() => void) | null = null;
  private finishing = false;

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
          pace: () => this.batcher?.pace() ?? null,
        });
        this.follower = follower;
        follower.on((event) => this.onEvent(event));
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

  private onEvent(event: FollowerEvent): void {
    if (this.failure !== null) return;
    const name = this.options.name;
    switch (event.type) {
      case "lines":
        this.ship(event.lines);
        return;
      case "gap":
        this.gap(event.reason, event.to);
        this.options.report({
          type: "file",
          name,
          message: `lines lost (${event.reason}); gap marker written`,
        });
        return;
      case "truncated":
        // Lines written after the last read and before the truncation are gone, and how many cannot be told.
        this.gap("truncated", event.cursor);
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

  private ship(lines: readonly Line[]): void {
    const batcher = this.batcher as Batcher;
    const host = this.options.hostLabel;
    let top = this.top as StreamTop;
    // One read's lines come from one file, whose cursor prefix only changes while its fingerprint grows (its
    // first 256 bytes): compare the ends of the batch before taking one identity for all of it.
    const first = fileIdentityOf((lines[0] as Line).cursor);
    const uniform = first === fileIdentityOf((lines[lines.length - 1] as Line).cursor);
    for (const line of lines) {
      const text = line.text;
      const timeMs = parseEntry(text).tsMs;
      const bytes = Buffer.from(text, "utf8");
      const entry = encodeLine(top, {
        bytes,
        host,
        file: uniform ? first : fileIdentityOf(line.cursor),
        offset: line.end,
        ...(timeMs === undefined ? {} : { timeMs }),
      });
      // The batch travels as JSON (append-script.ts): hand it the string these bytes were encoded from rather than
      // decode them again.
      const at = entry.fields.indexOf(bytes);
      if (at >= 0) entry.fields[at] = text;
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
