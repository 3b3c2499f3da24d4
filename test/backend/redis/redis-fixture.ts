import type { Redis } from "ioredis";
import { appendLines } from "../../../src/backend/redis/redis-append.js";
import { RedisBackend } from "../../../src/backend/redis/redis-backend.js";
import { commandConnection, readerConnection } from "../../../src/backend/redis/redis-connection.js";
import { type RedisServer, startRedis } from "../../helpers/redis-server.js";

/**
 * A real redis-server for one test file, clients that the file's tests share, and backends whose feed
 * connections are closed with them. Stream names are unique per call, so tests never see each other's entries.
 */
export class RedisFixture {
  server!: RedisServer;
  client!: Redis;
  private readers: Redis[] = [];
  private streams = 0;

  async start(options: { aof?: boolean } = {}): Promise<void> {
    this.server = await startRedis(options);
    this.client = commandConnection(this.server.url);
    // History reads fail fast while the connection is not ready: let it be before the first test.
    await this.client.ping();
  }

  async stop(): Promise<void> {
    for (const reader of this.readers) reader.disconnect();
    this.client?.disconnect();
    await this.server?.stop();
  }

  name(): string {
    this.streams++;
    return `s${this.streams}-${process.pid}`;
  }

  backend(name: string, options: { maxLineBytes?: number } = {}): RedisBackend {
    return new RedisBackend(name, {
      client: this.client,
      readerConnection: () => {
        const reader = readerConnection(this.server.url);
        this.readers.push(reader);
        return reader;
      },
      blockMs: 500,
      // A stream found behind a feed after an outage is given 1 s (not 10) to be re-shipped before the reset.
      refillMs: 1000,
      ...options,
    });
  }

  append(name: string, lines: string[]): Promise<unknown> {
    return lines.length === 0 ? Promise.resolve() : appendLines(this.client, name, lines, "test-host");
  }
}
