import { Cluster, type ClusterOptions, Redis, type RedisOptions } from "ioredis";

/**
 * Where Redis is, as `--redis URL [--cluster | --sentinel NAME]` says (the agent and the server take the same
 * flags): one node; any node of a Redis Cluster (ioredis discovers the others and routes each command to the
 * node owning its key's slot); or a Sentinel, which ioredis asks for the primary named NAME, and again after a
 * failover.
 */
export interface RedisTarget {
  url: string;
  cluster?: boolean;
  sentinelName?: string;
}

/** Every command livetrail sends names one key (a stream or the registry), so both kinds answer all of them. */
export type RedisClient = Redis | Cluster;

/**
 * A client for the target. `options` are each connection's (for a cluster: each node's); `retryStrategy` is also
 * the Sentinel's and the cluster's own reconnect schedule. The URL's credentials and TLS apply to every node a
 * cluster names and to the primary a Sentinel names.
 */
export function redisClient(
  target: RedisTarget,
  options: RedisOptions,
  clusterOptions: Omit<ClusterOptions, "redisOptions"> = {},
): RedisClient {
  if (target.cluster === true) {
    const seed = new URL(target.url);
    return new Cluster([{ host: seed.hostname, port: Number(seed.port || 6379) }], {
      ...(options.retryStrategy ? { clusterRetryStrategy: options.retryStrategy } : {}),
      ...clusterOptions,
      redisOptions: { ...options, ...credentials(seed), ...(seed.protocol === "rediss:" ? { tls: {} } : {}) },
    });
  }
  if (target.sentinelName !== undefined) {
    const sentinel = new URL(target.url);
    const sentinelOptions: RedisOptions = {
      ...options,
      sentinels: [{ host: sentinel.hostname, port: Number(sentinel.port || 26379) }],
      name: target.sentinelName,
      ...(options.retryStrategy ? { sentinelRetryStrategy: options.retryStrategy } : {}),
      ...credentials(sentinel),
    };
    return new Redis(sentinelOptions);
  }
  return new Redis(target.url, options);
}

function credentials(url: URL): RedisOptions {
  return {
    ...(url.username ? { username: decodeURIComponent(url.username) } : {}),
    ...(url.password ? { password: decodeURIComponent(url.password) } : {}),
  };
}

/**
 * The server's Redis connections. Both reconnect on their own with a capped backoff (ioredis), and each has an
 * `error` listener: while Redis is down ioredis emits errors per attempt, and an unheard one would be printed by
 * ioredis itself; the feed and the discovery report outages in their own words instead.
 *
 * - commands (history, search, appends, discovery) fail after a few reconnect attempts, so an HTTP request gets
 *   an answer while Redis is down instead of waiting for it;
 * - a feed's reader waits for Redis however long it takes, and its blocked XREAD fails at once when the
 *   connection drops (no resend), so the feed notices and goes on from its own ID after the reconnect. On a
 *   cluster each reader is a cluster client of its own, so the blocked XREAD holds a connection to the node
 *   owning that stream's slot that nothing else uses.
 */
const BACKOFF_MAX_MS = 2000;

function base(extra: RedisOptions): RedisOptions {
  return {
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), BACKOFF_MAX_MS),
    connectTimeout: 5000,
    ...extra,
  };
}

/** A URL alone is one node (tests and single-node callers keep the plain `Redis` type). */
export function commandConnection(url: string): Redis;
export function commandConnection(target: RedisTarget): RedisClient;
export function commandConnection(target: string | RedisTarget): RedisClient {
  const client = redisClient(asTarget(target), base({ maxRetriesPerRequest: 2 }));
  client.on("error", () => {});
  return client;
}

export function readerConnection(url: string): Redis;
export function readerConnection(target: RedisTarget): RedisClient;
export function readerConnection(target: string | RedisTarget): RedisClient {
  const client = redisClient(
    asTarget(target),
    base({
      maxRetriesPerRequest: null,
      autoResendUnfulfilledCommands: false,
      connectionName: "livetrail-feed",
    }),
  );
  client.on("error", () => {});
  return client;
}

function asTarget(target: string | RedisTarget): RedisTarget {
  return typeof target === "string" ? { url: target } : target;
}
