import type { FastifyRequest } from "fastify";
import type { StreamBackend, StreamSource } from "../backend/backend.js";
import type { NoteVerifier } from "../integrity/note.js";
import type { SealKey } from "../integrity/seal-key.js";
import { hostLabelProblem } from "../protocol/host-label.js";
import type { AlertsOptions } from "./alerts-config.js";
import type { SlowClientPolicy } from "./delivery/subscription.js";
import type { IntegrityEvent } from "./integrity/sealing.js";
import type { LogSettings } from "./logging/log-settings.js";
import type { ContainerMetricsOptions } from "./metrics-feed-containers.js";
import type { HostMetricsOptions } from "./metrics-feed-host.js";
import { type ResolvedSecurity, resolveSecurity, type SecurityOptions } from "./security/security-options.js";

export interface StreamSpec {
  /** Stream name used in URLs and messages. */
  name: string;
  /** The log file (ignored when `backend` is given). */
  file?: string;
  /** A ready backend (e.g. a future Redis one); default: a FileBackend on `file`. */
  backend?: StreamBackend;
  /** The host the lines come from, shown by the dashboard, which groups streams by it (`hello`'s `host`). */
  host?: string;
}

/**
 * Decides whether a request (HTTP or WebSocket upgrade) may proceed. The one place authentication plugs in;
 * without it every request is allowed.
 */
export type Authorize = (request: FastifyRequest) => boolean | Promise<boolean>;

export interface ServerOptions {
  /**
   * The streams; the first is the default (used by `/api/audit` and `/ws/audit`). At least one, unless a
   * streamSource brings them.
   */
  streams: StreamSpec[];
  /** Streams that become known while the server runs (serve --redis), added after these; started by listen(). */
  streamSource?: StreamSource;
  /** Default 127.0.0.1. */
  host?: string;
  /** Default 8080; 0 picks a free port. */
  port?: number;
  /** Follower fallback stat poll (ms). Default 1000. */
  pollIntervalMs?: number;
  /** Use fs.watch as well as polling. Default true. */
  watch?: boolean;
  /**
   * Recent lines kept per stream for instant catch-up. Default 5,000 lines (the dashboard's initial tail) / 8 MiB:
   * at burst rates a window twice that size outlives two young-generation GCs, so every line is promoted to the old
   * generation (1M-line burst: peak RSS ~200 MB instead of ~110 MB, +20 % server CPU).
   */
  windowLines?: number;
  windowBytes?: number;
  /**
   * Longest line kept whole (bytes); longer ones are cut to this and marked with their real length. Default
   * 1 MiB. Pages and `/ws` frames show a line's first 64 KiB; SSE, `/ws/audit` and `/api/streams/NAME/line` whole.
   */
  maxLineBytes?: number;
  /** Bytes queued for one client before live delivery to it stops. Default 4 MiB. */
  maxBufferedBytes?: number;
  /**
   * A client past maxBufferedBytes: "catch-up" (default) sends what it missed once it drains, from memory or the
   * file; "gap" sends a `gap` message instead (docs/protocol.md, backpressure).
   */
  slowClients?: SlowClientPolicy;
  /** Source bytes per lines frame. Default 256 KiB. */
  maxFrameBytes?: number;
  /** Server ping interval (ms); a client that misses a whole interval is dropped. Default 15,000 (<= 20 s). */
  heartbeatMs?: number;
  /** Streams one WebSocket may subscribe to. Default 32. */
  maxSubscriptions?: number;
  /** Largest client WebSocket message (bytes); larger ones close the socket with 1009. Default 64 KiB. */
  maxMessageBytes?: number;
  /** Lines per history read while a client catches up. Default 5,000. */
  catchUpChunkLines?: number;
  /** Search time limit (ms). Default 5,000. */
  searchTimeoutMs?: number;
  /** Concurrent searches; more get 503. Default 2. */
  maxConcurrentSearches?: number;
  /** How long shutdown waits for clients to complete the close handshake before cutting them off. Default 2,000. */
  closeGraceMs?: number;
  /** Built dashboard to serve at `/`; default dist/web of this package; null disables. */
  staticDir?: string | null;
  /** Request authorisation hook (see Authorize). */
  authorize?: Authorize;
  /** The server's log (logging/log-settings.ts): level, JSON or pretty, where to. Default false: none. */
  logger?: boolean | LogSettings;
  /** Non-fatal problems of a stream (I/O errors while following). Default: the Fastify logger. */
  onStreamError?: (stream: string, error: Error) => void;
  /** Tokens, TLS, origins and limits (docs/security.md). Default: no authentication, default limits. */
  security?: SecurityOptions;
  /** Sealing and serving integrity (docs/integrity.md, "Serving and API"). Default: serve existing sidecars only. */
  integrity?: IntegrityServerOptions;
  /** Alert rules and webhooks (docs/alerts.md); they add the `alerts` stream. Default: none. */
  alerts?: AlertsOptions;
  /**
   * A directory the server keeps state in: the alerts stream's file and the alert engine's state (silence times,
   * baselines). Default: none, so both live in memory and start over with the server.
   */
  stateDir?: string;
  /** Sample the host's CPU, memory, load, disk and network for dashboards and /metrics (docs/metrics.md). Default: off (`serve` turns it on). */
  hostMetrics?: HostMetricsOptions;
  /** Per-container CPU and memory from the Docker Engine API, when it answers (docs/metrics.md). Default: off (`serve --docker` turns it on). */
  containerMetrics?: ContainerMetricsOptions;
  /**
   * permessage-deflate on /ws. Default false: measured (bench/ws-deflate.js, docs/operations.md) it cuts a
   * burst's bytes ~9x but costs the server 3-9x the CPU (each client's copy is compressed on its own, where off
   * one frame is shared) and ~0.4 MB of zlib memory per client.
   */
  wsPerMessageDeflate?: boolean;
}

