import type { FastifyServerOptions } from "fastify";
import type { ResolvedSecurity } from "./security-options.js";

/**
 * The Fastify constructor settings security needs: HTTPS (the certificate is installed by listen() through
 * setSecureContext, so a self-signed one can be generated asynchronously), which proxies to believe, and a
 * request log serializer that never writes a `?token=` value.
 */
export function securityServerOptions(
  security: ResolvedSecurity,
  logger: boolean | { level: string },
): Pick<FastifyServerOptions, "logger" | "trustProxy"> & { https?: Record<string, never> } {
  const options: Pick<FastifyServerOptions, "logger" | "trustProxy"> & { https?: Record<string, never> } = {
    logger:
      logger === false
        ? false
        : {
            ...(logger === true ? {} : logger),
            serializers: {
              req: (request: { method: string; url: string; hostname?: string; ip?: string }) => ({
                method: request.method,
                url: redactUrl(request.url),
                host: request.hostname,
                remoteAddress: request.ip,
              }),
            },
          },
  };
  if (security.tls !== null) options.https = {};
  if (security.trustedProxyList.length > 0) options.trustProxy = security.trustedProxyList;
  return options;
}

/** The URL with every `token=` query value replaced: URLs are logged, tokens must never be. */
export function redactUrl(url: string): string {
  return url.replace(/([?&]token=)[^&#]*/gi, "$1[redacted]");
}
