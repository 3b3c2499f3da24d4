import { type RedisClient, redisClient } from "../backend/redis/redis-connection.js";

/**
 * The agent's Redis connection. Commands fail at once while it is down (no offline queue: the agent keeps its
 * place in the file, not a copy of the lines in memory), nothing is re-sent by the client after a reconnect (the
 * agent decides what to send from the stream's top), and reconnects are retried in the background.
 */
export interface ShipConnection {
  client: RedisClient;
  /** Resolves once the connection is ready, rejects with the latest connection error after `timeoutMs`. */
  ready(timeoutMs: number): Promise<void>;
  /** Called whenever an established connection drops. */
  onLost(listener: (error: Error) => void): void;
  close(): Promise<void>;
}

const RECONNECT_MAX_MS = 2000;

export function connect(url: string, options: { cluster: boolean; sentinelName?: string }): ShipConnection {
  const client = redisClient(
    { url, ...options },
    {
      enableOfflineQueue: false,
      autoResendUnfulfilledCommands: false,
      maxRetriesPerRequest: 0,
      connectTimeout: 2000,
      retryStrategy: (attempt: number) => Math.min(attempt * 100, RECONNECT_MAX_MS),
    },
    { enableOfflineQueue: false },
  );
  let lastError: Error = new Error("not connected yet");
  const lost = new Set<(error: Error) => void>();
  let wasReady = false;
  // Without a listener ioredis prints every connection error itself; the agent says it once per outage.
  client.on("error", (error: Error) => {
    lastError = error;
  });
  client.on("ready", () => {
    wasReady = true;
  });
  client.on("close", () => {
    if (!wasReady) return;
    wasReady = false;
    const error = new Error(`connection to Redis lost (${lastError.message})`);
    for (const listener of lost) listener(error);
  });
  return {
    client,
    ready(timeoutMs) {
      if (client.status === "ready") return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          client.off("ready", onReady);
          reject(lastError);
        }, timeoutMs);
        const onReady = () => {
          clearTimeout(timer);
          resolve();
        };
        client.once("ready", onReady);
      });
    },
    onLost(listener) {
      lost.add(listener);
    },
    async close() {
      client.disconnect();
    },
  };
}
