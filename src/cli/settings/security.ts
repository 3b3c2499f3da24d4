import { isIP } from "node:net";
import { normalizeOrigin } from "../../server/security/security-options.js";
import { tokenProblem } from "../../server/security/token-set.js";
import {
  bool,
  group,
  int,
  list,
  optional,
  path,
  SettingProblem,
  setting,
  text,
  toSecurity,
  toServer,
} from "./setting.js";

const HEADER_NAME = /^[a-z0-9!#$%&'*+.^_`|~-]+$/i;

const token = (t: string): string => {
  const problem = tokenProblem(t);
  if (problem !== null) throw new SettingProblem(problem);
  return t;
};
const origin = (t: string): string => {
  try {
    normalizeOrigin(t);
  } catch (error) {
    throw new SettingProblem((error as Error).message);
  }
  return t;
};
const proxy = (t: string): string => {
  const [address, prefix] = t.split("/");
  const family = isIP(address ?? "");
  const max = family === 6 ? 128 : 32;
  if (family === 0 || (prefix !== undefined && !(/^\d{1,3}$/.test(prefix) && Number(prefix) <= max)))
    throw new SettingProblem(`"${t}" is not an IP address or CIDR range`);
  return t;
};
const TOKEN_SAMPLES: [string, string, string] = [
  "sample-token-000000000001",
  "sample-token-000000000002,sample-token-000000000003",
  "sample-token-000000000004",
];
const masked = (tokens: string[]): string => `**** (${tokens.length} token${tokens.length === 1 ? "" : "s"})`;

/** docs/security.md: tokens (never in a config file: they stay in files or the environment), TLS, origins, limits. */
export const security = group("Security and limits (docs/security.md):", {
  readTokens: setting({
    kind: list({
      arg: "<token>",
      describe: "tokens of 16+ printable characters",
      item: token,
      samples: TOKEN_SAMPLES,
    }),
    default: [],
    flag: "--read-token",
    config: false,
    merge: true,
    secret: true,
    mask: masked,
    help: "a token that may read (repeatable; prefer LIVETRAIL_READ_TOKENS)",
    doc: "Tokens that may read. Not in a config file (use `tokenFile`); flag and environment tokens are all accepted (rotation). Prefer the environment or a token file: command lines show in `ps`.",
  }),
  writeTokens: setting({
    kind: list({
      arg: "<token>",
      describe: "tokens of 16+ printable characters",
      item: token,
      samples: TOKEN_SAMPLES,
    }),
    default: [],
    flag: "--write-token",
    config: false,
    merge: true,
    secret: true,
    mask: masked,
    help: "a token that may also append (repeatable; LIVETRAIL_WRITE_TOKENS)",
    doc: "Tokens that may also append (`POST /api/streams/NAME/entries` exists only with one). Like `readTokens`.",
  }),
  tokenFile: optional<string>({
    kind: path({ describe: "a file path" }),
    flag: "--token-file",
    help: 'file of tokens, one per line: "read TOKEN" or "write TOKEN" (chmod 600)',
    doc: "File of tokens, one per line: `read TOKEN` or `write TOKEN`. Refused when group or others may access it (chmod 600), unless `allowInsecureTokenFile`.",
  }),
  allowInsecureTokenFile: setting({
    kind: bool,
    default: false,
    flag: "--allow-insecure-token-file",
    help: "accept a --token-file that group or others may access (mode & 077), with a warning",
  }),
  allowOrigins: setting({
    kind: list({
      arg: "<url>",
      describe: "origins like https://logs.example.com",
      item: origin,
      samples: ["https://a.example", "https://b.example,https://c.example", "http://d.example:8080"],
    }),
    default: [],
    flag: "--allow-origin",
    help: "another origin allowed to open WebSockets (repeatable)",
    apply: toSecurity("allowOrigins"),
  }),
  allowedHosts: setting({
    kind: list({
      arg: "<name>",
      describe: "host names",
      samples: ["a.example", "b.example,c.example", "d.example"],
    }),
    default: [],
    defaultText: "loopback names on a tokenless loopback server, else any",
    flag: "--allowed-host",
    help: "answer only for this Host name (repeatable; DNS rebinding guard)",
    apply: (t, hosts) => {
      if (hosts.length > 0) t.security.allowedHosts = hosts;
    },
  }),
  allowQueryToken: setting({
    kind: bool,
    default: false,
    flag: "--allow-query-token",
    help: "accept ?token= on WebSocket and SSE URLs (URLs end up in logs)",
    apply: toSecurity("allowQueryToken"),
  }),
  trustProxies: setting({
    kind: list({
      arg: "<address>",
      describe: "IP addresses or CIDR ranges",
      item: proxy,
      samples: ["10.0.0.1", "10.0.0.0/8,::1", "192.168.1.1"],
    }),
    default: [],
    flag: "--trust-proxy",
    help: "reverse proxy IP or CIDR whose X-Forwarded-* are believed (repeatable)",
    apply: toSecurity("trustedProxies"),
  }),
  identityHeader: optional<string>({
    kind: text({
      arg: "<name>",
      describe: "an HTTP header name",
      problem: (t) => (HEADER_NAME.test(t) ? null : `"${t}" is not an HTTP header name`),
      samples: ["x-user-a", "x-user-b", "x-user-c"],
    }),
    flag: "--identity-header",
    help: "header a trusted proxy sets to the signed-in user (grants read)",
    apply: toSecurity("identityHeader"),
  }),
  tlsCert: optional<string>({
    kind: path({ describe: "a PEM file" }),
    flag: "--tls-cert",
    help: "PEM certificate (chain): serve HTTPS and WSS",
  }),
  tlsKey: optional<string>({
    kind: path({ describe: "a PEM file" }),
    flag: "--tls-key",
    help: "PEM private key for --tls-cert",
    doc: "PEM private key for `tlsCert` (the key stays in its file; only the path is a setting).",
  }),
  tlsSelfSigned: setting({
    kind: bool,
    default: false,
    flag: "--tls-self-signed",
    help: "serve HTTPS with a generated self-signed certificate (quick start)",
  }),
  sessionTtl: setting({
    kind: int({ max: 10 ** 10, unit: "seconds" }),
    default: 43_200,
    flag: "--session-ttl",
    help: "sign-in session lifetime in seconds",
    apply: (t, seconds) => {
      t.security.sessionTtlMs = seconds * 1000;
    },
  }),
  rateLimit: setting({
    kind: int(),
    default: 1_200,
    flag: "--rate-limit",
    help: "HTTP requests per minute per client address",
    apply: toSecurity("httpPerMinute"),
  }),
  upgradeRateLimit: setting({
    kind: int(),
    default: 120,
    flag: "--upgrade-rate-limit",
    help: "WebSocket upgrades per minute per client address",
    apply: toSecurity("upgradesPerMinute"),
  }),
  loginRateLimit: setting({
    kind: int(),
    default: 20,
    flag: "--login-rate-limit",
    help: "sign-in attempts per minute per client address",
    apply: toSecurity("loginPerMinute"),
  }),
  limitLoopback: setting({
    kind: bool,
    default: false,
    flag: "--limit-loopback",
    help: "apply per-address limits to 127.0.0.1/::1 clients too",
    apply: toSecurity("limitLoopback"),
  }),
  maxConnections: setting({
    kind: int(),
    default: 20_000,
    flag: "--max-connections",
    help: "WebSocket + SSE connections in total",
    apply: toSecurity("maxConnections"),
  }),
  maxConnectionsPerAddress: setting({
    kind: int(),
    default: 64,
    flag: "--max-connections-per-address",
    help: "WebSocket + SSE connections per address",
    apply: toSecurity("maxConnectionsPerAddress"),
  }),
  maxMessagesPerSecond: setting({
    kind: int(),
    default: 50,
    flag: "--max-messages-per-second",
    help: "WebSocket messages per second per client",
    apply: toSecurity("messagesPerSecond"),
  }),
  maxMessageBytes: setting({
    kind: int(),
    default: 64 * 1024,
    flag: "--max-message-bytes",
    help: "largest WebSocket message from a client",
    apply: toServer("maxMessageBytes"),
  }),
  maxSubscriptions: setting({
    kind: int(),
    default: 32,
    flag: "--max-subscriptions",
    help: "streams per WebSocket",
    apply: toServer("maxSubscriptions"),
  }),
  maxSearchResults: setting({
    kind: int(),
    default: 5_000,
    flag: "--max-search-results",
    help: "largest search limit",
    apply: toSecurity("maxSearchResults"),
  }),
  maxBodyBytes: setting({
    kind: int(),
    default: 1024 * 1024,
    flag: "--max-body-bytes",
    help: "largest append request body",
    apply: toSecurity("maxBodyBytes"),
  }),
});
