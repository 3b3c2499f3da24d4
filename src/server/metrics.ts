import type { Registry } from "prom-client";
import type { ContainersSource } from "../metrics/containers/containers-source.js";
import type { HostSource } from "../metrics/host/host-source.js";
import type { ServerAlerts } from "./alerts-wiring.js";
import type { Connections, Transport } from "./connections.js";
import type { SealedStream, ServerIntegrity } from "./integrity/sealing.js";
import type { Streams } from "./streams.js";

type PromClient = typeof import("prom-client");

/**
 * Prometheus metrics, read from the hubs' plain counters at scrape time: the hot path only increments numbers,
 * and each server has its own registry (several servers can live in one process, as in tests). Everything is
 * read at scrape time, so the registry (and prom-client, ~200 ms of start-up) is made at the first scrape.
 */
export function lazyMetrics(
  streams: Streams,
  connections: Connections,
  integrity?: ServerIntegrity,
  alerts: ServerAlerts | null = null,
  host: HostSource | null = null,
  containers: ContainersSource | null = null,
): () => Promise<Registry> {
  let registry: Promise<Registry> | null = null;
  return () => {
    registry ??= import("prom-client").then(async (client) => {
      const register = createMetrics(client, streams, connections);
      if (integrity !== undefined) integrityMetrics(client, register, integrity);
      if (alerts !== null) alertMetrics(client, register, alerts);
      if (host !== null)
        await import("./metrics-feed-prometheus.js").then((m) => m.hostPrometheus(client, register, host));
      if (containers !== null)
        await import("./metrics-feed-prometheus.js").then((m) =>
          m.containersPrometheus(client, register, containers),
        );
      return register;
    });
    return registry;
  };
}

/** Per sealed stream: lines sealed and verified, the newest checkpoint's time, and 1 while it is tampered. */
function integrityMetrics(client: PromClient, register: Registry, integrity: ServerIntegrity): void {
  const each = (name: string, help: string, read: (s: SealedStream) => number) =>
    new client.Gauge({
      name,
      help,
      labelNames: ["stream"],
      registers: [register],
      collect() {
        for (const s of integrity.all()) this.set({ stream: s.name }, read(s));
      },
    });
  each(
    "livetrail_integrity_sealed_lines",
    "Lines the newest signed checkpoint covers.",
    (s) => s.info.sealedTo,
  );
  each(
    "livetrail_integrity_verified_lines",
    "Lines checked against the checkpoints.",
    (s) => s.info.verifiedTo,
  );
  each("livetrail_integrity_last_checkpoint_seconds", "Unix time of the newest checkpoint (0: none).", (s) =>
    s.info.checkpointTime === null ? 0 : Date.parse(s.info.checkpointTime) / 1000,
  );
  each(
    "livetrail_integrity_tampered",
    "1 when the stream's file no longer matches what was sealed (see the integrity message's finding).",
    (s) => (s.info.status === "tampered" ? 1 : 0),
  );
}

function createMetrics(client: PromClient, streams: Streams, connections: Connections): Registry {
  const { Gauge, Registry } = client;
  const register = new Registry();
  const transports: Transport[] = ["ws", "sse", "ws-audit"];

  new Gauge({
    name: "livetrail_clients",
    help: "Connected clients by transport.",
    labelNames: ["transport"],
    registers: [register],
    collect() {
      for (const t of transports) this.set({ transport: t }, connections.count(t));
    },
  });
  new Gauge({
    name: "livetrail_client_buffered_bytes_max",
    help: "Largest number of bytes queued for one client right now.",
    registers: [register],
    collect() {
      this.set(connections.maxBufferedBytes());
    },
  });
  new Gauge({
    name: "livetrail_stream_subscribers",
    help: "Subscriptions per stream (WebSocket and SSE).",
    labelNames: ["stream"],
    registers: [register],
    collect() {
      for (const hub of streams.all()) this.set({ stream: hub.name }, hub.clientCount);
    },
  });
  new Gauge({
    name: "livetrail_stream_lag_bytes",
    help: "Bytes in the stream's file not yet read by the server (file size minus read position).",
    labelNames: ["stream"],
    registers: [register],
    async collect() {
      for (const hub of streams.all()) {
        const info = await hub.backend.info(hub.cursor).catch(() => null);
        this.set({ stream: hub.name }, info?.unreadBytes ?? 0);
      }
    },
  });
  new Gauge({
    name: "livetrail_stream_last_change_seconds",
    help: "Unix time of the last change the server saw in the stream (0: none yet).",
    labelNames: ["stream"],
    registers: [register],
    collect() {
      for (const hub of streams.all()) this.set({ stream: hub.name }, (hub.lastChangeMs ?? 0) / 1000);
    },
  });
  monotonic(
    client,
    register,
    "livetrail_lines_read_total",
    "Lines read from the stream's source (once per stream).",
    ["stream"],
    (emit) => {
      for (const hub of streams.all()) emit({ stream: hub.name }, hub.counters.linesRead);
    },
  );
  monotonic(
    client,
    register,
    "livetrail_lines_sent_total",
    "Lines sent to clients (each client counted).",
    ["stream"],
    (emit) => {
      for (const hub of streams.all()) emit({ stream: hub.name }, hub.counters.linesSent);
    },
  );
  monotonic(
    client,
    register,
    "livetrail_bytes_sent_total",
    "Frame bytes queued for clients.",
    ["stream"],
    (emit) => {
      for (const hub of streams.all()) emit({ stream: hub.name }, hub.counters.bytesSent);
    },
  );
  monotonic(
    client,
    register,
    "livetrail_gaps_total",
    "Gaps reported to clients, by reason.",
    ["stream", "reason"],
    (emit) => {
      for (const hub of streams.all()) {
        for (const [reason, n] of hub.counters.gaps) emit({ stream: hub.name, reason }, n);
      }
    },
  );
  monotonic(
    client,
    register,
    "livetrail_slow_client_closes_total",
    'Clients closed for being too slow (compat feed with slowClients "gap").',
    ["stream"],
    (emit) => {
      for (const hub of streams.all()) emit({ stream: hub.name }, hub.counters.slowClientCloses);
    },
  );
  monotonic(
    client,
    register,
    "livetrail_slow_client_catchups_total",
    "Times a client fell behind and was caught up from memory or the file once it drained.",
    ["stream"],
    (emit) => {
      for (const hub of streams.all()) emit({ stream: hub.name }, hub.counters.slowClientCatchUps);
    },
  );
  monotonic(
    client,
    register,
    "livetrail_heartbeat_timeouts_total",
    "Clients dropped for not answering pings.",
    [],
    (emit) => {
      emit({}, connections.heartbeatTimeouts);
    },
  );
  new Gauge({
    name: "livetrail_process_resident_memory_bytes",
    help: "Resident set size of the server process.",
    registers: [register],
    collect() {
      this.set(process.memoryUsage.rss());
    },
  });
  return register;
}

