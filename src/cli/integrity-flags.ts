import { dirname, resolve } from "node:path";
import type { Command } from "commander";
import { parseCosignerVerifierKey } from "../integrity/cosignature.js";
import type { NoteVerifier } from "../integrity/note.js";
import { loadSealKey, loadVerifierKey } from "../integrity/seal-key.js";
import type { IntegrityServerOptions } from "../server/options.js";
import { CliError } from "./cli-error.js";

/** `serve`'s integrity flags (docs/integrity.md, "Serving and API"). */
export interface IntegrityFlags {
  sealKey?: string;
  logKey?: string[];
  witnessKey?: string[];
  sealEveryLines?: string;
  sealEveryMs?: string;
}

/** The same settings in a --config file: key paths relative to the config file. */
export const INTEGRITY_CONFIG_KEYS = ["sealKey", "logKeys", "witnessKeys", "sealEveryLines", "sealEveryMs"];

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

export function addIntegrityFlags(command: Command): Command {
  return command
    .optionsGroup("Integrity (docs/integrity.md):")
    .option(
      "--seal-key <file>",
      "seal every stream with this signer key (livetrail keygen; non-file streams need --state-dir)",
    )
    .option(
      "--log-key <pub>",
      "the log's verifier key (file or key) to check checkpoints with (repeatable)",
      collect,
    )
    .option("--witness-key <pub>", "accept cosignatures by this witness (file or key, repeatable)", collect)
    .option("--seal-every-lines <n>", "a checkpoint after this many new lines", "1000")
    .option("--seal-every-ms <ms>", "a checkpoint this long after the first unsealed line", "1000");
}

/**
 * Takes the integrity settings out of a parsed --config object (so they do not reach ServerOptions as strings)
 * and merges the flags over them; keys are read here, so a bad key file fails at start with its path.
 */
export async function integrityFromFlags(
  flags: IntegrityFlags,
  config: Record<string, unknown>,
  configPath: string | undefined,
  fromCli: (flag: string) => boolean,
): Promise<IntegrityServerOptions | undefined> {
  const base = configPath === undefined ? process.cwd() : dirname(resolve(configPath));
  const taken: Record<string, unknown> = {};
  for (const key of INTEGRITY_CONFIG_KEYS) {
    if (key in config) taken[key] = config[key];
    delete config[key];
  }
  const fromConfig = (v: unknown, what: string): string[] => {
    if (v === undefined) return [];
    const list = Array.isArray(v) ? v : [v];
    if (!list.every((x) => typeof x === "string"))
      throw new CliError(`--config: "${what}" must be strings`, 2);
    return (list as string[]).map((p) => (p.includes("+") ? p : resolve(base, p)));
  };
  const sealKeyPath = flags.sealKey ?? fromConfig(taken.sealKey, "sealKey")[0];
  const logKeys = flags.logKey ?? fromConfig(taken.logKeys, "logKeys");
  const witnessKeys = flags.witnessKey ?? fromConfig(taken.witnessKeys, "witnessKeys");
  const out: IntegrityServerOptions = {};
  try {
    if (sealKeyPath !== undefined) out.sealKey = await loadSealKey(sealKeyPath);
    if (logKeys.length > 0) out.logKeys = await Promise.all(logKeys.map((k) => loadVerifierKey(k)));
    if (witnessKeys.length > 0) out.witnessKeys = await Promise.all(witnessKeys.map(loadWitnessKey));
  } catch (error) {
    throw new CliError(`integrity key: ${(error as Error).message}`, 2);
  }
  out.everyLines = count(
    fromCli("sealEveryLines") || taken.sealEveryLines === undefined
      ? flags.sealEveryLines
      : taken.sealEveryLines,
    "--seal-every-lines",
  );
  out.everyMs = count(
    fromCli("sealEveryMs") || taken.sealEveryMs === undefined ? flags.sealEveryMs : taken.sealEveryMs,
    "--seal-every-ms",
  );
  return out;
}

async function loadWitnessKey(pathOrKey: string): Promise<NoteVerifier> {
  const { readFile } = await import("node:fs/promises");
  const text = /^[^+\s]+\+[0-9a-f]{8}\+\S+$/.test(pathOrKey)
    ? pathOrKey
    : (await readFile(pathOrKey, "utf8")).trim();
  // A witness's clock may run a little ahead of ours: a cosignature up to 5 minutes in the future is accepted.
  return parseCosignerVerifierKey(text, { now: Date.now, maxFutureSeconds: 300 });
}

function count(value: unknown, flag: string): number {
  const n = typeof value === "number" ? value : Number(value ?? Number.NaN);
  if (!Number.isInteger(n) || n < 1)
    throw new CliError(`${flag} must be a positive integer (got ${String(value)})`, 2);
  return n;
}
