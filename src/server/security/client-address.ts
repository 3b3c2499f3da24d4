import type { FastifyRequest } from "fastify";

/** The TCP peer of a request, IPv4-mapped IPv6 (`::ffff:1.2.3.4`) unwrapped so IPv4 rules match it. */
export function peerAddress(request: FastifyRequest): { address: string; family: "ipv4" | "ipv6" } | null {
  const raw = request.raw.socket?.remoteAddress;
  if (raw === undefined) return null;
  return normalizeAddress(raw);
}

export function normalizeAddress(raw: string): { address: string; family: "ipv4" | "ipv6" } {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(raw);
  if (mapped !== null) return { address: mapped[1] as string, family: "ipv4" };
  return { address: raw, family: raw.includes(":") ? "ipv6" : "ipv4" };
}

/**
 * The client address the per-address limits count: `request.ip` (the forwarded client when the peer is a
 * trusted proxy, else the peer). IPv4-mapped forms are unwrapped so one client is one key.
 */
export function clientAddress(request: FastifyRequest): string {
  return normalizeAddress(request.ip).address;
}

export function isLoopback(address: string): boolean {
  return address === "::1" || /^127\./.test(address);
}
