import type { StreamSource } from "../backend/backend.js";
import { streamNameProblem } from "../backend/redis/entry.js";
import type { RedisTarget } from "../backend/redis/redis-connection.js";
import { redisLabel } from "../backend/redis/redis-label.js";
import { RedisStreams } from "../backend/redis/redis-streams.js";
import { CliError } from "./cli-error.js";

/**
 * The streams of `serve --redis URL [--cluster | --sentinel NAME] [NAME]...`: NAMEs are stream names (not files);
 * the source reports Redis outages and refused registry entries on stderr, as the server's other start-up messages.
 */
export function redisStreamSource(
  target: RedisTarget,
  names: string[],
  maxLineBytes: number,
): { source: StreamSource; label: string } {
  // The URL itself was checked with the other settings (settings/redis.ts).
  const { url } = target;
  const seen = new Set<string>();
  for (const name of names) {
    const problem = streamNameProblem(name);
    if (problem !== null) throw new CliError(`with --redis, give stream names: ${problem}`, 2);
    if (seen.has(name)) throw new CliError(`stream name "${name}" is given twice`, 2);
    seen.add(name);
  }
  const say = (message: string): void => {
    process.stderr.write(`livetrail: ${message}\n`);
  };
  const source = new RedisStreams({ ...target, names, maxLineBytes, onProblem: say, onRecovered: say });
  const mode =
    target.cluster === true
      ? " (cluster)"
      : target.sentinelName !== undefined
        ? ` (Sentinel, primary "${target.sentinelName}")`
        : "";
  return { source, label: `${redisLabel(url)}${mode}` };
}