/** Alerts per rule and webhook delivery per target. */
function alertMetrics(client: PromClient, register: Registry, alerts: ServerAlerts): void {
  const perRule = (name: string, help: string, key: "fired" | "resolved" | "suppressed"): void =>
    monotonic(client, register, name, help, ["rule"], (emit) => {
      for (const [rule, c] of alerts.counters()) emit({ rule }, c[key]);
    });
  perRule("livetrail_alerts_fired_total", "Alert notifications sent as firing, by rule.", "fired");
  perRule("livetrail_alerts_resolved_total", "Alert notifications sent as resolved, by rule.", "resolved");
  perRule(
    "livetrail_alerts_suppressed_total",
    "Alert episodes that began and ended within a cooldown, never announced, by rule.",
    "suppressed",
  );
  monotonic(
    client,
    register,
    "livetrail_alerts_lines_dropped_total",
    "Lines the alert rules never evaluated: their worker thread was too far behind the streams, or restarting.",
    [],
    (emit) => emit({}, alerts.engineHealth().linesDropped),
  );
  monotonic(
    client,
    register,
    "livetrail_alerts_engine_restarts_total",
    "Times the alert rules' worker thread crashed and was started again from its state file.",
    [],
    (emit) => emit({}, alerts.engineHealth().restarts),
  );
  new client.Gauge({
    name: "livetrail_alerts_firing",
    help: "Alerts firing now, by rule.",
    labelNames: ["rule"],
    registers: [register],
    collect() {
      this.reset();
      for (const [rule, n] of alerts.firingByRule()) this.set({ rule }, n);
    },
  });
  const perTarget = (name: string, help: string, key: "sent" | "failed" | "retried" | "dropped"): void =>
    monotonic(client, register, name, help, ["target"], (emit) => {
      for (const t of alerts.deliveryStatus().targets) emit({ target: t.name }, t[key]);
    });
  perTarget("livetrail_webhook_sent_total", "Notifications a webhook target accepted (2xx).", "sent");
  perTarget(
    "livetrail_webhook_failed_total",
    "Notifications given up on (4xx, or every retry failed).",
    "failed",
  );
  perTarget("livetrail_webhook_retried_total", "Webhook attempts after the first.", "retried");
  perTarget(
    "livetrail_webhook_dropped_total",
    "Notifications never sent (the target's queue was full, or shutdown ran out of time).",
    "dropped",
  );
  new client.Gauge({
    name: "livetrail_webhook_queued",
    help: "Notifications waiting for a webhook target now.",
    labelNames: ["target"],
    registers: [register],
    collect() {
      this.reset();
      for (const t of alerts.deliveryStatus().targets) this.set({ target: t.name }, t.queued);
    },
  });
}

type Labels = Record<string, string>;

/** A counter whose value lives elsewhere: at scrape time it advances by the difference. */
export function monotonic(
  { Counter }: PromClient,
  register: Registry,
  name: string,
  help: string,
  labelNames: string[],
  read: (emit: (labels: Labels, value: number) => void) => void,
): void {
  const seen = new Map<string, number>();
  new Counter({
    name,
    help,
    labelNames,
    registers: [register],
    collect() {
      read((labels, value) => {
        const key = JSON.stringify(labels);
        const previous = seen.get(key) ?? 0;
        seen.set(key, value);
        // inc(0) on first sight makes the series visible before anything happened.
        this.inc(labels, Math.max(0, value - previous));
      });
    },
  });
}
