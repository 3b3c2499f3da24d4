import type { FeedEvent, FollowOptions, LiveFeed, StreamAbout } from "../backend.js";
import { Backoff, type BackoffOptions } from "../command/backoff.js";
import { RingBackend, type RingInput, type RingOptions } from "../ring/ring-backend.js";
import { type EngineApi, EngineApiError } from "./engine-api.js";
import { type DockerTime, StampedLines, sinceParam } from "./engine-logs-stamps.js";
import { LogFrameDecoder } from "./log-frames.js";

export interface EngineLogsOptions {
  engine: EngineApi;
  /** The container's full id. */
  id: string;
  /** Its log driver (HostConfig.LogConfig.Type), for the note. */
  driver: string;
  /** Config.Tty: the stream is raw bytes (one channel), not frames. */
  tty: boolean;
  ring: RingOptions;
  /** Waits before reconnecting after the stream ended or failed. */
  backoff: BackoffOptions;
  /** The container's own facts (kind, state): the note is added here. */
  about: () => StreamAbout;
  now?: () => number;
}

/** The daemon's own error message (stream type 3) is kept up to this many bytes, for the note. */
const MAX_SYSTEM_BYTES = 1024;

/**
 * A container on a log driver other than json-file (`local`, `journald`), read as `docker logs -f` does, through
 * the Engine API: `GET /containers/{id}/logs?follow=1&stdout=1&stderr=1&timestamps=1&tail=N`, N the ring's
 * line count. Its lines live in a ring like a command stream's (live only: the daemon's history is what the first
 * connection's tail brings). Frames (log-frames.ts, none for a TTY container) go to one StampedLines per channel,
 * which strips the time into `Line.time`; stderr lines are marked. When the stream ends (the container stopped or
 * restarted) or fails, it reconnects with backoff from `since=<last line's time>`, dropping the lines at or before
 * that time which the daemon sends again. Exact to the nanosecond of Docker's stamps: lines that share the last
 * one's nanosecond but had not arrived before the cut are dropped too (rare, since the daemon stamps each line
 * apart).
 */
export class EngineLogsBackend extends RingBackend {
  private readonly backoff: Backoff;
  private readonly now: () => number;
  private readonly feeds = new Set<(event: FeedEvent) => void>();
  /** The time of each line on its way to the ring, per channel, in order (see stamp()). */
  private readonly times = {
    stdout: [] as (DockerTime | undefined)[],
    stderr: [] as (DockerTime | undefined)[],
  };
  private last: bigint | null = null;
  private problem: string | null = null;
  private running: Promise<void> | null = null;
  private abort: AbortController | null = null;
  private stopped = false;
  /** Connections made so far (for tests and about). */
  connections = 0;

  constructor(
    name: string,
    private readonly logs: EngineLogsOptions,
  ) {
    super(name, logs.ring);
    this.backoff = new Backoff(logs.backoff);
    this.now = logs.now ?? Date.now;
    // The first listener of the ring, so each line has its time before any client sees it (a ring tells its
    // listeners in the order they came, synchronously, as lines are kept).
    void super.follow({ tail: 0 }, (event) => {
      if (event.type === "lines") for (const line of event.lines) this.stamp(line);
    });
  }

  about(): StreamAbout {
    const about = this.logs.about();
    about.note =
      this.problem ??
      `read through the Engine API (log driver ${this.logs.driver}): history is the last ${this.logs.ring.maxLines} lines`;
    return about;
  }

  override async follow(options: FollowOptions, listener: (event: FeedEvent) => void): Promise<LiveFeed> {
    const feed = await super.follow(options, listener);
    this.feeds.add(listener);
    if (this.running === null) {
      this.stopped = false;
      this.running = this.loop();
    }
    return {
      get cursor() {
        return feed.cursor;
      },
      close: async () => {
        this.feeds.delete(listener);
        await feed.close();
        if (this.feeds.size === 0) await this.stop();
      },
    };
  }

  /** Ends the stream and reconnects no more. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.abort?.abort();
    await this.running;
    this.running = null;
  }

  private async loop(): Promise<void> {
    while (!this.stopped) {
      const began = this.now();
      this.abort = new AbortController();
      try {
        await this.connect(this.abort.signal);
      } catch (error) {
        if (this.stopped) break;
        const status = error instanceof EngineApiError ? error.status : undefined;
        const problem =
          status === 404
            ? `the Engine API has no such container any more (${(error as Error).message})`
            : status !== undefined
              ? `the Engine API refuses this container's logs (log driver ${this.logs.driver}): ${(error as Error).message}`
              : `the Engine API log stream failed: ${(error as Error).message}`;
        // Said to the clients once, not at each retry.
        if (problem !== this.problem) this.announce({ type: "error", error: new Error(problem) });
        this.problem = problem;
      }
      if (this.stopped) break;
      const wait = this.backoff.next(this.now() - began);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, wait);
        this.abort?.signal.addEventListener("abort", () => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** One connection: its lines reach the ring; partial lines are kept (unterminated) when it ends. */
  private async connect(signal: AbortSignal): Promise<void> {
    const after = this.last;
    const channel = (input: RingInput, times: (DockerTime | undefined)[]) =>
      new StampedLines(input, {
        after,
        onLine: (time) => {
          times.push(time);
          if (time !== undefined && (this.last === null || time.ns > this.last)) this.last = time.ns;
        },
      });
    const stdout = channel(this.openInput(), this.times.stdout);
    const stderr = channel(this.openInput("stderr"), this.times.stderr);
    let system = "";
    const frames = new LogFrameDecoder((kind, bytes) => {
      if (kind === "stdout") stdout.write(bytes);
      else if (kind === "stderr") stderr.write(bytes);
      else if (system.length < MAX_SYSTEM_BYTES) system += bytes.toString("utf8", 0, MAX_SYSTEM_BYTES);
    });
    this.connections++;
    const query = { tail: this.logs.ring.maxLines, ...(after === null ? {} : { since: sinceParam(after) }) };
    try {
      await this.logs.engine.logs(
        this.logs.id,
        query,
        (chunk) => {
          this.problem = null; // the stream flows again
          if (this.logs.tty) stdout.write(chunk);
          else frames.push(chunk);
        },
        signal,
      );
      if (system !== "") this.problem = `the Docker daemon said: ${system.trim()}`;
    } finally {
      stdout.end();
      stderr.end();
    }
  }

  private stamp(line: { channel?: "stderr"; time?: string }): void {
    const time = (line.channel === "stderr" ? this.times.stderr : this.times.stdout).shift();
    if (time !== undefined) line.time = time.iso;
  }

  private announce(event: FeedEvent): void {
    for (const listener of this.feeds) listener(event);
  }
}
