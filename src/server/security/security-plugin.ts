import { createHash } from "node:crypto";
import fastifyCookie from "@fastify/cookie";
import fastifyRateLimit from "@fastify/rate-limit";
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { ServerContext } from "../context.js";
import { registerAppendRoute } from "../routes/append.js";
import { sendError } from "../routes/http-errors.js";
import { clientAddress, isLoopback } from "./client-address.js";
import { ConnectionCaps } from "./connection-caps.js";
import { authenticate, sessionCookieName } from "./credentials.js";
import { LOGIN_PATHS, registerLoginRoutes } from "./login-routes.js";
import { limitMessageRate } from "./message-rate.js";
import { checkOrigin, foreignOriginMessage } from "./origin-check.js";
import { registerSecurityHeaders } from "./security-headers.js";
import type { ResolvedSecurity } from "./security-options.js";
import { type Session, SessionStore } from "./session-store.js";

const SSE_ROUTE = "/api/streams/:name/events";
const SEARCH_ROUTE = "/api/streams/:name/search";
/** The API's default search page (routes/api.ts): lowered to the cap when the cap is smaller. */
const DEFAULT_SEARCH_LIMIT = 200;
const PUBLIC_PATHS = new Set(["/healthz"]);

/**
 * Everything between the network and the routes: security headers, rate limits, the WebSocket origin check,
 * authentication, connection caps, per-socket message rate, search caps, the sign-in and append routes.
 * Registered on the root instance before any route so its hooks see every request, upgrades included.
 */
export async function registerSecurity(app: FastifyInstance, ctx: ServerContext): Promise<void> {
  const security = ctx.options.security;
  const sessions = new SessionStore(security.sessionTtlMs, security.maxSessions);
  const caps = new ConnectionCaps(
    security.maxConnections,
    security.maxConnectionsPerAddress,
    security.limitLoopback,
  );

  await app.register(fastifyCookie);
  await registerSecurityHeaders(app, security);
  await app.register(fastifyRateLimit, { global: false });
  const httpLimit = app.createRateLimit({ max: security.httpPerMinute, timeWindow: security.rateWindowMs });
  const upgradeLimit = app.createRateLimit({
    max: security.upgradesPerMinute,
    timeWindow: security.rateWindowMs,
  });
  const loginLimit = app.createRateLimit({ max: security.loginPerMinute, timeWindow: security.rateWindowMs });
  app.decorateRequest("principal", null);
  app.decorateRequest("searchClient", null);
  // Which token started each session: a signed-in browser's searches count as that token's (see searchClientOf).
  const sessionTokens = new WeakMap<Session, string>();
  app.addHook("onClose", async () => sessions.close());

  const loginPage = security.tokens.size > 0;
  // Route patterns, not raw URLs: no path trick (`/healthz/../api`) can make a protected route look public.
  const isPublic = (route: string | undefined): boolean =>
    route !== undefined && (PUBLIC_PATHS.has(route) || (loginPage && LOGIN_PATHS.has(route)));

  const unauthorized = (request: FastifyRequest, reply: FastifyReply, presented: boolean): FastifyReply => {
    const path = request.url.split("?")[0] ?? "/";
    const wantsPage =
      loginPage &&
      !request.ws &&
      request.method === "GET" &&
      !path.startsWith("/api/") &&
      (request.headers.accept ?? "").includes("text/html");
    if (wantsPage) return reply.redirect(`/login?next=${encodeURIComponent(request.url)}`, 302);
    reply.header(
      "www-authenticate",
      presented ? 'Bearer realm="livetrail", error="invalid_token"' : 'Bearer realm="livetrail"',
    );
    return sendError(
      reply,
      "unauthorized",
      presented ? "the credentials are not valid" : "authentication required",
    );
  };

  app.addHook("onRequest", async (request, reply) => {
    const address = clientAddress(request);
    const route = request.routeOptions.url;
    const sse = route === SSE_ROUTE;

    if (security.limitLoopback || !isLoopback(address)) {
      const verdict = await (request.ws ? upgradeLimit : httpLimit)(request);
      if (!verdict.isAllowed && verdict.isExceeded) {
        reply.header("retry-after", String(verdict.ttlInSeconds));
        return sendError(
          reply,
          "rate_limited",
          `too many ${request.ws ? "WebSocket upgrades" : "requests"}; retry later`,
        );
      }
    }

    if (security.allowedHosts !== null && !security.allowedHosts.has(request.hostname.toLowerCase())) {
      return sendError(
        reply,
        "unknown_host",
        "this server does not answer for that Host (see --allowed-host)",
      );
    }

    const origin = request.ws ? checkOrigin(request, security.allowOrigins) : null;
    if (origin === "foreign") return sendError(reply, "bad_origin", foreignOriginMessage(request));

    if (security.authRequired && !isPublic(route)) {
      const auth = authenticate(request, security, sessions, request.ws || sse);
      if (!auth.ok) return unauthorized(request, reply, auth.presented);
      // A cookie is sent by the browser on its own; only a matching Origin proves the page asking is ours.
      if (auth.principal.via === "cookie" && request.ws && origin === "missing") {
        return sendError(reply, "bad_origin", "a session cookie needs the page's Origin header");
      }
      request.principal = auth.principal;
    } else if (security.authRequired) {
      // A public route still learns who a caller with valid credentials is (/healthz shows them more).
      const auth = authenticate(request, security, sessions, false);
      if (auth.ok) request.principal = auth.principal;
    }

    if (route === SEARCH_ROUTE) {
      request.searchClient = searchClientOf(request, address, security, sessions, sessionTokens);
    }

    if (request.ws || sse) {
      const cap = caps.acquire(address);
      if (!cap.ok) {
        return cap.reason === "total"
          ? sendError(reply, "server_full", "too many open connections; retry later")
          : sendError(reply, "too_many_connections", "too many open connections from this address");
      }
      if (request.ws) request.raw.socket.once("close", cap.release);
      else reply.raw.once("close", cap.release);
    }
  });

  app.addHook("preValidation", async (request, reply) => {
    if (request.routeOptions.url !== SEARCH_ROUTE) return;
    const query = request.query as Record<string, string | undefined>;
    if (query.limit === undefined) {
      if (security.maxSearchResults < DEFAULT_SEARCH_LIMIT) query.limit = String(security.maxSearchResults);
    } else if (/^\d+$/.test(query.limit) && Number(query.limit) > security.maxSearchResults) {
      return sendError(reply, "limit_too_large", `limit is at most ${security.maxSearchResults}`);
    }
  });

  app.websocketServer.on("connection", (ws) => limitMessageRate(ws, security.messagesPerSecond));

  if (loginPage) {
    await registerLoginRoutes(
      app,
      security,
      sessions,
      async (request) => {
        const verdict = await loginLimit(request);
        return verdict.isAllowed || !verdict.isExceeded
          ? { allowed: true, retryAfterS: 0 }
          : { allowed: false, retryAfterS: verdict.ttlInSeconds };
      },
      (sessionId, token) => {
        const session = sessions.get(sessionId);
        if (session !== null) sessionTokens.set(session, tokenKey(token));
      },
    );
  }
  if (security.tokens.hasWriteTokens) registerAppendRoute(app, ctx, security);
}

