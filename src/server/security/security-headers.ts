import helmet from "@fastify/helmet";
import type { FastifyInstance } from "fastify";
import type { ResolvedSecurity } from "./security-options.js";

/**
 * Headers on every response: a Content-Security-Policy with no inline script or style and no framing, nosniff,
 * no referrer. `connect-src 'self'` covers the same-origin WebSocket (ws:/wss: under CSP level 3). HSTS only
 * with a real certificate: pinning a self-signed localhost to HTTPS for months would outlive the quick start.
 */
export async function registerSecurityHeaders(
  app: FastifyInstance,
  security: ResolvedSecurity,
): Promise<void> {
  await app.register(helmet, {
    global: true,
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'self'"],
        scriptSrc: ["'self'"],
        styleSrc: ["'self'"],
        imgSrc: ["'self'", "data:", "blob:"],
        fontSrc: ["'self'"],
        connectSrc: ["'self'"],
        objectSrc: ["'none'"],
        baseUri: ["'none'"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
      },
    },
    frameguard: { action: "deny" },
    hsts:
      security.tls !== null && !security.tls.selfSigned
        ? { maxAge: 180 * 24 * 60 * 60, includeSubDomains: false }
        : false,
    referrerPolicy: { policy: "no-referrer" },
  });
}
