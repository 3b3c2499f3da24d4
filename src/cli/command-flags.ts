import type { Command } from "commander";
import { CommandBackend, type CommandStart } from "../backend/command/command-backend.js";
import { commandEnv, envNameProblem } from "../backend/command/command-env.js";
import { CommandSpecError, isCommandSpec, parseCommandSpec } from "../backend/command/command-spec.js";
import type { LivetrailServer } from "../server/app.js";
import type { StreamSpec } from "../server/options.js";
import { CliError } from "./cli-error.js";

export { isCommandSpec };

/** `serve`'s command-stream flags (NAME=cmd:ARGV, NAME=sh:STRING; docs/sources.md, "Command streams"). */
export interface CommandFlags {
  cmdStart: string;
  cmdLines: string;
  cmdBytes: string;
  cmdEnv?: string[];
  cmdRestartMinMs: string;
  cmdRestartMaxMs: string;
  cmdHealthyMs: string;
  cmdStopGraceMs: string;
}

/** How often a --cmd-start demand stream looks for its first subscriber (the hub tells nobody of them). */
const DEMAND_POLL_MS = 200;

const collect = (value: string, previous: string[] | undefined): string[] => [
  ...(previous ?? []),
  ...value.split(","),
];

export function addCommandFlags(command: Command): Command {
  return command
    .optionsGroup("Command streams (NAME=cmd:'ARGV' or NAME=sh:'STRING'):")
    .option(
      "--cmd-start <when>",
      'start each command at server start ("boot") or on its first subscriber ("demand")',
      "boot",
    )
    .option("--cmd-lines <n>", "lines of a command stream kept in memory", "100000")
    .option("--cmd-bytes <n>", "bytes of a command stream kept in memory", String(16 * 1024 * 1024))
    .option(
      "--cmd-env <names>",
      "environment variables passed to commands besides PATH, HOME, LANG (comma-separated, repeatable)",
      collect,
    )
    .option(
      "--cmd-restart-min-ms <ms>",
      "wait before restarting a command that exited (doubles while it keeps exiting)",
      "1000",
    )
    .option("--cmd-restart-max-ms <ms>", "longest wait between restarts", "60000")
    .option("--cmd-healthy-ms <ms>", "a run this long resets the restart wait", "30000")
    .option("--cmd-stop-grace-ms <ms>", "on shutdown, time between SIGTERM and SIGKILL", "2000");
}

/**
 * Turns every stream whose spec is a command (`cmd:` / `sh:`, from the command line or the config file) into a
 * CommandBackend; other streams pass through. The spec stays as the stream's `file`, shown at start-up only.
 */
export function commandStreams(
  streams: StreamSpec[],
  flags: CommandFlags,
  maxLineBytes: number,
): StreamSpec[] {
  if (!streams.some((s) => s.backend === undefined && s.file !== undefined && isCommandSpec(s.file)))
    return streams;
  const start = flags.cmdStart;
  if (start !== "boot" && start !== "demand")
    throw new CliError(`--cmd-start needs "boot" or "demand", got "${start}"`, 2);
  const allow = flags.cmdEnv ?? [];
  for (const name of allow) {
    const problem = envNameProblem(name);
    if (problem !== null) throw new CliError(`--cmd-env: ${problem}`, 2);
  }
  const env = commandEnv(process.env, allow);
  const ring = {
    maxLines: count(flags.cmdLines, "--cmd-lines", 1),
    maxBytes: count(flags.cmdBytes, "--cmd-bytes", 1),
    maxLineBytes,
  };
  const backoff = {
    initialMs: count(flags.cmdRestartMinMs, "--cmd-restart-min-ms", 10),
    maxMs: count(flags.cmdRestartMaxMs, "--cmd-restart-max-ms", 10),
    resetAfterMs: count(flags.cmdHealthyMs, "--cmd-healthy-ms", 0),
  };
  if (backoff.maxMs < backoff.initialMs)
    throw new CliError("--cmd-restart-max-ms must not be below --cmd-restart-min-ms", 2);
  const stopGraceMs = count(flags.cmdStopGraceMs, "--cmd-stop-grace-ms", 0);
  return streams.map((s) => {
    if (s.backend !== undefined || s.file === undefined || !isCommandSpec(s.file)) return s;
    let command: ReturnType<typeof parseCommandSpec>;
    try {
      command = parseCommandSpec(s.file);
    } catch (error) {
      if (!(error instanceof CommandSpecError)) throw error;
      throw new CliError(`stream "${s.name}": ${error.message}`, 2);
    }
    const backend = new CommandBackend(s.name, {
      command,
      env,
      ring,
      start: start as CommandStart,
      backoff,
      stopGraceMs,
    });
    return { ...s, backend };
  });
}

/**
 * Starts each "demand" command once its stream has a subscriber (looked for every DEMAND_POLL_MS); returns the
 * function that stops looking. Nothing runs when no stream waits for demand.
 */
export function startOnDemand(server: LivetrailServer): () => void {
  const waiting = () =>
    server.streams
      .all()
      .filter((hub) => hub.backend instanceof CommandBackend && hub.backend.startMode === "demand");
  let pending = waiting();
  if (pending.length === 0) return () => undefined;
  const timer = setInterval(() => {
    pending = pending.filter((hub) => {
      if (hub.clientCount === 0) return true;
      (hub.backend as CommandBackend).wanted();
      return false;
    });
    if (pending.length === 0) clearInterval(timer);
  }, DEMAND_POLL_MS);
  timer.unref();
  return () => clearInterval(timer);
}

function count(text: string, flag: string, min: number): number {
  const n = Number(text);
  if (!/^\d{1,12}$/.test(text) || n < min)
    throw new CliError(`${flag} needs a whole number >= ${min}, got "${text}"`, 2);
  return n;
}
