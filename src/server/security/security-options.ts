import { BlockList, isIP } from "node:net";
import { TlsMaterial, type TlsOptions } from "./tls-material.js";
import { TokenSet } from "./token-set.js";

/**
 * Everything docs/security.md describes, as library options. With nothing set the server is open (no
 * authentication), still sends security headers, checks WebSocket origins and applies the limits below.
 */
export interface SecurityOptions {
  /** Tokens that may read (dashboard, API, WebSocket, SSE). Several at once for rotation. */
  readTokens?: string[];
  /** Tokens that may also write through `POST /api/streams/:name/entries` (the route exists only with one). */
  writeTokens?: string[];
  /**
   * Reverse proxies (IP addresses or CIDR ranges) whose X-Forwarded-For/-Proto/-Host headers are believed, and
   * whose identity header (below) is trusted. Connections from anywhere else cannot use those headers.
   */
  trustedProxies?: string[];
  /** Header a trusted proxy sets to the signed-in user (e.g. `x-forwarded-user`); grants read access. */
  identityHeader?: string;
  /** Accept `?token=` on WebSocket and SSE URLs (off by default: URLs end up in logs and histories). */
  allowQueryToken?: boolean;
  /** Extra origins (`https://host[:port]`) allowed to open WebSockets besides the server's own. */
  allowOrigins?: string[];
  /**
   * Requests whose Host (name, without the port) is not listed get 421: guards a tokenless server against DNS
   * rebinding. Unset on a tokenless server bound to loopback: 127.0.0.1, localhost, [::1] and the bound address.
   */
  allowedHosts?: string[];
  /** Session cookie lifetime (ms). Default 12 h. */
  sessionTtlMs?: number;
  /** Signed-in sessions kept at once. Default 10,000. */
  maxSessions?: number;
  /** HTTPS and WSS: PEM certificate and key, or a generated self-signed certificate. */
  tls?: TlsOptions;
  /** HTTP requests per minute per client address (429). Default 1,200. */
  httpPerMinute?: number;
  /** WebSocket upgrades per minute per client address (429). Default 120. */
  upgradesPerMinute?: number;
  /** Sign-in attempts per minute per client address, loopback included (429). Default 20. */
  loginPerMinute?: number;
  /** The window of the three rate limits above (ms). Default 60,000. */
  rateWindowMs?: number;
  /** Apply the per-address limits to loopback clients too. Default false (see docs/security.md). */
  limitLoopback?: boolean;
  /** Streaming connections (WebSocket and SSE) in total (503). Default 20,000. */
  maxConnections?: number;
  /** Streaming connections per client address (429). Default 64. */
  maxConnectionsPerAddress?: number;
  /** Messages a WebSocket client may send per second (burst: twice that); more closes it with 4029. Default 50. */
  messagesPerSecond?: number;
  /** Largest `limit` a search may ask for (400 above it). Default 5,000. */
  maxSearchResults?: number;
  /** Largest append request body in bytes (413). Default 1 MiB. */
  maxBodyBytes?: number;
  /** Entries per append request (400 above). Default 1,000. */
  maxEntriesPerRequest?: number;
}

export interface ResolvedSecurity {
  tokens: TokenSet;
  /** Whether requests must authenticate: any token or an identity header is configured. */
  authRequired: boolean;
  trustedProxies: BlockList | null;
  trustedProxyList: string[];
  identityHeader: string | null;
  allowQueryToken: boolean;
  allowOrigins: Set<string>;
  allowedHosts: Set<string> | null;
  sessionTtlMs: number;
  maxSessions: number;
  tls: TlsMaterial | null;
  httpPerMinute: number;
  upgradesPerMinute: number;
  loginPerMinute: number;
  rateWindowMs: number;
  limitLoopback: boolean;
  maxConnections: number;
  maxConnectionsPerAddress: number;
  messagesPerSecond: number;
  maxSearchResults: number;
  maxBodyBytes: number;
  maxEntriesPerRequest: number;
}

const LIMIT_DEFAULTS = {
  sessionTtlMs: 12 * 60 * 60 * 1000,
  maxSessions: 10_000,
  httpPerMinute: 1_200,
  upgradesPerMinute: 120,
  loginPerMinute: 20,
  rateWindowMs: 60_000,
  maxConnections: 20_000,
  maxConnectionsPerAddress: 64,
  messagesPerSecond: 50,
  maxSearchResults: 5_000,
  maxBodyBytes: 1024 * 1024,
  maxEntriesPerRequest: 1_000,
} as const;

