import type { IncomingMessage } from "node:http";
import type { Socket } from "node:net";
import type { FastifyInstance, FastifyRequest } from "fastify";
import type { WebSocket } from "ws";
import { redactUrl } from "../security/server-options.js";
import { tallyOf } from "./session-tally.js";

const SSE_ROUTE = "/api/streams/:name/events";

/** What is known of a request when it starts: its fields for the log line and the socket's byte count then. */
interface Started {
  route: string;
  url: string;
  remoteAddress: string;
  stream?: string;
  at: number;
  bytesBefore: number;
  /** A WebSocket upgrade that was accepted: its session line says how it went, not the request line. */
  upgraded?: boolean;
}

/**
 * One log line per HTTP request when its response ends (method, route, status, duration, bytes, remote address)
 * and one per WebSocket or SSE session when it closes (streams, lines and bytes sent, duration, close code). Bytes are those
 * the socket wrote during the request, headers and compression included: what crossed the network. The URL is
 * logged with any token query redacted; no header, cookie or body is. Statuses 401, 403 and 429 (a client
 * refused or rate-limited) are warnings, 5xx errors, the rest info; sessions are info.
 */
export function registerRequestLog(app: FastifyInstance, now: () => number = Date.now): void {
  const upgrades = new WeakMap<IncomingMessage, Started>();

  const started = (request: FastifyRequest): Started => {
    const params = request.params as { name?: unknown } | undefined;
    return {
      route: request.routeOptions.url ?? "(no route)",
      url: redactUrl(request.url),
      remoteAddress: request.ip,
      ...(typeof params?.name === "string" ? { stream: params.name } : {}),
      at: now(),
      bytesBefore: request.raw.socket?.bytesWritten ?? 0,
    };
  };
  const bytesSince = (socket: Socket | undefined, s: Started): number =>
    Math.max(0, (socket?.bytesWritten ?? s.bytesBefore) - s.bytesBefore);

  app.addHook("onRequest", async (request, reply) => {
    const s = started(request);
    if (request.ws) upgrades.set(request.raw, s);
    // The listener holds what it logs, not the request: a WebSocket session lives as long as its response
    // object, and must not keep its upgrade request (headers and all) alive with it.
    const method = request.method;
    const socket = request.raw.socket;
    const res = reply.raw;
    // "close" also comes for hijacked responses (SSE), which never reach onResponse.
    res.once("close", () => {
      if (s.upgraded === true) return;
      const status = res.statusCode;
      const fields = {
        method,
        route: s.route,
        url: s.url,
        status,
        ms: now() - s.at,
        bytes: bytesSince(socket, s),
        remoteAddress: s.remoteAddress,
        ...(s.stream === undefined ? {} : { stream: s.stream }),
        ...(res.writableFinished ? {} : { aborted: true }),
      };
      if (s.route === SSE_ROUTE && status === 200) {
        app.log.info({ session: "sse", ...fields, lines: tallyOf(res)?.lines ?? 0 }, "SSE session ended");
      } else if (status >= 500) app.log.error(fields, "request");
      else if (status === 401 || status === 403 || status === 429) app.log.warn(fields, "request refused");
      else app.log.info(fields, "request");
    });
  });

  app.addHook("onReady", async () => {
    app.websocketServer.on("connection", (ws: WebSocket, request: IncomingMessage) => {
      const s = upgrades.get(request);
      if (s === undefined) return;
      s.upgraded = true;
      upgrades.delete(request);
      // The socket, not the request: a session must not keep its upgrade request (headers and all) alive.
      const socket = request.socket;
      ws.once("close", (code: number) => {
        const tally = tallyOf(ws);
        app.log.info(
          {
            session: "ws",
            route: s.route,
            url: s.url,
            status: 101,
            ms: now() - s.at,
            bytes: bytesSince(socket, s),
            closeCode: code,
            streams: tally === undefined ? [] : [...tally.streams],
            lines: tally?.lines ?? 0,
            remoteAddress: s.remoteAddress,
          },
          "WebSocket session ended",
        );
      });
    });
  });
}
