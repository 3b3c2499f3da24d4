import { CommandBackend, type CommandStart } from "../backend/command/command-backend.js";
import { commandEnv } from "../backend/command/command-env.js";
import { CommandSpecError, isCommandSpec, parseCommandSpec } from "../backend/command/command-spec.js";
import type { LivetrailServer } from "../server/app.js";
import type { StreamSpec } from "../server/options.js";
import { CliError } from "./cli-error.js";

export { isCommandSpec };

/** The command-stream settings (src/cli/settings/sources.ts), already checked there. */
export interface CommandSettings {
  cmdStart: CommandStart;
  cmdLines: number;
  cmdBytes: number;
  cmdEnv: string[];
  cmdRestartMinMs: number;
  cmdRestartMaxMs: number;
  cmdHealthyMs: number;
  cmdStopGraceMs: number;
}

/** How often a --cmd-start demand stream looks for its first subscriber (the hub tells nobody of them). */
const DEMAND_POLL_MS = 200;

/**
 * Turns every stream whose spec is a command (`cmd:` / `sh:`, from the command line or the config file) into a
 * CommandBackend; other streams pass through. The spec stays as the stream's `file`, shown at start-up only.
 */
export function commandStreams(
  streams: StreamSpec[],
  settings: CommandSettings,
  maxLineBytes: number,
): StreamSpec[] {
  if (!streams.some((s) => s.backend === undefined && s.file !== undefined && isCommandSpec(s.file)))
    return streams;
  const env = commandEnv(process.env, settings.cmdEnv);
  const ring = { maxLines: settings.cmdLines, maxBytes: settings.cmdBytes, maxLineBytes };
  const backoff = {
    initialMs: settings.cmdRestartMinMs,
    maxMs: settings.cmdRestartMaxMs,
    resetAfterMs: settings.cmdHealthyMs,
  };
  const stopGraceMs = settings.cmdStopGraceMs;
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
      start: settings.cmdStart,
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
