import { describe, expect, it } from "vitest";
import { REGISTRY_KEY } from "../../src/backend/redis/entry.js";
import { commandConnection } from "../../src/backend/redis/redis-connection.js";
import { RedisStreams } from "../../src/backend/redis/redis-streams.js";
import { startRedis } from "../helpers/redis-server.js";
import { waitFor } from "../helpers/wait-for.js";
import { startServer, TestClient } from "./harness.js";

interface Hello {
  streams: { name: string; host?: string }[];
}

/** A Redis stream's host label reaches the dashboard: the registry (name -> host) through discovery into hello. */
describe("hello's host for Redis streams", () => {
  it("carries the host label each stream's agent registered; an unusable one is left out", async () => {
    const redis = await startRedis();
    const writer = commandConnection(redis.url);
    try {
      await writer.hset(REGISTRY_KEY, "web", "web-1 <b>", "db", "db-2", "odd", "bad\u001blabel");
      const server = await startServer([], {
        streamSource: new RedisStreams({ url: redis.url, pollMs: 100 }),
      });
      try {
        await waitFor(() => server.server.streams.all().length === 3, {
          message: "three streams discovered",
        });
        const client = await TestClient.connect(`${server.wsUrl}/ws`);
        const byName = Object.fromEntries((client.messages[0] as Hello).streams.map((s) => [s.name, s]));
        expect(byName.web?.host).toBe("web-1 <b>");
        expect(byName.db?.host).toBe("db-2");
        expect(byName.odd && "host" in byName.odd).toBe(false);
        await client.close();
      } finally {
        await server.close();
      }
    } finally {
      writer.disconnect();
      await redis.stop();
    }
  });
});
