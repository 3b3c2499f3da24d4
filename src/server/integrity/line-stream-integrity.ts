import { mkdir, rename, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import type { FeedEvent } from "../../backend/backend.js";
import { LineSealer } from "../../integrity/line-sealer.js";
import type { IntegrityInfo } from "../../protocol/messages.js";
import type { FeedTap, Hub } from "../hub.js";
import { Cosignatures } from "./cosignatures.js";
import type { SealThread } from "./seal-thread.js";
import { SealedLog } from "./sealed-log.js";
import type { IntegrityEvent, IntegrityOptions } from "./sealing.js";

/**
 * Integrity for a stream that is not a file (a ring on stdin, a Redis stream): sealed from its Line objects as
 * the hub's tap sees them (LineSealer: the tree is over the stream's lines; its leaves are hashed and sealed on the
 * server's seal worker, SealThread.leafSink), the sidecar kept under the server's
 * state directory (`<stateDir>/seal/<stream>.seal/`), its checkpoints naming the source (`ring:<run>`,
 * `redis:<key>`). A stream whose cursors are not durable (a ring) restarts empty, so each run is a new chain:
 * the previous run's sidecar is moved aside to `<stream>.seal.<run>`. Lines the sealer never saw (a feed gap,
 * a reset, a first line after the sealed offset) stop sealing of the stream with `sealingStopped` saying why;
 * what was sealed stays served and provable. See docs/integrity.md, "Sealing streams that are not files".
 */
export class LineStreamIntegrity {
  readonly log: SealedLog;
  readonly cosignatures: Cosignatures;
  /** Bundles are made from a file (they carry each line's byte offset in it): none here. */
  readonly path = null;
  private state: IntegrityInfo;
  private sealer: LineSealer | null = null;
  private untap: (() => void) | null = null;
  private checkTimer: NodeJS.Timeout | null = null;
  private started: Promise<void> | null = null;
  private stopped = false;

  constructor(
    private readonly hub: Hub,
    /** The sidecar directory; null when the server has no state directory (the stream is not sealed). */
    private readonly sidecar: string | null,
    private readonly options: IntegrityOptions,
    /** The server's seal worker: the leaves are hashed and sealed there, not on the thread that feeds clients. */
    private readonly thread: SealThread,
    private readonly emit: (event: IntegrityEvent) => void,
    private readonly report: (error: Error) => void,
  ) {
    this.log = new SealedLog(sidecar ?? join("/nonexistent", `${hub.name}.seal`), options.logKeys);
    this.cosignatures = new Cosignatures(options.witnessKeys);
    this.state = {
      status: "unsealed",
      sealedTo: 0,
      verifiedTo: 0,
      checkpointTime: null,
      root: null,
      origin: null,
      sealing: sidecar !== null && options.sealKey !== null,
    };
    if (sidecar === null && options.sealKey !== null) {
      this.state.sealingStopped =
        "not sealed: the server has no state directory (--state-dir) to keep this stream's sidecar in";
    }
  }

  /** Up to date with the checkpoints read so far (a route's refresh may have read new ones). */
  get info(): IntegrityInfo {
    if (this.started !== null) this.update({});
    return this.state;
  }

  get name(): string {
    return this.hub.name;
  }

  /** The source's name in the checkpoints. */
  get identity(): string {
    return this.hub.backend.sealIdentity ?? `stream:${this.hub.name}`;
  }

  /**
   * Opens the sidecar and taps the hub: call before the hub starts, so the sealer sees the first lines. Once;
   * later calls return the same promise.
   */
  start(): Promise<void> {
    this.started ??= this.open();
    return this.started;
  }

  private async open(): Promise<void> {
    const key = this.options.sealKey;
    if (this.sidecar === null || key === null) {
      if (this.state.sealingStopped !== undefined) this.report(new Error(this.state.sealingStopped));
      this.emit({ type: "integrity", stream: this.hub.name, integrity: this.state, previous: null });
      return;
    }
    await mkdir(join(this.sidecar, ".."), { recursive: true, mode: 0o700 });
    if (!this.hub.backend.cursors.durable) await this.archivePreviousRun(this.sidecar);
    // A stream whose cursors do not outlive a run (a ring) starts a new tree each run: its own origin, so a
    // witness holding the last run's checkpoint sees another log, not a history that shrank.
    const origin = this.hub.backend.cursors.durable
      ? undefined
      : `livetrail/${key.signer.name}/${this.hub.name}/${this.identity.replace(/^[a-z]+:/, "")}`;
    this.sealer = await LineSealer.open({
      key,
      sidecar: this.sidecar,
      identity: this.identity,
      everyLines: this.options.everyLines,
      everyMs: this.options.everyMs,
      onError: (error) => this.stop(error.message),
      sink: this.thread.leafSink(this.sidecar, origin),
      ...(this.hub.backend.exactBytes === undefined
        ? {}
        : { exactBytes: (lines) => this.hub.backend.exactBytes?.(lines) ?? Promise.resolve([]) }),
    });
    this.untap = this.hub.tap(this.tap);
    await this.log.refresh();
    this.update({});
    // The sealer writes checkpoints in the background; the state follows the sidecar, as for a file stream.
    this.checkTimer = setInterval(() => void this.refresh(), Math.min(this.options.checkMs, 1000));
    this.checkTimer.unref();
  }

  /** Reads the checkpoints the sealer wrote since the last look (the routes refresh on their own too). */
  async refresh(): Promise<void> {
    try {
      await this.log.refresh();
      this.update({});
    } catch (error) {
      this.report(error instanceof Error ? error : new Error(String(error)));
    }
  }

  async close(): Promise<void> {
    this.untap?.();
    if (this.checkTimer) clearInterval(this.checkTimer);
    await this.started?.catch(() => undefined);
    await this.sealer?.close().catch((error: Error) => this.report(error));
    await this.refresh();
    await this.log.close();
  }

  private readonly tap: FeedTap = {
    onLines: (_hub, lines) => this.sealer?.push(lines),
    onEvent: (_hub, event: Exclude<FeedEvent, { type: "lines" }>) => {
      if (event.type === "gap") {
        const lost = event.skipped === undefined ? "lines" : `${event.skipped} lines`;
        this.stop(`${lost} were lost before the sealer saw them (a "${event.reason}" gap)`);
      } else if (event.type === "reset") {
        this.stop(`the stream was reset ("${event.reason}"): what follows is not this chain's history`);
      }
    },
  };

  /** Lines the sealer cannot have: seal what it has, then stop sealing this stream (served and provable still). */
  private stop(reason: string): void {
    if (this.stopped) return;
    this.stopped = true;
    this.untap?.();
    const message = `sealing stopped after the lines sealed so far: ${reason}`;
    this.report(new Error(message));
    void (async () => {
      await this.sealer?.flush();
      await this.refresh();
      this.update({ sealing: false, sealingStopped: message });
    })();
  }

  /** A ring's previous run (another chain): its sidecar moves aside, named by that run's checkpoints. */
  private async archivePreviousRun(dir: string): Promise<void> {
    if ((await stat(dir).catch(() => null)) === null) return;
    const old = new SealedLog(dir, this.options.logKeys);
    await old.refresh().catch(() => false);
    const identity = old.newest?.point.identity;
    await old.close();
    if (identity === this.identity) return;
    if (identity === undefined) {
      // Nothing was ever signed in it: no history to keep.
      await rm(dir, { recursive: true, force: true });
      return;
    }
    await rename(dir, `${dir}.${identity.replace(/^[a-z]+:/, "")}`);
  }

  private update(change: Partial<IntegrityInfo>): void {
    const newest = this.log.newest?.point ?? null;
    const previous = this.state;
    const tampered = previous.status === "tampered" || this.log.finding !== null;
    const next: IntegrityInfo = {
      ...previous,
      ...change,
      status: tampered ? "tampered" : newest === null ? "unsealed" : "sealed",
      sealedTo: newest?.size ?? 0,
      // The sealer hashed these lines itself as the feed delivered them.
      verifiedTo: newest?.size ?? 0,
      checkpointTime: newest?.time ?? null,
      root: newest?.root.toString("base64") ?? null,
      origin: newest?.origin ?? null,
    };
    if (tampered) next.finding = previous.finding ?? this.log.finding ?? "the sidecar changed";
    this.state = next;
    if (JSON.stringify(next) !== JSON.stringify(previous)) {
      this.emit({ type: "integrity", stream: this.hub.name, integrity: next, previous });
    }
  }
}
