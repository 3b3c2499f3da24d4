import { hostname } from "node:os";
import type { StreamSource } from "../backend.js";
import { REGISTRY_KEY, streamNameProblem } from "./entry.js";
import { RedisBackend } from "./redis-backend.js";
import {
  commandConnection,
  type RedisClient,
  type RedisTarget,
  readerConnection,
} from "./redis-connection.js";
import { redisLabel } from "./redis-label.js";

export interface RedisStreamsOptions {
  url: string;
  /** The URL is one node of a Redis Cluster (redis-connection.ts). */
  cluster?: boolean;
  /** The URL is a Sentinel: serve the primary it names so, following failovers. */
  sentinelName?: string;
  /** Streams served from the start, whether Redis has them yet or not; the first is the default stream. */
  names?: string[];
  /** How often the registry is read for new streams (ms). Default 1000. */
  pollMs?: number;
  maxLineBytes?: number;
  /** How long a feed waits for a stream to be re-shipped after a failover before it resets (redis-feed.ts). */
  refillMs?: number;
  /** Host label of lines appended through this server's HTTP API. Default: the machine's host name. */
  hostLabel?: string;
  /** Redis became unreachable, or a registry entry was refused: say so (the host decides how). */
  onProblem?: (message: string) => void;
  /** Redis answers again after a problem was reported. */
  onRecovered?: (message: string) => void;
}

/**
 * The streams of `serve --redis`: those named at start, and every stream agents register in the
 * `livetrail:streams` hash (entry.ts), read every `pollMs`, so streams appear as agents create them. Polling a
 * small hash is one round trip per second per replica; keyspace notifications would need a server setting users
 * may not control (`notify-keyspace-events`) and are lost while disconnected.
 *
 * Redis down at start is not fatal: the source reports it once and keeps trying, and the streams appear when
 * Redis answers (named ones are served at once, their feeds waiting for Redis).
 */
export class RedisStreams implements StreamSource {
  readonly client: RedisClient;
  private readonly target: RedisTarget;
  private readonly known = new Set<string>();
  private timer: NodeJS.Timeout | null = null;
  private failing = false;
  private closed = false;
  private add: Parameters<StreamSource["start"]>[0] | null = null;

  /** The connection's own last error (ECONNREFUSED, ...): says more than "max retries reached". */
  private lastError: Error | null = null;

  constructor(private readonly options: RedisStreamsOptions) {
    this.target = {
      url: options.url,
      ...(options.cluster === true ? { cluster: true } : {}),
      ...(options.sentinelName === undefined ? {} : { sentinelName: options.sentinelName }),
    };
    this.client = commandConnection(this.target);
    this.client.on("error", (error: Error) => {
      this.lastError = error;
    });
  }

  /** A backend for a stream of this Redis (also for streams added by hand, e.g. in tests). */
  backend(name: string): RedisBackend {
    return new RedisBackend(name, {
      client: this.client,
      readerConnection: () => readerConnection(this.target),
      hostLabel: this.options.hostLabel ?? hostname(),
      ...(this.options.maxLineBytes === undefined ? {} : { maxLineBytes: this.options.maxLineBytes }),
      ...(this.options.refillMs === undefined ? {} : { refillMs: this.options.refillMs }),
    });
  }

  async start(add: Parameters<StreamSource["start"]>[0]): Promise<void> {
    this.add = add;
    for (const name of this.options.names ?? []) this.offer(name, undefined);
    await this.poll();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer !== null) clearTimeout(this.timer);
    this.client.disconnect();
  }

  /** `host`: the registry's host label for the stream (written by its agent), when it is a usable one. */
  private offer(name: string, host: string | undefined): void {
    if (this.known.has(name) || this.add === null) return;
    this.known.add(name);
    const problem = streamNameProblem(name);
    if (problem !== null) {
      this.options.onProblem?.(`ignoring stream in ${REGISTRY_KEY}: ${problem}`);
      return;
    }
    const label =
      host !== undefined && host.trim() !== "" && host.length <= 200 && !/\p{Cc}/u.test(host)
        ? host
        : undefined;
    this.add(name, this.backend(name), label);
  }

  private async poll(): Promise<void> {
    if (this.closed) return;
    try {
      const hosts = await this.client.hgetall(REGISTRY_KEY);
      if (this.failing) {
        this.failing = false;
        this.options.onRecovered?.(`Redis at ${redisLabel(this.options.url)} answers again`);
      }
      for (const name of Object.keys(hosts).sort()) this.offer(name, hosts[name]);
    } catch (error) {
      if (!this.failing && !this.closed) {
        this.failing = true;
        this.options.onProblem?.(
          `Redis at ${redisLabel(this.options.url)} is not reachable (${(this.lastError ?? (error as Error)).message}); ` +
            "streams appear when it answers, retrying",
        );
      }
    }
    if (!this.closed) this.timer = setTimeout(() => void this.poll(), this.options.pollMs ?? 1000);
  }
}
