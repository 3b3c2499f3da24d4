import { type ChildProcess, spawn } from "node:child_process";
import { Backoff, type BackoffOptions } from "./backoff.js";

export interface SupervisorOptions {
  argv: readonly string[];
  /** The child's whole environment (see command-env.ts). */
  env: Record<string, string>;
  cwd?: string;
  backoff: BackoffOptions;
  /** After SIGTERM, how long the process group has before SIGKILL (also: how long output may stay open). */
  stopGraceMs: number;
  /** Clock for how long a run lasted (injected in tests). */
  now?: () => number;
}

/** What one run of the process reports, in order: started, output, then exited or failed. Must not throw. */
export interface SupervisorEvents {
  started(pid: number): void;
  /** A promise: stop reading this channel until it resolves (the readers are behind; the pipe holds the rest). */
  output(chunk: Buffer, channel: "stdout" | "stderr"): Promise<void> | null;
  /** All its output has been read; it starts again in `restartInMs` (null: stopped, no restart). */
  exited(code: number | null, signal: NodeJS.Signals | null, restartInMs: number | null): void;
  /** It could not be started (no such program, not executable); tried again in `restartInMs` (null: stopped). */
  failed(error: Error, restartInMs: number | null): void;
}

type State = "idle" | "running" | "waiting" | "stopped";

/**
 * Every command process running, so that a server that exits without stopping them (an uncaught error, a
 * process.exit) still takes them along: their own process groups would otherwise outlive it. SIGKILL of the
 * server itself is the one case left.
 */
const running = new Set<ChildProcess>();
let exitHookSet = false;

function killAllOnExit(child: ChildProcess): void {
  running.add(child);
  if (exitHookSet) return;
  exitHookSet = true;
  process.on("exit", () => {
    for (const c of running) signalGroup(c, "SIGKILL");
  });
}

/**
 * Runs one command and keeps it running: restarted with backoff when it exits, stopped for good by stop(). The
 * process leads a process group of its own, so stop() signals everything it started (a shell's children too) and
 * nothing is left behind; a process that outlives its group leader while holding the output pipes is killed too.
 */
export class Supervisor {
  private state: State = "idle";
  private child: ChildProcess | null = null;
  /** Resolves once the current run's process has exited and its output is read (or given up on). */
  private done: Promise<void> = Promise.resolve();
  private restartTimer: NodeJS.Timeout | null = null;
  private readonly backoff: Backoff;
  private readonly now: () => number;
  private runs = 0;

  constructor(
    private readonly options: SupervisorOptions,
    private readonly events: SupervisorEvents,
  ) {
    this.backoff = new Backoff(options.backoff);
    this.now = options.now ?? Date.now;
  }

  /** Starts the first run (no-op once started or stopped). */
  start(): void {
    if (this.state === "idle") this.spawn();
  }

  get started(): boolean {
    return this.state !== "idle";
  }

  /** The running process's id, null between runs. */
  get pid(): number | null {
    return this.child?.pid ?? null;
  }

  /** How many times a process was started (or tried). */
  get starts(): number {
    return this.runs;
  }

  /** SIGTERM to the process group, SIGKILL after stopGraceMs; resolves once it is gone. Idempotent. */
  async stop(): Promise<void> {
    const running = this.state === "running";
    this.state = "stopped";
    if (this.restartTimer !== null) clearTimeout(this.restartTimer);
    this.restartTimer = null;
    const child = this.child;
    if (running && child !== null) {
      signalGroup(child, "SIGTERM");
      const kill = setTimeout(() => signalGroup(child, "SIGKILL"), this.options.stopGraceMs);
      await this.done;
      clearTimeout(kill);
    }
    await this.done;
  }

  private spawn(): void {
    this.state = "running";
    this.runs++;
    const startedAt = this.now();
    const [program, ...args] = this.options.argv as [string, ...string[]];
    const child = spawn(program, args, {
      env: this.options.env,
      ...(this.options.cwd === undefined ? {} : { cwd: this.options.cwd }),
      stdio: ["ignore", "pipe", "pipe"],
      detached: true,
    });
    this.child = child;
    killAllOnExit(child);
    let spawnError: Error | null = null;
    child.once("error", (error) => {
      spawnError ??= error;
    });
    for (const channel of ["stdout", "stderr"] as const) {
      const stream = child[channel];
      stream?.on("data", (chunk: Buffer) => {
        const wait = this.events.output(chunk, channel);
        if (wait === null) return;
        // Backpressure: the pipe fills and the command blocks on its writes instead of the server buffering.
        stream.pause();
        void wait.then(() => stream.resume());
      });
    }
    if (child.pid !== undefined) this.events.started(child.pid);
    // The leader gone, anything of its group still holding the pipes gets stopGraceMs, then SIGKILL: its output
    // would otherwise keep this run open (and the next from starting) for as long as it lives.
    let orphanTimer: NodeJS.Timeout | null = null;
    child.once("exit", () => {
      orphanTimer = setTimeout(() => {
        signalGroup(child, "SIGKILL");
        orphanTimer = setTimeout(() => {
          child.stdout?.destroy();
          child.stderr?.destroy();
        }, this.options.stopGraceMs);
      }, this.options.stopGraceMs);
    });
    this.done = new Promise<void>((resolve) => {
      child.once("close", (code: number | null, signal: NodeJS.Signals | null) => {
        if (orphanTimer !== null) clearTimeout(orphanTimer);
        running.delete(child);
        this.child = null;
        const restartInMs = this.state === "stopped" ? null : this.backoff.next(this.now() - startedAt);
        if (restartInMs !== null) {
          this.state = "waiting";
          this.restartTimer = setTimeout(() => {
            this.restartTimer = null;
            if (this.state === "waiting") this.spawn();
          }, restartInMs);
        }
        if (spawnError !== null && child.pid === undefined) this.events.failed(spawnError, restartInMs);
        else this.events.exited(code, signal, restartInMs);
        resolve();
      });
    });
  }
}

/** Signals the child's whole process group (it leads one: spawned detached); a group already gone is fine. */
function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
  if (child.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ESRCH") throw error;
  }
}
