import type { LogLevel } from "../server/logging/log-level.js";
import type { LogSettings } from "../server/logging/log-settings.js";

/**
 * The server log of `serve --log-level` (src/cli/settings/core.ts; docs/operations.md) on stderr: pretty lines
 * on a terminal, JSON lines (for a collector) otherwise.
 */
export function loggingFromLevel(
  level: LogLevel,
  stderr: NodeJS.WriteStream = process.stderr,
): { logger: LogSettings } {
  return { logger: { level, pretty: stderr.isTTY === true, stream: stderr } };
}
