import { type EncodedEntry, encodeLine, REGISTRY_KEY, type StreamTop, streamKey, topAfter } from "./entry.js";
import type { RedisClient } from "./redis-connection.js";
import { StreamRecords } from "./redis-records.js";

/**
 * Adds the entries only if the stream's newest ID is still the one they were encoded after: a compare-and-set,
 * atomic in Redis, so several servers (replicas taking HTTP appends) and an agent can write one stream without
 * ever giving two lines one position or sequence number. The entries are encoded in JavaScript by the one codec
 * (entry.ts); the script only checks and adds.
 */
const APPEND_IF_TOP = `
local top = redis.call('XREVRANGE', KEYS[1], '+', '-', 'COUNT', 1)
local id = '0-0'
if top[1] then id = top[1][1] end
if id ~= ARGV[1] then return redis.error_reply('LIVETRAIL_TOP_MOVED ' .. id) end
local i = 2
while i <= #ARGV do
  local n = tonumber(ARGV[i + 1])
  redis.call('XADD', KEYS[1], ARGV[i], unpack(ARGV, i + 2, i + 1 + n))
  i = i + 2 + n
end
return #ARGV
`;

/** Tries before giving up when other writers keep moving the top. */
const ATTEMPTS = 8;

export interface AppendedLines {
  entries: number;
  /** Bytes of the lines added, newlines counted. */
  bytes: number;
}

/** The stream's top moved under every attempt, or the stream holds entries livetrail did not write. */
export class RedisAppendError extends Error {
  override name = "RedisAppendError";
}

/**
 * Appends lines (without newlines) to a stream, all or none, and names the stream in the registry so servers
 * discover it. Used by the HTTP append API of `serve --redis`.
 */
export async function appendLines(
  client: RedisClient,
  name: string,
  texts: readonly string[],
  host: string,
): Promise<AppendedLines> {
  const key = streamKey(name);
  const records = new StreamRecords(client, key);
  for (let attempt = 0; attempt < ATTEMPTS; attempt++) {
    const newest = await records.newest();
    let top: StreamTop;
    try {
      top = topAfter(newest);
    } catch (error) {
      throw new RedisAppendError((error as Error).message);
    }
    const entries: EncodedEntry[] = [];
    let bytes = 0;
    for (const text of texts) {
      const bytesOf = Buffer.from(text, "utf8");
      const entry = encodeLine(top, { bytes: bytesOf, host });
      entries.push(entry);
      top = entry.top;
      bytes += bytesOf.length + 1;
    }
    const args: (string | Buffer)[] = [newest?.id ?? "0-0"];
    for (const entry of entries) args.push(entry.id, String(entry.fields.length), ...entry.fields);
    try {
      await client.eval(APPEND_IF_TOP, 1, key, ...args);
    } catch (error) {
      if (error instanceof Error && error.message.startsWith("LIVETRAIL_TOP_MOVED")) continue;
      throw error;
    }
    await client.hset(REGISTRY_KEY, name, host);
    return { entries: entries.length, bytes };
  }
  throw new RedisAppendError(`stream "${name}" kept changing under ${ATTEMPTS} attempts to append`);
}
