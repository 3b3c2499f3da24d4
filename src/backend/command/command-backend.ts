import type { FeedEvent, FollowOptions, LiveFeed, StreamAbout } from "../backend.js";
import { RingBackend, type RingInput, type RingOptions } from "../ring/ring-backend.js";
import type { BackoffOptions } from "./backoff.js";
import type { CommandSpec } from "./command-spec.js";
import { Supervisor } from "./supervisor.js";

/** When a command stream's process first starts. */
export type CommandStart = "boot" | "demand";

export interface CommandBackendOptions {
  command: CommandSpec;
  /** The child's whole environment (command-env.ts). */
  env: Record<string, string>;
  cwd?: string;
  /** The history kept in memory (lines, bytes, longest line). */
  ring: RingOptions;
  /** "boot": with the stream's live feed (server start); "demand": when wanted() is first called. */
  start: CommandStart;
  backoff: BackoffOptions;
  /** After SIGTERM, how long the process has before SIGKILL. */
  stopGraceMs: number;
}

/**
 * A stream of one command's output: a single process for the stream however many clients follow it, its stdout
 * and stderr lines (marked `channel: "stderr"`) kept in a ring in arrival order, restarted with backoff when it
 * exits. Each exit is an `exited` feed event (code or signal, when it restarts) after the run's last line; a
 * command that cannot be started is an `error` event. Stopped with the feed (server shutdown): no orphan.
 */
export class CommandBackend extends RingBackend {
  private readonly supervisor: Supervisor;
  private readonly feeds = new Set<(event: FeedEvent) => void>();
  private stdout: RingInput | null = null;
  private stderr: RingInput | null = null;
  /** The live feed's pacing (Hub.pace): output is read no faster than the fastest live client takes it. */
  private pace: FollowOptions["pace"] | undefined;

  constructor(
    name: string,
    private readonly command: CommandBackendOptions,
  ) {
    super(name, command.ring);
    this.supervisor = new Supervisor(
      {
        argv: command.command.argv,
        env: command.env,
        ...(command.cwd === undefined ? {} : { cwd: command.cwd }),
        backoff: command.backoff,
        stopGraceMs: command.stopGraceMs,
      },
      {
        started: () => {
          // Each run's output is split afresh: a partial line of the last run was flushed at its exit.
          this.stdout = this.openInput();
          this.stderr = this.openInput("stderr");
        },
        output: (chunk, channel) => {
          (channel === "stderr" ? this.stderr : this.stdout)?.write(chunk);
          return this.pace?.() ?? null;
        },
        exited: (code, signal, restartInMs) => {
          this.endRun();
          this.announce({ type: "exited", code, signal, cursor: this.endCursor(), restartInMs });
        },
        failed: (error, restartInMs) => {
          const retry = restartInMs === null ? "" : ` (trying again in ${restartInMs} ms)`;
          this.announce({ type: "error", error: new Error(`${error.message}${retry}`) });
        },
      },
    );
  }

  /** The running process's id (null between runs or before the first). */
  get pid(): number | null {
    return this.supervisor.pid;
  }

  /** Processes started so far (restarts included). */
  get starts(): number {
    return this.supervisor.starts;
  }

  get startMode(): CommandStart {
    return this.command.start;
  }

  /** For hello: a command (the dashboard groups it so), running or not. */
  about(): StreamAbout {
    if (this.supervisor.pid !== null) return { kind: "command", state: "running" };
    return { kind: "command", state: this.supervisor.starts === 0 ? "not started" : "exited" };
  }

  /** Somebody wants the stream's lines: starts the process if it is not running yet ("demand"). */
  wanted(): void {
    this.supervisor.start();
  }

  override async follow(options: FollowOptions, listener: (event: FeedEvent) => void): Promise<LiveFeed> {
    const feed = await super.follow(options, listener);
    this.feeds.add(listener);
    this.pace ??= options.pace;
    if (this.command.start === "boot") this.supervisor.start();
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

  /** Stops the process (SIGTERM, then SIGKILL) and restarts no more. */
  async stop(): Promise<void> {
    await this.supervisor.stop();
  }

  private endRun(): void {
    this.stdout?.end();
    this.stderr?.end();
    this.stdout = null;
    this.stderr = null;
  }

  private announce(event: FeedEvent): void {
    for (const listener of this.feeds) listener(event);
  }
}
