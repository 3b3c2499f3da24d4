import { type FSWatcher, watch } from "node:fs";
import { access, readdir } from "node:fs/promises";
import { join } from "node:path";
import type { StreamAbout, StreamSource } from "../backend.js";
import type { BackoffOptions } from "../command/backoff.js";
import type { RingOptions } from "../ring/ring-backend.js";
import { CONTAINER_ID, type ContainerFiles, type ContainerState, readContainerDir } from "./container-dir.js";
import { EngineApi, EngineApiError, type EngineEvent } from "./engine-api.js";
import { EngineLogsBackend } from "./engine-logs.js";
import { JsonLogBackend } from "./json-log-backend.js";

export interface DockerContainersOptions {
  /** Docker's root directory (`/var/lib/docker`): containers are its `containers/<id>/`. */
  root: string;
  /** The Engine API socket (`unix:///var/run/docker.sock`), or null to read the files only. */
  host: string | null;
  /** The host label of the container streams (this machine's). */
  hostLabel?: string;
  /** Names other streams of the server use already: a container with one of them gets its short id appended. */
  taken?: Iterable<string>;
  /** How often the containers directory is read again besides fs.watch (ms). Default 2000. */
  rescanMs?: number;
  /** How long to wait before trying the Engine API again after it failed (ms). Default 5000. */
  retryMs?: number;
  pollIntervalMs?: number;
  watch?: boolean;
  maxLineBytes?: number;
  /** The ring of a container read through the Engine API (another log driver). Default 10,000 lines, 16 MiB. */
  engineRing?: { maxLines: number; maxBytes: number };
  /** Its reconnection waits. Default 1 s doubling to 30 s, back to 1 s after a 10 s connection. */
  engineBackoff?: BackoffOptions;
  /** Something the operator should know (a container not served, the Engine API unreachable): the host says it. */
  onNote?: (message: string) => void;
}

/** Container stream names follow the server's rule for stream names. */
const STREAM_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const SHORT_ID = 12;
const DEFAULT_ENGINE_RING = { maxLines: 10_000, maxBytes: 16 * 1024 * 1024 };
const DEFAULT_ENGINE_BACKOFF: BackoffOptions = { initialMs: 1000, maxMs: 30_000, resetAfterMs: 10_000 };

interface Container {
  id: string;
  name: string;
  state: ContainerState | undefined;
}

/**
 * The streams of `serve --docker`: one per container whose logs Docker writes with the json-file driver, read
 * from `<root>/containers/<id>/<id>-json.log` (json-log-backend.ts). The containers directory is watched
 * (fs.watch) and read again every `rescanMs`, so containers created later become streams; a removed container's
 * stream stays while its files do (Docker deletes them with the container: then the stream is `missing`).
 *
 * A stream is named after the container (config.v2.json's Name without "/"), else its short id; a name already
 * taken gets "-<short id>" appended. Names are fixed once given, so a renamed container keeps its stream.
 *
 * With the Engine API reachable, its container list and events (start, die, destroy) keep each stream's state
 * up to date; without it the state comes from config.v2.json, read at each scan, and every container stream's
 * `about` says the API is not reachable.
 */
export class DockerContainers implements StreamSource {
  private readonly containersDir: string;
  private readonly known = new Map<string, Container>();
  /** Containers seen that are not served (another log driver): said once each. */
  private readonly skipped = new Set<string>();
  private readonly names: Set<string>;
  private readonly engine: EngineApi | null;
  private engineProblem: string | null = null;
  private add: Parameters<StreamSource["start"]>[0] | null = null;
  private watcher: FSWatcher | null = null;
  /**
   * Container directories seen before Docker finished writing them, each watched until it is configured: the
   * files land inside the directory, which the watch on containers/ (not recursive) does not see.
   */
  private readonly unconfigured = new Map<string, FSWatcher>();
  private timer: NodeJS.Timeout | null = null;
  private scanning: Promise<void> | null = null;
  private rescan = false;
  private readonly events = new AbortController();
  private closed = false;
  private dirProblem: string | null = null;

  constructor(private readonly options: DockerContainersOptions) {
    this.containersDir = join(options.root, "containers");
    this.names = new Set(options.taken ?? []);
    this.engine = options.host === null ? null : new EngineApi(options.host);
  }

  async start(add: Parameters<StreamSource["start"]>[0]): Promise<void> {
    this.add = add;
    await this.scan();
    await this.refreshFromEngine();
    this.watchDir();
    this.schedule();
    if (this.engine !== null) void this.followEvents(this.engine);
  }

