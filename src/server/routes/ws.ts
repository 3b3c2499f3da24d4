import type { ServerResponse } from "node:http";
import type { Socket } from "node:net";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { WebSocket } from "ws";
import { CloseCode } from "../../protocol/errors.js";
import { CompatSession } from "../compat-session.js";
import type { ServerContext } from "../context.js";
import { WsSession } from "../ws-session.js";

/** `WS /ws` (the JSON protocol, docs/protocol.md) and `WS /ws/audit` (the old raw-text feed). */
export function registerWebSocketRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const { options, connections, heartbeat } = ctx;
  const onHeartbeatTimeout = (): void => {
    connections.heartbeatTimeouts++;
  };

  // Integrity changes go to every /ws socket (hello lists every stream's state, so every client follows them).
  const sessions = new Set<WsSession>();
  ctx.integrity.on(({ stream, integrity }) => {
    for (const s of sessions) s.notify({ type: "integrity", stream, integrity });
  });

  // One options object for every session (no per-connection closures).
  const sessionOptions = {
    serverName: ctx.serverName,
    heartbeatMs: options.heartbeatMs,
    maxBufferedBytes: options.maxBufferedBytes,
    maxSubscriptions: options.maxSubscriptions,
    delivery: ctx.delivery,
    onClose: (s: WsSession) => {
      sessions.delete(s);
      connections.delete(s);
      heartbeat.delete(s);
    },
    onHeartbeatTimeout,
    integrityOf: (stream: string) => ctx.integrity.info(stream),
    alerts: ctx.alerts,
    metricsFeeds: ctx.metricsFeeds,
  };

  app.get("/ws", { websocket: true }, (socket, request) => {
    releaseUpgrade(socket, request);
    if (ctx.closing) {
      socket.close(CloseCode.goingAway, "server shutting down");
      return;
    }
    const session = new WsSession(socket, ctx.streams, sessionOptions);
    connections.add(session);
    sessions.add(session);
    heartbeat.add(session);
    session.start();
  });

  app.get("/ws/audit", { websocket: true }, (socket, request) => {
    const log = request.log;
    releaseUpgrade(socket, request);
    if (ctx.closing) {
      socket.close(CloseCode.goingAway, "server shutting down");
      return;
    }
    // Streams from a StreamSource (serve --redis) may not be known yet.
    const hub = ctx.streams.all().find((h) => h.isDefault);
    if (hub === undefined) {
      socket.close(CloseCode.unreadable, "no stream is known yet");
      return;
    }
    const session = new CompatSession(socket, hub, {
      maxBufferedBytes: options.maxBufferedBytes,
      delivery: ctx.delivery,
      onClose: (s) => {
        connections.delete(s);
        heartbeat.delete(s);
      },
      onHeartbeatTimeout,
    });
    connections.add(session);
    heartbeat.add(session);
    session.start().catch((error: Error) => {
      log.warn({ err: error }, "ws/audit start failed");
      socket.close(CloseCode.unreadable, "could not read the audit log");
    });
  });
}

/**
 * After the upgrade nothing needs the HTTP request and response any more, but the plugin's per-socket error
 * listener and the response's hold on the socket keep them (and their headers) alive for the connection's whole
 * life: a few KB per idle client. Swap in a listener that holds nothing and detach the response.
 */
function releaseUpgrade(socket: WebSocket, request: FastifyRequest): void {
  socket.removeAllListeners("error");
  socket.on("error", terminateOnError);
  const raw = request.raw.socket as Socket & { _httpMessage?: ServerResponse | null };
  raw._httpMessage?.detachSocket(raw);
}

function terminateOnError(this: WebSocket): void {
  this.terminate();
}