const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/i;

/**
 * Validates and fills defaults; throws TypeError with a clear message (never naming a token). `bindHost` is the
 * address the server listens on (it decides the default allowed hosts).
 */
export function resolveSecurity(input: SecurityOptions = {}, bindHost = "127.0.0.1"): ResolvedSecurity {
  const tokens = new TokenSet(input.readTokens ?? [], input.writeTokens ?? []);
  const limits = { ...LIMIT_DEFAULTS };
  for (const key of Object.keys(LIMIT_DEFAULTS) as (keyof typeof LIMIT_DEFAULTS)[]) {
    const value = input[key];
    if (value === undefined) continue;
    if (!Number.isSafeInteger(value) || value < 1) {
      throw new TypeError(`option ${key} must be an integer >= 1 (got ${String(value)})`);
    }
    limits[key] = value as never;
  }

  const trustedProxyList = input.trustedProxies ?? [];
  const trustedProxies = trustedProxyList.length > 0 ? new BlockList() : null;
  for (const entry of trustedProxyList) addToBlockList(trustedProxies as BlockList, entry);

  let identityHeader: string | null = null;
  if (input.identityHeader !== undefined) {
    if (!HEADER_NAME.test(input.identityHeader)) {
      throw new TypeError(`invalid identity header name "${input.identityHeader}"`);
    }
    if (trustedProxies === null) {
      throw new TypeError("an identity header needs trusted proxies: only they may set it");
    }
    identityHeader = input.identityHeader.toLowerCase();
  }

  const allowOrigins = new Set<string>();
  for (const origin of input.allowOrigins ?? []) allowOrigins.add(normalizeOrigin(origin));

  const authRequired = tokens.size > 0 || identityHeader !== null;
  const allowedHosts =
    input.allowedHosts !== undefined && input.allowedHosts.length > 0
      ? new Set(input.allowedHosts.map(hostName))
      : authRequired
        ? null
        : loopbackHosts(bindHost);

  return {
    tokens,
    authRequired,
    trustedProxies,
    trustedProxyList,
    identityHeader,
    allowQueryToken: input.allowQueryToken ?? false,
    allowOrigins,
    allowedHosts,
    tls: input.tls === undefined ? null : new TlsMaterial(input.tls),
    limitLoopback: input.limitLoopback ?? false,
    ...limits,
  };
}

/**
 * Without credentials any page the browser loads can reach a loopback server under a name that rebinds to
 * 127.0.0.1, and then it is "same origin"; only the Host header tells. So such a server answers only to its
 * loopback names (as Fastify's request.hostname gives them: no port, IPv6 in brackets). Other binds: null, no check.
 */
function loopbackHosts(bindHost: string): Set<string> | null {
  const host = bindHost
    .trim()
    .toLowerCase()
    .replace(/^\[(.*)\]$/, "$1");
  const loopback = host === "localhost" || host === "::1" || (isIP(host) === 4 && host.startsWith("127."));
  if (!loopback) return null;
  return new Set(["127.0.0.1", "localhost", "[::1]", isIP(host) === 6 ? `[${host}]` : host]);
}

/** `scheme://host[:port]` lower-cased, default ports dropped: the form browsers send in `Origin`. */
export function normalizeOrigin(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new TypeError(`invalid origin "${text}": expected e.g. https://logs.example.com`);
  }
  if ((url.protocol !== "http:" && url.protocol !== "https:") || url.pathname.length > 1 || url.search) {
    throw new TypeError(`invalid origin "${text}": expected scheme://host[:port] with no path`);
  }
  return url.origin;
}

function addToBlockList(list: BlockList, entry: string): void {
  const [address, prefixText] = entry.trim().split("/");
  const family = isIP(address ?? "");
  if (family === 0) throw new TypeError(`invalid trusted proxy "${entry}": expected an IP address or CIDR`);
  const type = family === 6 ? "ipv6" : "ipv4";
  if (prefixText === undefined) {
    list.addAddress(address as string, type);
    return;
  }
  const prefix = Number(prefixText);
  if (!/^\d{1,3}$/.test(prefixText) || prefix > (family === 6 ? 128 : 32)) {
    throw new TypeError(`invalid trusted proxy "${entry}": bad prefix length`);
  }
  list.addSubnet(address as string, prefix, type);
}

/** A host name as the request's `hostname` spells it: lower case, an IPv6 address in brackets. */
function hostName(host: string): string {
  const h = host.trim().toLowerCase();
  return isIP(h) === 6 ? `[${h}]` : h;
}
