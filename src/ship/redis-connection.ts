import { Cluster, Redis } from "ioredis";

/**
 * The agent's Redis connection. Commands fail at once while it is down (no offline queue: the agent keeps its
 * place in the file, not a copy of the lines in memory), nothing is re-sent by the client after a reconnect (the
 * agent decides what to send from the stream's top), and reconnects are retried in the background.
 */
export interface ShipConnection {
  client: Redis | Cluster;
  /** Resolves once the connection is ready, rejects with the latest connection error after `timeoutMs`. */
  ready(timeoutMs: number): Promise<void>;
  /** Called whenever an established connection drops. */
  onLost(listener: (error: Error) => void): void;
  close(): Promise<void>;
}

const RECONNECT_MAX_MS = 2000;

export function connect(url: string, options: { cluster: boolean; sentinelName?: string }): ShipConnection {
  const common = {
    enableOfflineQueue: false,
    autoResendUnfulfilledCommands: false,
    maxRetriesPerRequest: 0,
    connectTimeout: 2000,
  };
  const retryStrategy = (attempt: number) => Math.min(attempt * 100, RECONNECT_MAX_MS);
  let client: Redis | Cluster;
  if (options.cluster) {
    const seed = new URL(url);
    client = new Cluster([{ host: seed.hostname, port: Number(seed.port || 6379) }], {
      enableOfflineQueue: false,
      clusterRetryStrategy: retryStrategy,
      // The seed URL's credentials and TLS apply to every node the cluster names.
      redisOptions: {
        ...common,
        ...(seed.username ? { username: decodeURIComponent(seed.username) } : {}),
        ...(seed.password ? { password: decodeURIComponent(seed.password) } : {}),
        ...(seed.protocol === "rediss:" ? { tls: {} } : {}),
      },
    });
  } else if (options.sentinelName !== undefined) {
    // The URL names a Sentinel; ioredis asks it for the primary of that name, and again after a failover.
    const sentinel = new URL(url);
    client = new Redis({
      ...common,
      sentinels: [{ host: sentinel.hostname, port: Number(sentinel.port || 26379) }],
      name: options.sentinelName,
      sentinelRetryStrategy: retryStrategy,
      retryStrategy,
      ...(sentinel.password ? { password: decodeURIComponent(sentinel.password) } : {}),
    });
  } else {
    client = new Redis(url, { ...common, retryStrategy });
  }
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
