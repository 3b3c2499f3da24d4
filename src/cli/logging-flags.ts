import { type Command, Option } from "commander";
import { LOG_LEVELS, type LogSettings } from "../server/logging/log-settings.js";

export interface LoggingFlags {
  logLevel: string;
}

/** `serve --log-level`: the server's own log on stderr (docs/operations.md). */
export function addLoggingFlags(command: Command): Command {
  return command.addOption(
    new Option("--log-level <level>", "server log on stderr: one line per request and per session")
      .choices(LOG_LEVELS)
      .default("info"),
  );
}

/** Pretty lines on a terminal, JSON lines (for a collector) otherwise. */
export function loggingFromFlags(
  flags: LoggingFlags,
  stderr: NodeJS.WriteStream = process.stderr,
): { logger: LogSettings } {
  return { logger: { level: flags.logLevel, pretty: stderr.isTTY === true, stream: stderr } };
}
