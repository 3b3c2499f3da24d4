import { open, readFile } from "node:fs/promises";
import type { Command } from "commander";
import type { ServerOptions } from "../server/options.js";
import type { SecurityOptions } from "../server/security/security-options.js";
import { parseTokenFile, splitTokenList } from "../server/security/token-set.js";
import { CliError } from "./cli-error.js";

export interface SecurityFlags {
  readToken?: string[];
  writeToken?: string[];
  tokenFile?: string;
  allowInsecureTokenFile?: boolean;
  allowOrigin?: string[];
  allowedHost?: string[];
  allowQueryToken?: boolean;
  trustProxy?: string[];
  identityHeader?: string;
  tlsCert?: string;
  tlsKey?: string;
  tlsSelfSigned?: boolean;
  sessionTtl?: string;
  rateLimit?: string;
  upgradeRateLimit?: string;
  loginRateLimit?: string;
  limitLoopback?: boolean;
  maxConnections?: string;
  maxConnectionsPerAddress?: string;
  maxMessagesPerSecond?: string;
  maxMessageBytes?: string;
  maxSubscriptions?: string;
  maxSearchResults?: string;
  maxBodyBytes?: string;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** The `serve` flags of docs/security.md (tokens, TLS, origins, proxies, limits). */
export function addSecurityFlags(command: Command): Command {
  return command
    .optionsGroup("Security and limits (docs/security.md):")
    .option(
      "--read-token <token>",
      "a token that may read (repeatable; prefer LIVETRAIL_READ_TOKENS)",
      collect,
    )
    .option(
      "--write-token <token>",
      "a token that may also append (repeatable; LIVETRAIL_WRITE_TOKENS)",
      collect,
    )
    .option("--token-file <path>", 'file of tokens, one per line: "read TOKEN" or "write TOKEN" (chmod 600)')
    .option(
      "--allow-insecure-token-file",
      "accept a --token-file that group or others may access (mode & 077), with a warning",
    )
    .option("--allow-origin <url>", "another origin allowed to open WebSockets (repeatable)", collect)
    .option(
      "--allowed-host <name>",
      "answer only for this Host name (repeatable; DNS rebinding guard)",
      collect,
    )
    .option("--allow-query-token", "accept ?token= on WebSocket and SSE URLs (URLs end up in logs)")
    .option(
      "--trust-proxy <address>",
      "reverse proxy IP or CIDR whose X-Forwarded-* are believed (repeatable)",
      collect,
    )
    .option("--identity-header <name>", "header a trusted proxy sets to the signed-in user (grants read)")
    .option("--tls-cert <path>", "PEM certificate (chain): serve HTTPS and WSS")
    .option("--tls-key <path>", "PEM private key for --tls-cert")
    .option("--tls-self-signed", "serve HTTPS with a generated self-signed certificate (quick start)")
    .option("--session-ttl <seconds>", "sign-in session lifetime (default 43200)")
    .option("--rate-limit <n>", "HTTP requests per minute per client address (default 1200)")
    .option("--upgrade-rate-limit <n>", "WebSocket upgrades per minute per client address (default 120)")
    .option("--login-rate-limit <n>", "sign-in attempts per minute per client address (default 20)")
    .option("--limit-loopback", "apply per-address limits to 127.0.0.1/::1 clients too")
    .option("--max-connections <n>", "WebSocket + SSE connections in total (default 20000)")
    .option("--max-connections-per-address <n>", "WebSocket + SSE connections per address (default 64)")
    .option("--max-messages-per-second <n>", "WebSocket messages per second per client (default 50)")
    .option("--max-message-bytes <n>", "largest WebSocket message from a client (default 65536)")
    .option("--max-subscriptions <n>", "streams per WebSocket (default 32)")
    .option("--max-search-results <n>", "largest search limit (default 5000)")
    .option("--max-body-bytes <n>", "largest append request body (default 1048576)");
}

export interface TokenFilePolicy {
  /**
   * Refuse a token file that group or others may access (CliError, exit 2) unless --allow-insecure-token-file is
   * given; `serve` sets this. Without it such a file is only warned about.
   */
  refuseInsecure?: boolean;
  /** Where the warning goes; default stderr. */
  warn?: (message: string) => void;
}

/** The security options (and the two limits that are plain server options) from flags and environment. */
export async function securityFromFlags(
  flags: SecurityFlags,
  env: NodeJS.ProcessEnv = process.env,
  tokenFilePolicy: TokenFilePolicy = {},
): Promise<Pick<ServerOptions, "security" | "maxMessageBytes" | "maxSubscriptions">> {
  const read = [...(flags.readToken ?? []), ...splitTokenList(env.LIVETRAIL_READ_TOKENS)];
  const write = [...(flags.writeToken ?? []), ...splitTokenList(env.LIVETRAIL_WRITE_TOKENS)];
  if (flags.tokenFile !== undefined) {
    const text = await readTokenFile(flags.tokenFile, {
      refuseInsecure: (tokenFilePolicy.refuseInsecure ?? false) && flags.allowInsecureTokenFile !== true,
      warn: tokenFilePolicy.warn ?? ((message) => process.stderr.write(`livetrail: warning: ${message}\n`)),
    });
    try {
      const fromFile = parseTokenFile(text);
      read.push(...fromFile.read);
      write.push(...fromFile.write);
    } catch (error) {
      throw new CliError(`--token-file ${flags.tokenFile}: ${(error as Error).message}`, 2);
    }
  }

  const security: SecurityOptions = { readTokens: read, writeTokens: write };
  if (flags.allowOrigin) security.allowOrigins = flags.allowOrigin;
  if (flags.allowedHost) security.allowedHosts = flags.allowedHost;
  if (flags.allowQueryToken) security.allowQueryToken = true;
  if (flags.trustProxy) security.trustedProxies = flags.trustProxy;
  if (flags.identityHeader !== undefined) security.identityHeader = flags.identityHeader;
  if (flags.limitLoopback) security.limitLoopback = true;

  if (flags.tlsSelfSigned && (flags.tlsCert !== undefined || flags.tlsKey !== undefined)) {
    throw new CliError("--tls-self-signed cannot be combined with --tls-cert/--tls-key", 2);
  }
  if ((flags.tlsCert === undefined) !== (flags.tlsKey === undefined)) {
    throw new CliError("--tls-cert and --tls-key go together", 2);
  }
  if (flags.tlsSelfSigned) security.tls = { selfSigned: true };
  if (flags.tlsCert !== undefined && flags.tlsKey !== undefined) {
    security.tls = {
      cert: await readPem(flags.tlsCert, "--tls-cert"),
      key: await readPem(flags.tlsKey, "--tls-key"),
    };
  }

  const int = (text: string | undefined, flag: string): number | undefined => {
    if (text === undefined) return undefined;
    if (!/^\d{1,10}$/.test(text) || Number(text) < 1)
      throw new CliError(`${flag} needs a whole number >= 1, got "${text}"`, 2);
    return Number(text);
  };
  const ttl = int(flags.sessionTtl, "--session-ttl");
  if (ttl !== undefined) security.sessionTtlMs = ttl * 1000;
  const limits: [keyof SecurityOptions, string | undefined, string][] = [
    ["httpPerMinute", flags.rateLimit, "--rate-limit"],
    ["upgradesPerMinute", flags.upgradeRateLimit, "--upgrade-rate-limit"],
    ["loginPerMinute", flags.loginRateLimit, "--login-rate-limit"],
    ["maxConnections", flags.maxConnections, "--max-connections"],
    ["maxConnectionsPerAddress", flags.maxConnectionsPerAddress, "--max-connections-per-address"],
    ["messagesPerSecond", flags.maxMessagesPerSecond, "--max-messages-per-second"],
    ["maxSearchResults", flags.maxSearchResults, "--max-search-results"],
    ["maxBodyBytes", flags.maxBodyBytes, "--max-body-bytes"],
  ];
  for (const [key, text, flag] of limits) {
    const value = int(text, flag);
    if (value !== undefined) (security as Record<string, unknown>)[key] = value;
  }

  const out: Pick<ServerOptions, "security" | "maxMessageBytes" | "maxSubscriptions"> = { security };
  const maxMessageBytes = int(flags.maxMessageBytes, "--max-message-bytes");
  if (maxMessageBytes !== undefined) out.maxMessageBytes = maxMessageBytes;
  const maxSubscriptions = int(flags.maxSubscriptions, "--max-subscriptions");
  if (maxSubscriptions !== undefined) out.maxSubscriptions = maxSubscriptions;
  return out;
}

/**
 * Reads a token file, checking its mode on the descriptor it is read from (no window between check and read). A
 * regular file that group or others may access (mode & 0o077: read, but also write, which lets them add a token)
 * is refused or warned about. Other kinds of file (a pipe from `--token-file <(pass show ...)`) are not checked.
 */
async function readTokenFile(path: string, policy: Required<TokenFilePolicy>): Promise<string> {
  const unreadable = (error: unknown) =>
    new CliError(`--token-file ${path}: ${(error as NodeJS.ErrnoException).code ?? "unreadable"}`, 1);
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, "r");
  } catch (error) {
    throw unreadable(error);
  }
  try {
    const info = await handle.stat();
    if (info.isFile() && (info.mode & 0o077) !== 0) {
      const mode = (info.mode & 0o777).toString(8).padStart(4, "0");
      const problem = `--token-file ${path} is open to group or others (mode ${mode})`;
      if (policy.refuseInsecure) {
        throw new CliError(
          `${problem}: anyone who can read it can use its tokens; chmod 600 it, or pass --allow-insecure-token-file`,
          2,
        );
      }
      policy.warn(`${problem}: anyone who can read it can use its tokens; chmod 600 it`);
    }
    return await handle.readFile("utf8");
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw unreadable(error);
  } finally {
    await handle.close();
  }
}

async function readPem(path: string, flag: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    throw new CliError(`${flag} ${path}: ${(error as NodeJS.ErrnoException).code ?? "unreadable"}`, 1);
  }
}
