import { readFileSync } from "node:fs";
import type { AddressInfo } from "node:net";
import type { Server as SecureServer } from "node:tls";
import { fileURLToPath } from "node:url";
import fastifyWebsocket from "@fastify/websocket";
import Fastify, { type FastifyInstance } from "fastify";
import type { StreamBackend } from "../backend/backend.js";
import { backendForFile } from "../backend/sources.js";
import { CloseCode } from "../protocol/errors.js";
import { ALERTS_STREAM, alertsFor, type ServerAlerts } from "./alerts-wiring.js";
import { Connections } from "./connections.js";
import type { ServerContext } from "./context.js";
import { Heartbeat } from "./heartbeat.js";
import { registerCompression } from "./http/compression.js";
import { lazySchemaCompilers } from "./http/lazy-schema-compilers.js";
import { Hub } from "./hub.js";
import { serverIntegrity } from "./integrity/sealing.js";
import { loggingServerOptions } from "./logging/log-settings.js";
import { registerRequestLog } from "./logging/request-log.js";
import { lazyMetrics } from "./metrics.js";
import type { MetricsChannel } from "./metrics-feed.js";
import { containersFeed } from "./metrics-feed-containers.js";
import { hostFeed } from "./metrics-feed-host.js";
import { type ResolvedOptions, resolveOptions, type ServerOptions } from "./options.js";
import { registerAlertsRoute } from "./routes/alerts.js";
import { registerApiRoutes } from "./routes/api.js";
import { registerCompatRoutes } from "./routes/compat.js";
import { registerCountRoute } from "./routes/count.js";
import { registerDashboard } from "./routes/dashboard.js";
import { registerHealthRoutes } from "./routes/health.js";
import { registerErrorHandler, sendError } from "./routes/http-errors.js";
import { registerIntegrityRoutes } from "./routes/integrity.js";
import { registerLineRoute } from "./routes/line.js";
import { registerSseRoute } from "./routes/sse.js";
import { registerWebSocketRoutes } from "./routes/ws.js";
import { registerSecurity } from "./security/security-plugin.js";
import { securityServerOptions } from "./security/server-options.js";
import { answerPlainHttp } from "./security/tls-plain-http.js";
import { Streams } from "./streams.js";

export interface ServerAddress {
  host: string;
  port: number;
  /** http://host:port (IPv6 hosts in brackets). */
  url: string;
}

export interface LivetrailServer {
  /** Starts following every stream, then listens. Resolves with the bound address. */
  listen(): Promise<ServerAddress>;
  /**
   * Graceful stop: WebSocket clients get close code 1001, SSE responses end, followers stop. Idempotent; also
   * safe before listen().
   */
  close(): Promise<void>;
  /** The bound address, null when not listening. */
  address(): ServerAddress | null;
  readonly app: FastifyInstance;
  readonly streams: Streams;
  readonly connections: Connections;
  readonly options: ResolvedOptions;
  /** The alert rules, webhooks and `alerts` stream; null without `alerts` in the options. */
  readonly alerts: ServerAlerts | null;
}

// Works from src/server (tests) and dist/server (installed): both are two levels below the package root.
const PACKAGE_ROOT = new URL("../../", import.meta.url);
const DEFAULT_STATIC_DIR = fileURLToPath(new URL("dist/web/", PACKAGE_ROOT));

function serverName(): string {
  try {
    const { version } = JSON.parse(readFileSync(new URL("package.json", PACKAGE_ROOT), "utf8")) as {
      version: string;
    };
    return `livetrail/${version}`;
  } catch {
    return "livetrail";
  }
}

/**
 * Catch-up frames are smaller than live ones (maxFrameBytes, 256 KiB, for bursts): a client that stops reading
 * then holds its queue plus 64 KiB, and serialising one frame keeps the event loop from live lines for a fraction
 * of a millisecond. Measured with 60 paused clients asking for 100,000 lines each (bench paused-catch-up).
 */
const CATCH_UP_FRAME_BYTES = 64 * 1024;