export interface IntegrityServerOptions {
  /** Seal every file stream with this key (serve --seal-key), in the same pass that feeds clients. */
  sealKey?: SealKey;
  /** Verifier keys of the log, to check checkpoint signatures when not sealing (the seal key's own when sealing). */
  logKeys?: NoteVerifier[];
  /** Witnesses whose cosignatures POST /api/streams/NAME/cosignature accepts (serve --witness-key). */
  witnessKeys?: NoteVerifier[];
  /** A checkpoint every this many lines (default 1,000) or this long after the first unsealed one (default 1 s). */
  everyLines?: number;
  everyMs?: number;
  /** How often each file is looked at for bytes changed in place (ms, default 1,000). */
  checkMs?: number;
  /** A full re-check of the sealed lines this often (ms, default 600,000; 0: only on a change noticed). */
  recheckMs?: number;
  /** Called when a stream's integrity changes (for alert rules): see IntegrityEvent. */
  onIntegrity?: (event: IntegrityEvent) => void;
}

export type ResolvedOptions = Required<
  Omit<
    ServerOptions,
    | "authorize"
    | "onStreamError"
    | "staticDir"
    | "logger"
    | "security"
    | "streamSource"
    | "integrity"
    | "alerts"
    | "stateDir"
    | "hostMetrics"
    | "containerMetrics"
    | "wsPerMessageDeflate"
  >
> &
  Pick<
    ServerOptions,
    | "authorize"
    | "onStreamError"
    | "streamSource"
    | "integrity"
    | "alerts"
    | "hostMetrics"
    | "containerMetrics"
  > & {
    stateDir: string | null;
    staticDir: string | null;
    logger: boolean | LogSettings;
    security: ResolvedSecurity;
  };

const DEFAULTS = {
  host: "127.0.0.1",
  port: 8080,
  pollIntervalMs: 1000,
  watch: true,
  windowLines: 5_000,
  windowBytes: 8 * 1024 * 1024,
  maxBufferedBytes: 4 * 1024 * 1024,
  maxLineBytes: 1024 * 1024,
  maxFrameBytes: 256 * 1024,
  heartbeatMs: 15_000,
  maxSubscriptions: 32,
  maxMessageBytes: 64 * 1024,
  catchUpChunkLines: 5_000,
  searchTimeoutMs: 5_000,
  maxConcurrentSearches: 2,
  closeGraceMs: 2_000,
  slowClients: "catch-up",
} as const;

const NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Fills defaults and rejects impossible settings with a clear message (never a crash later). */
export function resolveOptions(options: ServerOptions, defaultStaticDir: string): ResolvedOptions {
  if (
    !Array.isArray(options.streams) ||
    (options.streams.length === 0 && options.streamSource === undefined)
  ) {
    throw new TypeError("at least one stream is required");
  }
  const names = new Set<string>();
  for (const spec of options.streams) {
    if (!NAME.test(spec.name)) {
      throw new TypeError(
        `invalid stream name "${spec.name}": use letters, digits, ".", "_" or "-" (max 64)`,
      );
    }
    if (names.has(spec.name)) throw new TypeError(`duplicate stream name "${spec.name}"`);
    if (spec.name === "alerts" && options.alerts !== undefined) {
      throw new TypeError(
        `stream name "alerts" is taken by the alerts stream while alert rules are configured`,
      );
    }
    names.add(spec.name);
    if (spec.backend === undefined && (typeof spec.file !== "string" || spec.file === "")) {
      throw new TypeError(`stream "${spec.name}" needs a file`);
    }
    const hostProblem = spec.host === undefined ? null : hostLabelProblem(String(spec.host));
    if (hostProblem !== null) throw new TypeError(`stream "${spec.name}": ${hostProblem}`);
  }
  const resolved: ResolvedOptions = {
    ...DEFAULTS,
    ...definedOnly(options),
    streams: options.streams,
    staticDir: options.staticDir === undefined ? defaultStaticDir : options.staticDir,
    logger: options.logger ?? false,
    stateDir: options.stateDir ?? null,
    security: resolveSecurity(options.security, options.host ?? DEFAULTS.host),
  } as ResolvedOptions;
  for (const key of Object.keys(DEFAULTS) as (keyof typeof DEFAULTS)[]) {
    const value = resolved[key];
    if (key === "host" || key === "watch") continue;
    if (key === "slowClients") {
      if (value !== "catch-up" && value !== "gap") {
        throw new TypeError(`option slowClients must be "catch-up" or "gap" (got ${String(value)})`);
      }
      continue;
    }
    const min = key === "port" || key === "windowLines" ? 0 : 1;
    if (typeof value !== "number" || !Number.isInteger(value) || value < min) {
      throw new TypeError(`option ${key} must be an integer >= ${min} (got ${String(value)})`);
    }
  }
  if (resolved.port > 65535) throw new TypeError(`option port must be at most 65535 (got ${resolved.port})`);
  if (resolved.heartbeatMs > 20_000) throw new TypeError("option heartbeatMs must be at most 20000");
  return resolved;
}

function definedOnly<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
