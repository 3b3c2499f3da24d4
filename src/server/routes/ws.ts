import type { FastifyInstance } from "fastify";
import { CloseCode } from "../../protocol/messages.js";
import { CompatSession } from "../compat-session.js";
import type { ServerContext } from "../context.js";
import { WsSession } from "../ws-session.js";

/** `WS /ws` (the JSON protocol, docs/protocol.md) and `WS /ws/audit` (the old raw-text feed). */
export function registerWebSocketRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const { options, connections, heartbeat } = ctx;
  const onHeartbeatTimeout = (): void => {
    connections.heartbeatTimeouts++;
  };

  app.get("/ws", { websocket: true }, (socket) => {
    if (ctx.closing) {
      socket.close(CloseCode.goingAway, "server shutting down");
      return;
    }
    const session = new WsSession(socket, ctx.streams, {
      serverName: ctx.serverName,
      heartbeatMs: options.heartbeatMs,
      maxBufferedBytes: options.maxBufferedBytes,
      maxSubscriptions: options.maxSubscriptions,
      catchUpChunkLines: options.catchUpChunkLines,
      maxFrameBytes: options.maxFrameBytes,
      onClose: (s) => {
        connections.delete(s);
        heartbeat.delete(s);
      },
      onHeartbeatTimeout,
    });
    connections.add(session);
    heartbeat.add(session);
    session.start();
  });

  app.get("/ws/audit", { websocket: true }, (socket, request) => {
    if (ctx.closing) {
      socket.close(CloseCode.goingAway, "server shutting down");
      return;
    }
    const session = new CompatSession(socket, ctx.streams.default, {
      maxBufferedBytes: options.maxBufferedBytes,
      maxFrameBytes: options.maxFrameBytes,
      catchUpChunkLines: options.catchUpChunkLines,
      onClose: (s) => {
        connections.delete(s);
        heartbeat.delete(s);
      },
      onHeartbeatTimeout,
    });
    connections.add(session);
    heartbeat.add(session);
    session.start().catch((error: Error) => {
      request.log.warn({ err: error }, "ws/audit start failed");
      socket.close(1011, "could not read the audit log");
    });
  });
}
