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

/**
 * The URL with its whole query string replaced when any key in it names a token: URLs are logged, tokens must
 * never be. Keys are compared after percent-decoding (`%74oken`), with `;` as a separator too, so spelling
 * variants the server does not even accept are still kept out of the log.
 */
export function redactUrl(url: string): string {
  const mark = url.indexOf("?");
  if (mark === -1) return url;
  return queryNamesToken(url.slice(mark + 1)) ? `${url.slice(0, mark)}?[redacted]` : url;
}

const MAX_DECODES = 4;

function queryNamesToken(query: string): boolean {
  let text = query;
  for (let round = 0; round <= MAX_DECODES; round++) {
    for (const pair of text.split(/[&;]/)) {
      if ((pair.split("=", 1)[0] as string).toLowerCase().includes("token")) return true;
    }
    const decoded = text.replace(/%([0-9a-f]{2})/gi, (_, hex: string) =>
      String.fromCharCode(Number.parseInt(hex, 16)),
    );
    if (decoded === text) return false;
    text = decoded;
  }
  return true; // still encoded after several rounds: assume the worst
}