  async close(): Promise<void> {
    this.closed = true;
    this.events.abort();
    this.watcher?.close();
    for (const w of this.unconfigured.values()) w.close();
    this.unconfigured.clear();
    if (this.timer !== null) clearTimeout(this.timer);
    await this.scanning;
  }

  /** The state of a container stream (for tests and `about`). */
  stateOf(name: string): ContainerState | undefined {
    for (const c of this.known.values()) if (c.name === name) return c.state;
    return undefined;
  }

  /** Reads the containers directory once (coalesced: a scan asked for during one runs right after it). */
  scan(): Promise<void> {
    if (this.scanning !== null) {
      this.rescan = true;
      return this.scanning;
    }
    this.scanning = (async () => {
      do {
        this.rescan = false;
        await this.scanOnce();
      } while (this.rescan && !this.closed);
      this.scanning = null;
    })();
    return this.scanning;
  }

  private async scanOnce(): Promise<void> {
    let ids: string[];
    try {
      ids = (await readdir(this.containersDir)).filter((id) => CONTAINER_ID.test(id)).sort();
      if (this.dirProblem !== null) this.note(`${this.containersDir} is readable again`);
      this.dirProblem = null;
      for (const [id, w] of this.unconfigured)
        if (!ids.includes(id)) {
          w.close();
          this.unconfigured.delete(id);
        }
    } catch (error) {
      const problem = `cannot read ${this.containersDir} (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}); containers appear when it can be read`;
      if (problem !== this.dirProblem) this.note(problem);
      this.dirProblem = problem;
      return;
    }
    for (const id of ids) {
      if (this.closed) return;
      const known = this.known.get(id);
      const files = await readContainerDir(this.containersDir, id);
      if (known !== undefined) {
        // Without the Engine API, the daemon's own file says whether the container runs.
        if (this.engine === null || this.engineProblem !== null) known.state = files.state ?? known.state;
        continue;
      }
      if (this.skipped.has(id)) continue;
      await this.offer(files);
    }
  }

  private async offer(files: ContainerFiles): Promise<void> {
    const short = files.id.slice(0, SHORT_ID);
    const label = `${files.name ?? short} (${short})`;
    if (files.logDriver !== undefined && files.logDriver !== "json-file") {
      if (this.engine !== null && this.engineProblem === null) {
        if (await this.offerEngineLogs(this.engine, files, short, files.logDriver)) return;
      }
      this.skipped.add(files.id);
      this.note(
        `container ${label} logs with the "${files.logDriver}" driver: not served (only json-file logs are read without the Engine API)`,
      );
      return;
    }
    // Not configured yet (hostconfig.json is written after the directory): wait for a later scan.
    if (files.logDriver === undefined && !(await exists(files.logPath))) {
      this.watchUnconfigured(files.id);
      return;
    }
    this.unconfigured.get(files.id)?.close();
    this.unconfigured.delete(files.id);
    const name = this.nameFor(files.name, short);
    const container: Container = { id: files.id, name, state: files.state };
    this.known.set(files.id, container);
    const backend = new JsonLogBackend(name, files.logPath, {
      ...(this.options.pollIntervalMs === undefined ? {} : { pollIntervalMs: this.options.pollIntervalMs }),
      ...(this.options.watch === undefined ? {} : { watch: this.options.watch }),
      ...(this.options.maxLineBytes === undefined ? {} : { maxLineBytes: this.options.maxLineBytes }),
      about: () => this.about(container),
    });
    this.add?.(name, backend, this.options.hostLabel);
  }

  /** A container on another log driver: its log stream through the Engine API (engine-logs.ts). */
  private async offerEngineLogs(
    engine: EngineApi,
    files: ContainerFiles,
    short: string,
    driver: string,
  ): Promise<boolean> {
    let tty = false;
    try {
      tty = (await engine.inspect(files.id)).tty;
    } catch (error) {
      // The daemon answered (the container is gone, say): a later scan offers it again. Not reachable: skipped.
      if (error instanceof EngineApiError && error.status !== undefined) return true;
      this.engineFailed(engine, error);
      return false;
    }
    if (this.closed || this.known.has(files.id)) return true;
    const name = this.nameFor(files.name, short);
    const container: Container = { id: files.id, name, state: files.state };
    this.known.set(files.id, container);
    const ring: RingOptions = { ...(this.options.engineRing ?? DEFAULT_ENGINE_RING) };
    if (this.options.maxLineBytes !== undefined) ring.maxLineBytes = this.options.maxLineBytes;
    const backend = new EngineLogsBackend(name, {
      engine,
      id: files.id,
      driver,
      tty,
      ring,
      backoff: this.options.engineBackoff ?? DEFAULT_ENGINE_BACKOFF,
      about: () => this.about(container),
    });
    this.add?.(name, backend, this.options.hostLabel);
    return true;
  }

