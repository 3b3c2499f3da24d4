import { open, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import type { FeedEvent } from "../../backend/backend.js";
import { isSameFile } from "../../integrity/file-source.js";
import type { NoteVerifier } from "../../integrity/note.js";
import type { SealKey } from "../../integrity/seal-key.js";
import { DEFAULT_EVERY_LINES, DEFAULT_EVERY_MS } from "../../integrity/sealer.js";
import { type SidecarMeta, sidecarPath } from "../../integrity/sidecar.js";
import type { IntegrityInfo } from "../../protocol/messages.js";
import type { FeedTap, Hub } from "../hub.js";
import type { IntegrityServerOptions } from "../options.js";
import { Cosignatures } from "./cosignatures.js";
import { LineStreamIntegrity } from "./line-stream-integrity.js";
import { SealThread } from "./seal-thread.js";
import { SealedLog } from "./sealed-log.js";

/**
 * Integrity for the server: per file stream, the sealed log it serves (checkpoints, proofs, cosignatures), the
 * live state (sealed and verified to line N, tampered, unsealed) and, with a seal key, the sealing itself, driven
 * by the hub's feed tap: the tap only notes that the file grew (or was reset) and asks for a seal round, which
 * runs on the seal worker thread (seal-thread.ts; the sealer reads the bytes from the file: a line's text is not
 * always its bytes), as do the re-checks; the results come back through the sidecar, read here (SealedLog), so
 * this thread's state is the same whoever sealed. See docs/integrity.md, "Serving and API".
 */

export interface IntegrityOptions {
  /** Seal every file stream with this key (serve --seal-key); null serves existing sidecars only. */
  sealKey: SealKey | null;
  /** The log's verifier keys, to check checkpoint signatures (the seal key's own when sealing). */
  logKeys: readonly NoteVerifier[];
  /** Witnesses whose cosignatures are accepted and published (serve --witness-key). */
  witnessKeys: readonly NoteVerifier[];
  /** A checkpoint after this many new lines, or this long after the first unsealed one. */
  everyLines: number;
  everyMs: number;
  /** How often the file is looked at for changes under the server (a rewrite keeps its size). */
  checkMs: number;
  /** A full re-check of the sealed lines this often (0: only when a change is noticed). */
  recheckMs: number;
}

/**
 * What alert rules (and anyone else) can subscribe to: a stream's integrity changed. `previous` is null the first
 * time. A `tampered` status carries the `finding`.
 */
export interface IntegrityEvent {
  type: "integrity";
  stream: string;
  integrity: IntegrityInfo;
  previous: IntegrityInfo | null;
}

export type IntegrityListener = (event: IntegrityEvent) => void;

/** A sealed stream as the routes, `hello` and /metrics see it: a file's, or a ring's or Redis stream's. */
export type SealedStream = StreamIntegrity | LineStreamIntegrity;

export class StreamIntegrity {
  readonly log: SealedLog;
  readonly cosignatures: Cosignatures;
  private state: IntegrityInfo;
  private untap: (() => void) | null = null;
  private unsealedLines = 0;
  private sealTimer: NodeJS.Timeout | null = null;
  private checkTimer: NodeJS.Timeout | null = null;
  private lastRecheck = Date.now();
  /** One sealing or checking job at a time, in order. */
  private work: Promise<void> = Promise.resolve();
  private sealQueued = false;
  private closed = false;
  private seen: { size: number; mtimeMs: number } | null = null;

  constructor(
    private readonly hub: Hub,
    readonly path: string,
    private readonly options: IntegrityOptions,
    private readonly thread: SealThread,
    private readonly emit: (event: IntegrityEvent) => void,
    private readonly report: (error: Error) => void,
  ) {
    this.log = new SealedLog(sidecarPath(path), options.logKeys);
    this.cosignatures = new Cosignatures(options.witnessKeys);
    this.state = {
      status: "unsealed",
      sealedTo: 0,
      verifiedTo: 0,
      checkpointTime: null,
      root: null,
      origin: null,
      sealing: options.sealKey !== null,
    };
  }

  get info(): IntegrityInfo {
    return this.state;
  }

  get name(): string {
    return this.hub.name;
  }

  /** Reads the sidecar, checks the log against it (in the background), starts sealing and watching. */
  async start(): Promise<void> {
    await this.log.refresh();
    this.update({});
    // The check first: sealing after it counts only lines it read itself as verified.
    this.queue(() => this.check());
    if (this.options.sealKey !== null) {
      this.untap = this.hub.tap(this.tap);
      this.queueSeal();
    }
    this.checkTimer = setInterval(() => this.queue(() => this.look()), this.options.checkMs);
    this.checkTimer.unref();
  }

  async close(): Promise<void> {
    this.closed = true;
    this.untap?.();
    if (this.sealTimer) clearTimeout(this.sealTimer);
    if (this.checkTimer) clearInterval(this.checkTimer);
    await this.work;
    await this.log.close();
  }

  private readonly tap: FeedTap = {
    onLines: (_hub, lines) => {
      this.unsealedLines += lines.length;
      if (this.unsealedLines >= this.options.everyLines) this.queueSeal();
      else this.sealTimer ??= setTimeout(() => this.queueSeal(), this.options.everyMs);
    },
    onEvent: (_hub, event: Exclude<FeedEvent, { type: "lines" }>) => {
      // A truncation may cut sealed lines (found by the check); a rotation is the sealer's to follow.
      if (event.type === "reset" && event.reason === "truncated") this.queue(() => this.check());
      if (event.type === "reset") this.queueSeal();
    },
  };

  private queue(job: () => Promise<void>): void {
    this.work = this.work.then(async () => {
      if (this.closed) return;
      try {
        await job();
      } catch (error) {
        this.report(error instanceof Error ? error : new Error(String(error)));
      }
    });
  }

  private queueSeal(): void {
    if (this.sealTimer) clearTimeout(this.sealTimer);
    this.sealTimer = null;
    if (this.sealQueued || this.options.sealKey === null) return;
    this.sealQueued = true;
    this.unsealedLines = 0;
    this.queue(() => this.seal());
  }

  private async seal(): Promise<void> {
    this.sealQueued = false;
    // No file yet: it is sealed once it appears.
    if ((await this.stat()) === null) return;
    let added = 0;
    try {
      added = (await this.thread.seal(this.path, this.options.everyLines)).added;
    } catch (error) {
      // The sealer refuses a file that no longer holds what was sealed: find out exactly what changed.
      if ((error as Error).name === "SealError") {
        await this.check();
        if (this.state.status !== "tampered")
          this.update({ status: "tampered", finding: (error as Error).message });
        return;
      }
      throw error;
    }
    await this.log.refresh();
    // What the file looked like once sealed: a later change that does not grow it is a rewrite. (A round that
    // sealed nothing must not move this baseline, or it would absorb a rewrite made since.)
    if (added > 0) this.seen = await this.stat();
    const fine = this.state.status !== "tampered";
    this.update(fine ? { verifiedTo: this.log.newest?.point.size ?? 0 } : {});
  }

  /** The cheap look each checkMs: new checkpoints (another sealer), and a file whose bytes changed in place. */
  private async look(): Promise<void> {
    if (await this.log.refresh()) this.update({});
    const now = await this.stat();
    const before = this.seen;
    this.seen = now;
    const sealedBytes = this.log.newest?.point.bytes ?? 0;
    const rewritten =
      before !== null && now !== null && now.mtimeMs !== before.mtimeMs && now.size <= before.size;
    const due = this.options.recheckMs > 0 && Date.now() - this.lastRecheck >= this.options.recheckMs;
    if (rewritten || (now !== null && now.size < sealedBytes) || due) await this.check();
  }

  /** Whether the path names the file the sidecar sealed: its inode (meta.json), or its identity (first bytes). */
  private async isSealedFile(identity: string): Promise<boolean> {
    const handle = await open(this.path, "r").catch(() => null);
    if (handle === null) return false;
    try {
      const meta = await readFile(join(this.log.dir, "meta.json"), "utf8")
        .then((t) => JSON.parse(t) as SidecarMeta)
        .catch(() => null);
      const s = await handle.stat({ bigint: true });
      // The same inode rewritten (even its first bytes) is the sealed file changed, not another file.
      if (meta?.file !== undefined && meta.file.dev === String(s.dev) && meta.file.ino === String(s.ino))
        return true;
      return await isSameFile(handle, identity);
    } finally {
      await handle.close();
    }
  }

  private async stat(): Promise<{ size: number; mtimeMs: number } | null> {
    try {
      const s = await stat(this.path);
      return { size: s.size, mtimeMs: s.mtimeMs };
    } catch {
      return null;
    }
  }

  /** Checks the log against the newest checkpoint; a finding makes the stream `tampered` (it stays so). */
  private async check(): Promise<void> {
    this.lastRecheck = Date.now();
    await this.log.refresh();
    const newest = this.log.newest;
    if (this.log.finding !== null) {
      this.update({ status: "tampered", finding: this.log.finding });
      return;
    }
    if (newest === null) return;
    // Another file at the path (a rotation, a replacement): the sealer follows a rotation (a new sidecar, read on
    // the next refresh) or refuses a replacement (SealError, see seal()); this sidecar is not that file's.
    if (!(await this.isSealedFile(newest.point.identity))) return;
    // The core's verify, on the seal worker: every checkpoint against the recomputed tree; it names the first
    // line changed, deleted, inserted or swapped, or a cut below a checkpoint.
    const report = await this.thread.verify(this.path, this.log.dir);
    const finding = report.findings[0];
    if (finding !== undefined) {
      const verifiedTo = finding.line === undefined ? 0 : finding.line - 1;
      this.update({ status: "tampered", finding: finding.message, verifiedTo });
    } else if (this.state.status !== "tampered") {
      this.update({ verifiedTo: report.sealedLines });
    }
  }

  private update(change: Partial<IntegrityInfo>): void {
    const newest = this.log.newest?.point ?? null;
    const previous = this.state;
    const tampered =
      previous.status === "tampered" || change.status === "tampered" || this.log.finding !== null;
    const next: IntegrityInfo = {
      ...previous,
      ...change,
      status: tampered ? "tampered" : newest === null ? "unsealed" : "sealed",
      sealedTo: newest?.size ?? 0,
      checkpointTime: newest?.time ?? null,
      root: newest?.root.toString("base64") ?? null,
      origin: newest?.origin ?? null,
    };
    if (newest?.prev) next.prev = { size: newest.prev.size, root: newest.prev.root.toString("base64") };
    else delete next.prev;
    if (tampered) next.finding = change.finding ?? previous.finding ?? this.log.finding ?? "the log changed";
    if (next.verifiedTo > next.sealedTo) next.verifiedTo = next.sealedTo;
    this.state = next;
    if (JSON.stringify(next) !== JSON.stringify(previous)) {
      this.emit({ type: "integrity", stream: this.hub.name, integrity: next, previous });
    }
  }
}

/** Every stream's integrity, and the listeners of its changes (WebSocket sessions, options.onIntegrity). */
export class ServerIntegrity {
  private readonly streams = new Map<string, SealedStream>();
  private readonly listeners = new Set<IntegrityListener>();
  /** One seal worker for every stream (docs/integrity.md, "Serving and API": why not one per stream). */
  private readonly thread: SealThread;

  constructor(
    readonly options: IntegrityOptions,
    private readonly report: (stream: string, error: Error) => void,
    /** Where sidecars of streams that are not files live (`<stateDir>/seal/`); null: they are not sealed. */
    private readonly stateDir: string | null = null,
  ) {
    this.thread = new SealThread(options.sealKey, options.logKeys[0] ?? null);
  }

  /** Adds integrity to a file stream. */
  add(hub: Hub, path: string): void {
    this.streams.set(
      hub.name,
      new StreamIntegrity(
        hub,
        path,
        this.options,
        this.thread,
        (event) => {
          for (const listener of this.listeners) listener(event);
        },
        (error) => this.report(hub.name, error),
      ),
    );
  }

  /**
   * Adds integrity to a stream that is not a file (a ring, a Redis stream), sealed from its lines with a seal key
   * (docs/integrity.md, "Sealing streams that are not files"); nothing without one. Returns the promise of its
   * start: the hub must start after it, so the sealer sees the first lines.
   */
  addLines(hub: Hub): Promise<void> {
    if (this.options.sealKey === null) return Promise.resolve();
    const sidecar = this.stateDir === null ? null : join(this.stateDir, "seal", `${hub.name}.seal`);
    const stream = new LineStreamIntegrity(
      hub,
      sidecar,
      this.options,
      this.thread,
      (event) => {
        for (const listener of this.listeners) listener(event);
      },
      (error) => this.report(hub.name, error),
    );
    this.streams.set(hub.name, stream);
    return stream.start();
  }

  get(stream: string): SealedStream | undefined {
    return this.streams.get(stream);
  }

  all(): SealedStream[] {
    return [...this.streams.values()];
  }

  info(stream: string): IntegrityInfo | undefined {
    return this.streams.get(stream)?.info;
  }

  on(listener: IntegrityListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async start(): Promise<void> {
    const started: Promise<void>[] = [];
    for (const stream of this.all()) started.push(stream.start());
    await Promise.all(started);
  }

  async close(): Promise<void> {
    await Promise.all(this.all().map((s) => s.close()));
    await this.thread.close();
  }
}

/** The server's integrity from its options: defaults filled, impossible settings refused (TypeError). */
export function serverIntegrity(
  input: IntegrityServerOptions | undefined,
  report: (stream: string, error: Error) => void,
  stateDir: string | null = null,
): ServerIntegrity {
  const sealKey = input?.sealKey ?? null;
  const options: IntegrityOptions = {
    sealKey,
    logKeys: sealKey !== null ? [sealKey.verifier, ...(input?.logKeys ?? [])] : (input?.logKeys ?? []),
    witnessKeys: input?.witnessKeys ?? [],
    everyLines: input?.everyLines ?? DEFAULT_EVERY_LINES,
    everyMs: input?.everyMs ?? DEFAULT_EVERY_MS,
    checkMs: input?.checkMs ?? 1000,
    recheckMs: input?.recheckMs ?? 600_000,
  };
  for (const key of ["everyLines", "everyMs", "checkMs", "recheckMs"] as const) {
    const min = key === "recheckMs" ? 0 : 1;
    if (!Number.isInteger(options[key]) || options[key] < min) {
      throw new TypeError(
        `option integrity.${key} must be an integer >= ${min} (got ${String(options[key])})`,
      );
    }
  }
  const integrity = new ServerIntegrity(options, report, stateDir);
  const onIntegrity = input?.onIntegrity;
  if (onIntegrity !== undefined) integrity.on(onIntegrity);
  return integrity;
}
