import { Redis, type RedisOptions } from "ioredis";

/**
 * The server's Redis connections. Both reconnect on their own with a capped backoff (ioredis), and each has an
 * `error` listener: while Redis is down ioredis emits errors per attempt, and an unheard one would be printed by
 * ioredis itself; the feed and the discovery report outages in their own words instead.
 *
 * - commands (history, search, appends, discovery) fail after a few reconnect attempts, so an HTTP request gets
 *   an answer while Redis is down instead of waiting for it;
 * - a feed's reader waits for Redis however long it takes, and its blocked XREAD fails at once when the
 *   connection drops (no resend), so the feed notices and goes on from its own ID after the reconnect.
 */
const BACKOFF_MAX_MS = 2000;

function base(extra: RedisOptions): RedisOptions {
  return {
    retryStrategy: (times) => Math.min(50 * 2 ** Math.min(times, 6), BACKOFF_MAX_MS),
    connectTimeout: 5000,
    ...extra,
  };
}

export function commandConnection(url: string): Redis {
  const client = new Redis(url, base({ maxRetriesPerRequest: 2 }));
  client.on("error", () => {});
  return client;
}

export function readerConnection(url: string): Redis {
  const client = new Redis(
    url,
    base({
      maxRetriesPerRequest: null,
      autoResendUnfulfilledCommands: false,
      connectionName: "livetrail-feed",
    }),
  );
  client.on("error", () => {});
  return client;
}

/** A short description of where a URL points, without its password (for messages). */
export function redisLabel(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = "";
    return parsed.toString().replace(/\/$/, "");
  } catch {
    return "the Redis URL";
  }
}