/**
 * Who a search counts against (routes/api.ts runs at most one search per client at a time): with
 * authentication on, the credential's owner: a token (bearer or `?token=`; a session counts as the token that
 * signed it in, so signing in again makes no new client), or the user a trusted proxy names. Without
 * authentication, the client address; loopback addresses, which do not tell users apart, are not limited unless
 * `limitLoopback` is set (as for the other per-address limits). Null: no per-client limit. Keys hold digests of
 * tokens and session ids, never the secrets themselves.
 */
function searchClientOf(
  request: FastifyRequest,
  address: string,
  security: ResolvedSecurity,
  sessions: SessionStore,
  sessionTokens: WeakMap<Session, string>,
): string | null {
  const principal = request.principal;
  if (principal !== null) {
    switch (principal.via) {
      case "bearer": {
        const token = /^Bearer[ ]+(\S+)[ ]*$/i.exec(request.headers.authorization ?? "")?.[1];
        if (token !== undefined) return tokenKey(token);
        break;
      }
      case "query": {
        const token = (request.query as Record<string, unknown> | undefined)?.token;
        if (typeof token === "string") return tokenKey(token);
        break;
      }
      case "cookie": {
        // The cookie authenticate() used: the __Host- one first.
        const id = request.cookies[sessionCookieName(true)] ?? request.cookies[sessionCookieName(false)];
        if (id === undefined) break;
        const session = sessions.get(id);
        const owner = session === null ? undefined : sessionTokens.get(session);
        return owner ?? `session:${digest(id)}`;
      }
      case "proxy": {
        const user = security.identityHeader === null ? undefined : request.headers[security.identityHeader];
        if (typeof user === "string") return `user:${user.trim()}`;
        break;
      }
    }
    return `address:${address}`;
  }
  if (!security.limitLoopback && isLoopback(address)) return null;
  return `address:${address}`;
}

function tokenKey(token: string): string {
  return `token:${digest(token)}`;
}

function digest(text: string): string {
  return createHash("sha256").update(text, "utf8").digest("base64url");
}

declare module "fastify" {
  interface FastifyRequest {
    /** Search requests only: the client their per-client search limit counts against, or null (none). */
    searchClient: string | null;
  }
}
