import { mkdir, open } from "node:fs/promises";
import { join } from "node:path";
import type { AlertNotification } from "../alerts/alert.js";
import { Dispatcher, type DispatcherStatus } from "../alerts/delivery/dispatcher.js";
import { lineLink } from "../alerts/delivery/formats/links.js";
import { sameTargets } from "../alerts/delivery/targets.js";
import { AlertEngine, type AlertSnapshot, type RuleCounters } from "../alerts/engine.js";
import { AlertEngineThread } from "../alerts/engine-thread.js";
import { appendEntries } from "../append/appender.js";
import type { StreamBackend } from "../backend/backend.js";
import { RingBackend } from "../backend/ring/ring-backend.js";
import { backendForFile } from "../backend/sources.js";
import type { AlertsReport, LinkedAlert } from "../protocol/messages.js";
import { alertEntry, alertLine } from "./alert-line.js";
import type { AlertsOptions } from "./alerts-config.js";
import type { Hub } from "./hub.js";

/** The stream every notification is written to, one line each. */
export const ALERTS_STREAM = "alerts";
/** In the state directory: the alerts stream's file and the engine's state. */
export const ALERTS_LOG = "alerts.log";
export const ALERTS_STATE = "alerts-state.json";
/** Without a state directory the alerts stream lives in memory: this many lines / bytes of it. */
const RING_LINES = 10_000;
const RING_BYTES = 8 * 1024 * 1024;
/** Recent notifications in a new dashboard's first `alerts` message (firing ones are all sent). */
const SNAPSHOT_RECENT = 50;
/**
 * Evidence text in one `alerts` message at most (UTF-16 units): firing alerts first, then recent ones; past it an
 * alert goes without its lines (a rule may keep 100 lines of 1 KiB each), so the message stays well within a
 * client's queue budget.
 */
const SNAPSHOT_EVIDENCE_CHARS = 512 * 1024;

export interface AlertsHost {
  /** Where the alerts stream's file and the engine state go; null: both in memory only. */
  stateDir: string | null;
  /** How the alerts stream's file is followed (the server's settings). */
  file: { pollIntervalMs: number; watch: boolean; maxLineBytes: number };
  /** Problems alerting works through (a webhook given up on, a state file not written). */
  report: (error: Error) => void;
}

/** Something that wants every notification as it happens (a `/ws` session). */
export type AlertListener = (n: AlertNotification) => void;

/**
 * The server's alerting: one engine tapping every stream's hub, one webhook dispatcher, the `alerts` stream, and
 * the listeners (dashboards) each notification goes to. The alerts stream is an append-only file in the state
 * directory when there is one (history and durable cursors across restarts, `livetrail summary` can read it), else
 * a ring in memory.
 */
export class ServerAlerts {
  readonly backend: StreamBackend;
  private readonly engine: AlertEngine | AlertEngineThread;
  private dispatcher: Dispatcher;
  private readonly listeners = new Set<AlertListener>();
  private readonly ring: RingBackend | null = null;
  private readonly file: string | null = null;
  private writing: Promise<void> = Promise.resolve();
  /** Dispatchers replaced by a reload, still draining. */
  private readonly retiring: Promise<void>[] = [];
  private readonly detach: (() => void)[] = [];

  constructor(
    private options: AlertsOptions,
    private readonly host: AlertsHost,
  ) {
    const dir = host.stateDir;
    if (dir === null) {
      this.ring = new RingBackend(ALERTS_STREAM, { maxLines: RING_LINES, maxBytes: RING_BYTES });
      this.backend = this.ring;
    } else {
      this.file = join(dir, ALERTS_LOG);
      this.backend = backendForFile(ALERTS_STREAM, this.file, host.file);
    }
    const engine = {
      rules: options.rules,
      onNotify: (n: AlertNotification) => this.publish(n),
      onError: host.report,
      stateFile: options.stateFile ?? (dir === null ? null : join(dir, ALERTS_STATE)),
    };
    // The rules run in a worker thread, off the thread that feeds every client, unless the config says
    // `alerts.thread: false`; injected time (tests) needs them in this thread.
    this.engine =
      options.scheduler !== undefined
        ? new AlertEngine({ ...engine, scheduler: options.scheduler })
        : options.thread === false
          ? new AlertEngine(engine)
          : new AlertEngineThread(engine);
    this.dispatcher = this.makeDispatcher(options);
  }

  /** Loads the engine's state and taps every stream but the alerts stream (its lines would alert on themselves). */
  async start(hubs: readonly Hub[]): Promise<void> {
    if (this.file !== null && this.host.stateDir !== null) {
      await mkdir(this.host.stateDir, { recursive: true });
      // Exists from the start, so the stream is not reported missing before the first alert.
      await (await open(this.file, "a", 0o600)).close();
    }
    await this.engine.start();
    for (const hub of hubs) this.attach(hub);
  }

  /** A sealed stream found tampered (server/integrity/): a `tampered` source event for the rules. */
  onTampered(hub: Hub, finding: string): void {
    if (hub.name !== ALERTS_STREAM) this.engine.onEvent(hub, { type: "tampered", finding });
  }

  /** Taps one more stream (one a stream source found while the server runs). */
  attach(hub: Hub): void {
    if (hub.name !== ALERTS_STREAM) this.detach.push(this.engine.attach(hub));
  }

