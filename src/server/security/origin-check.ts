import type { FastifyRequest } from "fastify";

export type OriginVerdict = "same" | "allowed" | "missing" | "foreign";

/**
 * Cross-site WebSocket hijacking guard. Browsers always send `Origin` on a WebSocket upgrade and a page cannot
 * forge it; a foreign origin is refused whatever credentials ride along. A missing Origin means a non-browser
 * client (curl, ws, a script): it cannot be riding a victim's cookie, so the caller decides (cookie auth alone
 * is refused without a matching Origin, see security-plugin.ts).
 */
export function checkOrigin(request: FastifyRequest, allowOrigins: ReadonlySet<string>): OriginVerdict {
  const origin = request.headers.origin;
  if (origin === undefined) return "missing";
  const own = ownOrigin(request);
  let normalized: string;
  try {
    normalized = new URL(origin).origin;
  } catch {
    return "foreign"; // includes the opaque `null` origin of sandboxed frames and file: pages
  }
  if (normalized === "null") return "foreign";
  if (own !== null && normalized === own) return "same";
  return allowOrigins.has(normalized) ? "allowed" : "foreign";
}

/** This server's origin as the client addressed it (Host; scheme from TLS or a trusted proxy's header). */
export function ownOrigin(request: FastifyRequest): string | null {
  const host = request.host;
  if (host === undefined || host === "") return null;
  try {
    return new URL(`${request.protocol}://${host}`).origin;
  } catch {
    return null;
  }
}

/** Why an origin was refused, with the fix for the common proxy case (the Origin is not secret; capped). */
export function foreignOriginMessage(request: FastifyRequest): string {
  const origin = String(request.headers.origin ?? "").slice(0, 200);
  return (
    `Origin "${origin}" is not this server's (${ownOrigin(request) ?? "unknown"}): behind a TLS proxy use ` +
    "--trust-proxy, or list the origin with --allow-origin"
  );
}
