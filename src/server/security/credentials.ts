import type { FastifyRequest } from "fastify";
import { peerAddress } from "./client-address.js";
import type { ResolvedSecurity } from "./security-options.js";
import type { SessionStore } from "./session-store.js";
import type { Scope } from "./token-set.js";

/** Who a request is, as far as livetrail cares: what it may do and how it proved it. */
export interface Principal {
  scope: Scope;
  via: "bearer" | "cookie" | "query" | "proxy";
}

/** The session cookie: `__Host-` over HTTPS pins it to this host, path `/`, Secure (browsers enforce it). */
export function sessionCookieName(secure: boolean): string {
  return secure ? "__Host-livetrail-session" : "livetrail-session";
}

export type Authentication = { ok: true; principal: Principal } | { ok: false; presented: boolean };

/**
 * Checks, in order: an `Authorization: Bearer` header, the session cookie, `?token=` (only when enabled and
 * `streaming`), then a trusted proxy's identity header. A credential that is presented and wrong fails the
 * request even if another one would pass: a client sending a bad token should hear about it.
 */
export function authenticate(
  request: FastifyRequest,
  security: ResolvedSecurity,
  sessions: SessionStore,
  streaming: boolean,
): Authentication {
  const header = request.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer[ ]+(\S+)[ ]*$/i.exec(header);
    const scope = match === null ? null : security.tokens.check(match[1] as string);
    return scope === null
      ? { ok: false, presented: true }
      : { ok: true, principal: { scope, via: "bearer" } };
  }
  const cookie =
    request.cookies[sessionCookieName(true)] ?? request.cookies[sessionCookieName(false)] ?? undefined;
  if (cookie !== undefined) {
    return sessions.get(cookie) === null
      ? { ok: false, presented: true }
      : { ok: true, principal: { scope: "read", via: "cookie" } };
  }
  if (streaming && security.allowQueryToken) {
    const token = (request.query as Record<string, unknown> | undefined)?.token;
    if (typeof token === "string") {
      const scope = security.tokens.check(token);
      return scope === null
        ? { ok: false, presented: true }
        : { ok: true, principal: { scope, via: "query" } };
    }
  }
  if (security.identityHeader !== null && isTrustedProxy(request, security)) {
    const identity = request.headers[security.identityHeader];
    if (typeof identity === "string" && identity.trim() !== "" && identity.length <= 256) {
      return { ok: true, principal: { scope: "read", via: "proxy" } };
    }
  }
  return { ok: false, presented: false };
}

/** Whether the TCP peer itself (never a forwarded header) is one of the configured proxies. */
export function isTrustedProxy(request: FastifyRequest, security: ResolvedSecurity): boolean {
  const list = security.trustedProxies;
  if (list === null) return false;
  const peer = peerAddress(request);
  if (peer === null) return false;
  return list.check(peer.address, peer.family);
}

declare module "fastify" {
  interface FastifyRequest {
    /** Set by the security gate when authentication is on and the request passed it; else null. */
    principal: Principal | null;
  }
}