  /**
   * New rules (SIGHUP): unchanged rules keep their alerts and state (engine.reload). New webhook targets replace
   * the dispatcher; the old one drains in the background (its counters start over in /metrics).
   */
  reload(next: AlertsOptions): void {
    const options = { ...next, ...pick(this.options) };
    this.engine.reload(options.rules);
    // sameTargets compares secrets too (JSON of a target shows its secret redacted).
    if (
      !sameTargets(options.targets, this.options.targets) ||
      options.dashboardUrl !== this.options.dashboardUrl
    ) {
      const old = this.dispatcher;
      this.dispatcher = this.makeDispatcher(options);
      this.retiring.push(old.close());
    }
    this.options = options;
  }

  listen(listener: AlertListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** What a dashboard gets on connecting: every firing alert and the latest changes. */
  snapshot(): AlertSnapshot {
    const s = this.engine.snapshot();
    let room = SNAPSHOT_EVIDENCE_CHARS;
    const fit = (n: AlertNotification): AlertNotification => {
      const chars = n.evidence.reduce((sum, e) => sum + e.text.length, 0);
      if (chars > room) return { ...n, evidence: [] };
      room -= chars;
      return n;
    };
    return { firing: s.firing.map(fit), recent: s.recent.slice(0, SNAPSHOT_RECENT).map(fit) };
  }

  /** `GET /api/alerts`. */
  report(): AlertsReport {
    const s = this.engine.snapshot();
    const link = (n: AlertNotification): LinkedAlert => ({
      ...n,
      evidence: n.evidence.map((e) => ({
        ...e,
        link: lineLink(this.options.dashboardUrl ?? "", e.stream, e.cursor),
      })),
    });
    return {
      enabled: true,
      firing: s.firing.map(link),
      recent: s.recent.map(link),
      targets: this.dispatcher.status().targets,
    };
  }

  counters(): Map<string, RuleCounters> {
    return this.engine.counters();
  }

  /** Firing alerts per rule now. */
  firingByRule(): Map<string, number> {
    const out = new Map<string, number>();
    for (const spec of this.engine.ruleSpecs) out.set(spec.name, 0);
    for (const n of this.engine.snapshot().firing) out.set(n.rule, (out.get(n.rule) ?? 0) + 1);
    return out;
  }

  /** Lines the rules never saw (their worker thread was too far behind, or down) and the worker's restarts. */
  engineHealth(): { linesDropped: number; restarts: number } {
    const e = this.engine;
    return e instanceof AlertEngineThread
      ? { linesDropped: e.linesDropped, restarts: e.restarts }
      : { linesDropped: 0, restarts: 0 };
  }

  /** Resolves once the rules have evaluated every line handed to them so far (tests, shutdown). */
  async flush(): Promise<void> {
    if (this.engine instanceof AlertEngineThread) await this.engine.flush();
  }

  deliveryStatus(): DispatcherStatus {
    return this.dispatcher.status();
  }

  /** Stops the rules (their state is written), drains the webhooks (bounded), finishes the alerts stream. */
  async close(): Promise<void> {
    for (const d of this.detach.splice(0)) d();
    await this.engine.close();
    await Promise.all([this.dispatcher.close(), ...this.retiring]);
    await this.writing;
    this.listeners.clear();
  }

  private publish(n: AlertNotification): void {
    this.dispatcher.send(n);
    for (const listener of this.listeners) listener(n);
    if (this.ring !== null) {
      this.ring.write(Buffer.from(alertLine(n)));
      return;
    }
    const file = this.file as string;
    // One append at a time, in order of the notifications.
    this.writing = this.writing
      .then(() => appendEntries(file, [alertEntry(n)]))
      .then(
        () => undefined,
        (error: Error) => this.host.report(error),
      );
  }

  private makeDispatcher(options: AlertsOptions): Dispatcher {
    return new Dispatcher({
      targets: options.targets,
      dashboardUrl: options.dashboardUrl,
      ...(options.deliveryClock === undefined ? {} : { clock: options.deliveryClock }),
      ...(options.retry === undefined ? {} : { retry: options.retry }),
      onFailure: (target, message) => this.host.report(new Error(`webhook ${target}: ${message}`)),
    });
  }
}

/** The server's alerting when its options have some (the stream file settings are the server's). */
export function alertsFor(
  options: { alerts?: AlertsOptions | undefined; stateDir: string | null },
  file: AlertsHost["file"],
  report: AlertsHost["report"],
): ServerAlerts | null {
  if (options.alerts === undefined) return null;
  return new ServerAlerts(options.alerts, { stateDir: options.stateDir, file, report });
}

/** What a reload keeps from the options the server started with (where the rules run, injected time). */
function pick(o: AlertsOptions): Partial<AlertsOptions> {
  return {
    // The engine stays where it started: a reload does not move it between threads.
    ...(o.thread === undefined ? {} : { thread: o.thread }),
    ...(o.scheduler === undefined ? {} : { scheduler: o.scheduler }),
    ...(o.deliveryClock === undefined ? {} : { deliveryClock: o.deliveryClock }),
    ...(o.retry === undefined ? {} : { retry: o.retry }),
  };
}