/** Builds a server (nothing runs until listen()). Throws TypeError for invalid options. */
export function createServer(input: ServerOptions): LivetrailServer {
  const options = resolveOptions(input, DEFAULT_STATIC_DIR);
  const app = Fastify({
    ...securityServerOptions(options.security, false),
    ...loggingServerOptions(options.logger),
    ...lazySchemaCompilers(),
    // Long-lived SSE responses must not hold shutdown hostage; idle keep-alive sockets are closed on close().
    forceCloseConnections: "idle",
  });
  if (options.security.tls !== null) {
    answerPlainHttp(app.server as unknown as SecureServer, (socket) =>
      app.log.info({ remoteAddress: socket.remoteAddress }, "plain HTTP on the HTTPS port: answered 400"),
    );
  }
  const streams = new Streams();
  const onStreamError =
    options.onStreamError ??
    ((stream: string, error: Error) =>
      app.log.warn({ stream, err: error }, "stream read problem (still following)"));
  const integrity = serverIntegrity(
    options.integrity,
    (stream, err) => app.log.warn({ stream, err }, "integrity problem (still serving)"),
    options.stateDir,
  );
  /** Streams that are not files, sealed from their lines: each one's sealer opens before its hub starts. */
  const lineSealed: Hub[] = [];
  const hubFor = (name: string, backend: StreamBackend, host: string | undefined, isDefault?: boolean): Hub =>
    new Hub(name, backend, isDefault ?? streams.all().length === 0, {
      windowLines: options.windowLines,
      windowBytes: options.windowBytes,
      maxFrameBytes: options.maxFrameBytes,
      onError: onStreamError,
      host,
    });
  for (const spec of input.streams) {
    const backend: StreamBackend =
      spec.backend ??
      backendForFile(spec.name, spec.file as string, {
        pollIntervalMs: options.pollIntervalMs,
        watch: options.watch,
        maxLineBytes: options.maxLineBytes,
      });
    const hub = hubFor(spec.name, backend, spec.host);
    streams.add(hub);
    if (spec.backend === undefined) integrity.add(hub, spec.file as string);
    else if (backend.sealIdentity !== undefined) lineSealed.push(hub);
  }
  /** A stream the source found while the server runs: served from now on (a name already served is ignored). */
  const addDiscovered = (name: string, backend: StreamBackend, host?: string): void => {
    if (ctx.closing || streams.get(name) !== undefined) return;
    const hub = hubFor(name, backend, host);
    streams.add(hub);
    ctx.alerts?.attach(hub);
    const start = (): void => {
      hub.start().catch((error: Error) => {
        onStreamError(name, error);
        if (!ctx.closing) setTimeout(start, 1000).unref();
      });
    };
    // Sealed from its first line on: the hub starts once the sealer has opened (or failed to: still served).
    const sealing = backend.sealIdentity === undefined ? Promise.resolve() : integrity.addLines(hub);
    sealing
      .catch((error: Error) => app.log.warn({ stream: name, err: error }, "integrity problem (not sealed)"))
      .then(() => {
        if (!ctx.closing && !hub.closed) start();
      });
  };
  const alerts = alertsFor(
    options,
    { pollIntervalMs: options.pollIntervalMs, watch: options.watch, maxLineBytes: options.maxLineBytes },
    (error) => app.log.warn({ err: error }, "alerts"),
  );
  if (alerts !== null) {
    streams.add(hubFor(ALERTS_STREAM, alerts.backend, undefined, false));
    // A stream found tampered becomes a source event the rules can alert on (rule events: ["tampered"]).
    integrity.on(({ stream, integrity: now, previous }) => {
      const hub = streams.get(stream);
      if (hub !== undefined && now.status === "tampered" && previous?.status !== "tampered") {
        alerts.onTampered(hub, now.finding ?? "the file no longer matches its seal");
      }
    });
  }
  const hostMetrics = hostFeed(options.hostMetrics, options.stateDir, input.streams, (err) =>
    app.log.warn({ err }, "host metrics problem (still sampling)"),
  );
  // Shared with every session: the containers feed joins it once the Engine API answers (hello lists it then).
  const metricsFeeds: MetricsChannel[] = hostMetrics === null ? [] : [hostMetrics.feed];
  const containerMetrics = containersFeed(
    options.containerMetrics,
    options.hostMetrics?.intervalMs ?? 1000,
    (feed) => metricsFeeds.push(feed),
    (err) => app.log.warn({ err }, "container metrics problem (still trying)"),
  );
  const connections = new Connections();
  const ctx: ServerContext = {
    options,
    streams,
    connections,
    heartbeat: new Heartbeat(options.heartbeatMs),
    delivery: {
      slowClients: options.slowClients,
      catchUpChunkLines: options.catchUpChunkLines,
      catchUpFrameBytes: Math.min(options.maxFrameBytes, CATCH_UP_FRAME_BYTES),
    },
    metrics: lazyMetrics(
      streams,
      connections,
      integrity,
      alerts,
      hostMetrics?.source ?? null,
      containerMetrics?.source ?? null,
    ),
    alerts,
    metricsFeeds,
    serverName: serverName(),
    integrity,
    searches: 0,
    closing: false,
  };

  const ready = (async () => {
    await app.register(fastifyWebsocket, {
      options: {
        perMessageDeflate: input.wsPerMessageDeflate === true,
        maxPayload: options.maxMessageBytes,
        clientTracking: false,
      },
      // Clients are closed by close() with 1001 before Fastify shuts down; the plugin only stops accepting.
      preClose(done) {
        done();
      },
    });
    await registerCompression(app);
    registerErrorHandler(app);
    registerRequestLog(app); // first, so requests that security refuses are logged too
    await registerSecurity(app, ctx);
    const authorize = options.authorize;
    if (authorize !== undefined) {
      // The one place a request (HTTP or WebSocket upgrade) is admitted.
      app.addHook("onRequest", async (request, reply) => {
        if (!(await authorize(request))) return sendError(reply, "unauthorized", "authentication required");
      });
    }
    registerWebSocketRoutes(app, ctx);
    registerApiRoutes(app, ctx);
    registerAlertsRoute(app, ctx);
    registerLineRoute(app, ctx);
    registerCountRoute(app, ctx);
    registerSseRoute(app, ctx);
    registerCompatRoutes(app, ctx);
    registerHealthRoutes(app, ctx);
    registerIntegrityRoutes(app, ctx);
    await registerDashboard(app, options.staticDir);
  })();

  let listening: Promise<ServerAddress> | null = null;
  let closing: Promise<void> | null = null;
  let bound: ServerAddress | null = null;

  const server: LivetrailServer = {
    app,
    streams,
    connections,
    options,
    alerts,
    listen() {
      if (closing !== null) return Promise.reject(new Error("server is closed"));
      listening ??= (async () => {
        await ready;
        // Tapped before the feeds start, so the rules see the first lines too.
        await alerts?.start(streams.all());
        for (const hub of lineSealed) await integrity.addLines(hub);
        for (const hub of streams.all()) await hub.start();
        await options.streamSource?.start(addDiscovered);
        await integrity.start();
        await hostMetrics?.feed.start();
        await containerMetrics?.feed.start();
        const tls = await options.security.tls?.load();
        if (tls !== undefined) (app.server as unknown as SecureServer).setSecureContext(tls);
        await app.listen({ host: options.host, port: options.port });
        const address = app.server.address() as AddressInfo;
        const host = address.family === "IPv6" ? `[${address.address}]` : address.address;
        bound = {
          host: address.address,
          port: address.port,
          url: `${tls ? "https" : "http"}://${host}:${address.port}`,
        };
        return bound;
      })();
      return listening;
    },
    close() {
      closing ??= (async () => {
        ctx.closing = true;
        hostMetrics?.feed.close();
        containerMetrics?.feed.close();
        await listening?.catch(() => undefined);
        await ready.catch(() => undefined);
        await connections.closeAll(CloseCode.goingAway, "server shutting down", options.closeGraceMs);
        ctx.heartbeat.close();
        await app.close();
        await integrity.close();
        await Promise.all(streams.all().map((hub) => hub.close()));
        await options.streamSource?.close();
        await alerts?.close();
        bound = null;
      })();
      return closing;
    },
    address() {
      return bound;
    },
  };
  return server;
}
