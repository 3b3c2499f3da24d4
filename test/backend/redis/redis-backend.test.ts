import { afterAll, beforeAll } from "vitest";
import { streamBackendContract } from "../contract/stream-backend.contract.js";
import { RedisFixture } from "./redis-fixture.js";

const redis = new RedisFixture();
beforeAll(() => redis.start());
afterAll(() => redis.stop());

streamBackendContract("RedisBackend", async (initial) => {
  const name = redis.name();
  await redis.append(name, initial);
  return {
    backend: redis.backend(name),
    append: async (lines) => {
      await redis.append(name, lines);
    },
    // Another server on the same Redis: cursors are durable.
    reopen: async () => redis.backend(name),
    close: async () => {},
  };
});
