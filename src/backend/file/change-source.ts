import { type FSWatcher, watch } from "node:fs";
import { stat } from "node:fs/promises";
import { basename, dirname } from "node:path";

/**
 * "Something may have happened to this path": wakes its owner, which then looks for itself.
 *
 * fs.watch (inotify) on the parent directory, filtered by the file's name, catches create, rename, delete and
 * modify with millisecond latency; a stat poll at a fixed interval backs it up where events are missed (NFS, bind
 * mounts, a directory that does not exist yet or was replaced). Wake-ups never overlap: a wake-up during a run
 * makes exactly one more run after it, however many arrive.
 */
export interface ChangeSourceOptions {
  /** Use fs.watch as well as polling (default true). */
  watch?: boolean;
  /** Poll interval in ms (default 1000). */
  pollIntervalMs?: number;
  /** Called when `run` rejects (it should not: the owner reports its own errors). */
  onError?: (error: unknown) => void;
}

export class ChangeSource {
  private readonly dir: string;
  private readonly name: string;
  private readonly useWatch: boolean;
  private readonly pollIntervalMs: number;
  private watcher: FSWatcher | null = null;
  private watchedDirIno: number | null = null;
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private again = false;
  private closed = false;
  /**
   * Wake on events for any name in the directory, not only ours: set while the owner still reads a file that was
   * renamed away (its events then carry the new name, which we cannot know).
   */
  anyNameInDirectory = false;

  constructor(
    path: string,
    private readonly run: () => Promise<void>,
    private readonly options: ChangeSourceOptions = {},
  ) {
    this.dir = dirname(path);
    this.name = basename(path);
    this.useWatch = options.watch ?? true;
    this.pollIntervalMs = options.pollIntervalMs ?? 1000;
    if (!(this.pollIntervalMs > 0))
      throw new RangeError(`pollIntervalMs must be > 0, got ${this.pollIntervalMs}`);
  }

  /** Starts watching and polling (no run yet: call wake() for one). */
  start(): void {
    if (this.closed || this.timer) return;
    this.timer = setInterval(() => this.tick(), this.pollIntervalMs);
    if (this.useWatch) this.openWatcher();
  }

  /** Requests a run: now if idle, else once more after the current one. */
  wake(): void {
    if (this.closed) return;
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.loop();
  }

  /** Resolves when no run is in progress or pending. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Whether fs.watch currently covers the directory (false: polling only). */
  get watching(): boolean {
    return this.watcher !== null;
  }

  /** Stops watching and polling, then waits for a run in progress. Idempotent. */
  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.closeWatcher();
    await this.idle();
  }

  private async loop(): Promise<void> {
    try {
      do {
        this.again = false;
        try {
          await this.run();
        } catch (error) {
          this.options.onError?.(error);
        }
      } while (this.again && !this.closed);
    } finally {
      this.running = null;
    }
  }

  private tick(): void {
    this.wake();
    if (this.useWatch) void this.checkWatcher();
  }

  /** Re-establishes the watch when the directory appeared, vanished or was replaced since it was set. */
  private async checkWatcher(): Promise<void> {
    let ino: number | null = null;
    try {
      ino = (await stat(this.dir)).ino;
    } catch {
      ino = null;
    }
    if (this.closed) return;
    if (this.watcher && ino === this.watchedDirIno) return;
    this.closeWatcher();
    if (ino !== null) this.openWatcher();
  }

  private openWatcher(): void {
    if (this.watcher || this.closed) return;
    let watcher: FSWatcher;
    try {
      watcher = watch(this.dir, { persistent: true }, (_event, filename) => {
        if (filename === null || filename === this.name || this.anyNameInDirectory) this.wake();
      });
    } catch {
      // The directory does not exist (yet) or cannot be watched: the poll retries.
      return;
    }
    watcher.on("error", () => {
      if (this.watcher === watcher) this.closeWatcher();
      this.wake();
    });
    this.watcher = watcher;
    void stat(this.dir).then(
      (s) => {
        if (this.watcher === watcher) this.watchedDirIno = s.ino;
      },
      () => {
        if (this.watcher === watcher) this.closeWatcher();
      },
    );
    // Anything that happened before the watch existed is only seen by looking.
    this.wake();
  }

  private closeWatcher(): void {
    this.watcher?.close();
    this.watcher = null;
    this.watchedDirIno = null;
  }
}
