/**
 * A short description of where a Redis URL points, without its password (for messages). Apart from
 * redis-connection.ts so the settings table can use it without loading the Redis client.
 */
export function redisLabel(url: string): string {
  try {
    const parsed = new URL(url);
    parsed.password = "";
    return parsed.toString().replace(/\/$/, "");
  } catch {
    return "the Redis URL";
  }
}
