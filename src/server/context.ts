import type { Registry } from "prom-client";
import type { ServerAlerts } from "./alerts-wiring.js";
import type { Connections } from "./connections.js";
import type { DeliveryOptions } from "./delivery/subscription.js";
import type { Heartbeat } from "./heartbeat.js";
import type { ServerIntegrity } from "./integrity/sealing.js";
import type { MetricsChannel } from "./metrics-feed.js";
import type { ResolvedOptions } from "./options.js";
import type { Streams } from "./streams.js";

/** What the routes share: the streams, the open connections, the one heartbeat, settings. */
export interface ServerContext {
  readonly options: ResolvedOptions;
  readonly streams: Streams;
  readonly connections: Connections;
  readonly heartbeat: Heartbeat;
  /** How every subscription delivers (one object, handed to every session). */
  readonly delivery: DeliveryOptions;
  /** The Prometheus registry, made at the first scrape. */
  readonly metrics: () => Promise<Registry>;
  readonly serverName: string;
  /** Sealed streams: checkpoints, proofs, live integrity state (server/integrity/). */
  readonly integrity: ServerIntegrity;
  /** Alert rules and webhooks, null when none are configured. */
  readonly alerts: ServerAlerts | null;
  /** Metrics sources sampled for `metrics-subscribe` (empty when host metrics are off). */
  readonly metricsFeeds: readonly MetricsChannel[];
  /**
   * Searches holding a slot now (bounded by options.maxConcurrentSearches; routes/api.ts also keeps one client
   * to one slot and frees the slot of a search whose client went away).
   */
  searches: number;
  /** Set when shutdown begins: new streaming connections are refused. */
  closing: boolean;
}