  private about(container: Container): StreamAbout {
    const about: StreamAbout = { kind: "container" };
    if (container.state !== undefined) about.state = container.state;
    if (this.engineProblem !== null) about.note = this.engineProblem;
    return about;
  }

  private nameFor(name: string | undefined, short: string): string {
    let chosen = name !== undefined && STREAM_NAME.test(name) ? name : short;
    if (this.names.has(chosen)) chosen = `${chosen.slice(0, 64 - SHORT_ID - 1)}-${short}`;
    for (let n = 2; this.names.has(chosen); n++) chosen = `${short}-${n}`;
    this.names.add(chosen);
    return chosen;
  }

  /** Names and states from the Engine API's container list; a failure is noted once and kept for `about`. */
  private async refreshFromEngine(): Promise<void> {
    const engine = this.engine;
    if (engine === null) return;
    try {
      const list = await engine.containers();
      for (const c of list) {
        const known = this.known.get(c.Id);
        if (known !== undefined) known.state = engineState(c.State);
      }
      if (this.engineProblem !== null) {
        this.note(`Docker Engine API at ${engine.host} answers again`);
        // Containers on other log drivers skipped meanwhile can now be read through it.
        this.skipped.clear();
      }
      this.engineProblem = null;
    } catch (error) {
      this.engineFailed(engine, error);
    }
  }

  private engineFailed(engine: EngineApi, error: unknown): void {
    const code = (error as NodeJS.ErrnoException).code;
    const problem = `the Docker Engine API at ${engine.host} is not reachable (${code ?? (error as Error).message}): container states come from the containers' files`;
    if (problem !== this.engineProblem) this.note(problem);
    this.engineProblem = problem;
  }

  /** Container events while the API answers; reconnects after `retryMs` (and reads the list again then). */
  private async followEvents(engine: EngineApi): Promise<void> {
    while (!this.closed) {
      try {
        await engine.events((event) => this.onEvent(event), this.events.signal);
      } catch (error) {
        if (!this.closed) this.engineFailed(engine, error);
      }
      if (this.closed) return;
      await new Promise((resolve) => setTimeout(resolve, this.options.retryMs ?? 5000).unref());
      await this.refreshFromEngine();
    }
  }

  private onEvent(event: EngineEvent): void {
    if (event.Type !== "container") return;
    const known = this.known.get(event.Actor.ID);
    if (known === undefined) {
      // A container this server has not seen: its directory may be there by now.
      void this.scan();
      return;
    }
    if (event.Action === "start") known.state = "running";
    else if (event.Action === "die") known.state = "exited";
    else if (event.Action === "destroy") known.state = "removed";
  }

  private watchDir(): void {
    if (this.options.watch === false) return;
    try {
      this.watcher = watch(this.containersDir, () => void this.scan());
      this.watcher.on("error", () => {
        this.watcher?.close();
        this.watcher = null;
      });
    } catch {
      // No directory yet, or no inotify: the periodic scan finds containers.
      this.watcher = null;
    }
  }

  private watchUnconfigured(id: string): void {
    if (this.options.watch === false || this.closed || this.unconfigured.has(id)) return;
    try {
      const w = watch(join(this.containersDir, id), () => void this.scan());
      w.on("error", () => {
        w.close();
        this.unconfigured.delete(id);
      });
      this.unconfigured.set(id, w);
    } catch {
      return; // gone already, or no inotify: the periodic scan
    }
    // A file written between this scan's read and the watch: read again now that the watch is armed.
    void this.scan();
  }

  private schedule(): void {
    if (this.closed) return;
    this.timer = setTimeout(() => {
      if (this.watcher === null) this.watchDir();
      void this.scan().then(() => this.schedule());
    }, this.options.rescanMs ?? 2000);
    this.timer.unref();
  }

  private note(message: string): void {
    this.options.onNote?.(message);
  }
}

/** The Engine API's State in the words of container-dir.ts. */
function engineState(state: string): ContainerState | undefined {
  switch (state) {
    case "running":
    case "paused":
    case "restarting":
    case "exited":
    case "created":
      return state;
    case "dead":
      return "exited";
    case "removing":
      return "removed";
    default:
      return undefined;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await access(path);
    return true;
  } catch {
    return false;
  }
}
