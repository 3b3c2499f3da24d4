import { type FSWatcher, watch } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import type { StreamBackend, StreamSource } from "../backend.js";
import { type FileBackendOptions, type FileIdentity, identifyFile } from "../sources.js";
import type { GlobPattern } from "./glob-pattern.js";
import { MovableFileBackend } from "./movable-file-backend.js";
import { isRotatedName } from "./rotated-name.js";

/** One glob or directory stream spec: its files become streams named `<name>.<file name>`. */
export interface GlobSpec {
  name: string;
  pattern: GlobPattern;
  /** The host label of its streams (the dashboard groups by it). */
  host?: string;
}

export interface GlobStreamsOptions {
  /** How each file found is followed (the server's file settings). */
  file: FileBackendOptions;
  /** A full look at every directory this often (ms), besides fs.watch: it misses events on some file systems. */
  rescanMs: number;
  /** Stream names already taken (the server's other streams): a file's stream gets another. */
  taken?: Iterable<string>;
  /** Problems it works through (a directory it cannot read), for the host to print. */
  onProblem?: (message: string) => void;
}

/** A file found and its stream. */
interface Tracked {
  name: string;
  path: string;
  /** The file the stream follows, as first seen (a rename keeps it; a rotation at the path replaces it). */
  identity: FileIdentity;
  backend: MovableFileBackend;
}

/** A change in a directory is looked at after this quiet time: a burst of events (rotation) is one look. */
const SETTLE_MS = 50;

/**
 * Streams of the files that match globs (`app=/var/log/app/*.log`) or sit in directories, now and later: fs.watch
 * on each directory plus a rescan every rescanMs. A file is known by its identity (device, inode, first bytes:
 * the one its cursors name), not its name: renamed within the glob it stays the same stream (which follows it to
 * its new name); rotated generations (`x.log.1`, `x.log.2.gz`) are left out. A file deleted keeps its stream.
 */
export class GlobStreams implements StreamSource {
  /** The directory watch of each spec that has one (the rescans try again for the others). */
  private readonly watchers = new Map<GlobSpec, FSWatcher>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly tracked: Tracked[] = [];
  private readonly names: Set<string>;
  private add: ((name: string, backend: StreamBackend, host?: string) => void) | null = null;
  /** Per spec: the running look, and whether another was asked for meanwhile. */
  private readonly looks = new Map<GlobSpec, { running: Promise<void>; again: boolean }>();
  private readonly reported = new Set<string>();
  private closed = false;

  constructor(
    private readonly specs: readonly GlobSpec[],
    private readonly options: GlobStreamsOptions,
  ) {
    this.names = new Set(options.taken ?? []);
  }

  /** The streams found so far, by name, with the path each follows now. */
  get streams(): { name: string; path: string }[] {
    return this.tracked.map((t) => ({ name: t.name, path: t.path }));
  }

  async start(add: (name: string, backend: StreamBackend, host?: string) => void): Promise<void> {
    this.add = add;
    for (const spec of this.specs) {
      this.watchDir(spec);
      await this.look(spec);
      const timer = setInterval(() => {
        this.watchDir(spec);
        void this.look(spec);
      }, this.options.rescanMs);
      timer.unref();
      this.timers.push(timer);
    }
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const timer of this.timers) clearInterval(timer);
    for (const watcher of this.watchers.values()) watcher.close();
    await Promise.all([...this.looks.values()].map((l) => l.running));
  }

  /** A look at the spec's directory now, or right after the one running (never two at once). */
  look(spec: GlobSpec): Promise<void> {
    const state = this.looks.get(spec);
    if (state !== undefined) {
      state.again = true;
      return state.running;
    }
    const entry = { running: Promise.resolve(), again: false };
    entry.running = (async () => {
      do {
        entry.again = false;
        await this.scan(spec);
      } while (entry.again && !this.closed);
      this.looks.delete(spec);
    })();
    this.looks.set(spec, entry);
    return entry.running;
  }

  private watchDir(spec: GlobSpec): void {
    if (this.closed || this.watchers.has(spec)) return;
    let settle: NodeJS.Timeout | null = null;
    try {
      const watcher = watch(spec.pattern.dir, { persistent: false }, () => {
        if (settle !== null) return;
        settle = setTimeout(() => {
          settle = null;
          void this.look(spec);
        }, SETTLE_MS);
      });
      // A directory removed or unwatchable: the rescans go on and watch it again once it is back.
      watcher.on("error", () => {
        watcher.close();
        this.watchers.delete(spec);
      });
      this.watchers.set(spec, watcher);
    } catch {
      // Not there yet (or no inotify): found by the rescans.
    }
  }

  private async scan(spec: GlobSpec): Promise<void> {
    const { dir } = spec.pattern;
    let names: string[];
    try {
      names = (await readdir(dir)).sort();
      this.reported.delete(dir);
    } catch (error) {
      this.problem(
        dir,
        `cannot read directory ${dir} (${(error as NodeJS.ErrnoException).code}); looking again`,
      );
      return;
    }
    for (const name of names) {
      if (this.closed) return;
      if (!spec.pattern.matches(name) || isRotatedName(name)) continue;
      try {
        await this.consider(spec, join(dir, name));
      } catch (error) {
        // Gone between readdir and the look, or unreadable: the next look tries again.
        if ((error as NodeJS.ErrnoException).code !== "ENOENT")
          this.problem(join(dir, name), `cannot read ${join(dir, name)}: ${(error as Error).message}`);
      }
    }
  }

  /** A matching file: the stream it already is (by path or, renamed, by identity), or a new one. */
  private async consider(spec: GlobSpec, path: string): Promise<void> {
    const info = await stat(path, { bigint: true });
    if (!info.isFile()) return;
    const atPath = this.tracked.find((t) => t.path === path);
    if (atPath !== undefined) {
      // Another file now at a stream's path (rotated): the stream follows it; the old one is that stream's past.
      if (atPath.identity.ino !== info.ino || atPath.identity.dev !== info.dev)
        atPath.identity = await identifyFile(path);
      return;
    }
    for (const t of this.tracked) {
      if (t.identity.ino !== info.ino || t.identity.dev !== info.dev) continue;
      // The same inode with the same first bytes: this stream's file under another name.
      if ((await identifyFile(path, t.identity.fpLen)).fileId !== t.identity.fileId) continue;
      // Renamed: the stream follows it, unless another file took its old name (a rotation: x.log -> x-old.log).
      if (!(await exists(t.path))) {
        await t.backend.moveTo(path);
        t.path = path;
      }
      return;
    }
    const identity = await identifyFile(path);
    const name = this.streamName(spec.name, path.slice(spec.pattern.dir.length + 1));
    const backend = new MovableFileBackend(name, path, this.options.file);
    this.tracked.push({ name, path, identity, backend });
    this.add?.(name, backend, spec.host);
  }

  /** `<name>.<file name>` in the characters stream names allow, made unique. */
  private streamName(prefix: string, file: string): string {
    const base = `${prefix}.${file.replace(/[^A-Za-z0-9._-]/g, "-")}`.slice(0, 64);
    let name = base;
    for (let n = 2; this.names.has(name); n++) name = `${base.slice(0, 60)}-${n}`;
    this.names.add(name);
    return name;
  }

  private problem(key: string, message: string): void {
    if (this.reported.has(key)) return;
    this.reported.add(key);
    this.options.onProblem?.(message);
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await stat(path);
    return true;
  } catch {
    return false;
  }
}
