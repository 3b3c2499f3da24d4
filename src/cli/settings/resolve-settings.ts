import { AlertsProblem } from "./alerts.js";
import type { ConfigFile } from "./config-file.js";
import { CONSTRAINTS } from "./constraints.js";
import { type Setting, SettingProblem, type Source } from "./setting.js";
import { SETTINGS, type SettingKey, type SettingValues } from "./settings-table.js";

export interface SettingsInput {
  /** Flags given on the command line, by setting key: a string, a string[] (repeatable) or a boolean (switch). */
  flags?: Partial<Record<string, unknown>>;
  env?: NodeJS.ProcessEnv;
  config?: ConfigFile | null;
  /** Relative paths in flags and the environment are taken against this; default the working directory. */
  cwd?: string;
  /** Check the rules between settings (constraints.ts); default true. `config print` shows values regardless. */
  checkRules?: boolean;
}

export interface ResolvedSettings {
  values: SettingValues;
  /** Where each value came from (a merged setting: the highest source that gave any). */
  sources: Record<SettingKey, Source>;
}

/** Every problem found, each naming where it was given: the flag, the variable or the config key and line. */
export class SettingsError extends Error {
  override readonly name = "SettingsError";
  constructor(readonly problems: string[]) {
    super(problems.join("\n"));
  }
}

/**
 * Each setting's value by precedence: flag > environment > config file > default (merged settings join the
 * flag's and the environment's), then the rules between settings (constraints.ts). All problems are collected,
 * then thrown together as one SettingsError.
 */
export function resolveSettings(input: SettingsInput): ResolvedSettings {
  const { flags = {}, env = {}, config = null } = input;
  const cwd = input.cwd ?? process.cwd();
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  const sources: Record<string, Source> = {};
  if (config !== null) problems.push(...unknownKeys(config));

  for (const s of SETTINGS) {
    const given: { source: Source; value: unknown }[] = [];
    const take = (source: Source, where: string, read: () => unknown): void => {
      try {
        given.push({ source, value: read() });
      } catch (error) {
        if (!(error instanceof SettingProblem)) throw error;
        problems.push(...describe(where, error));
      }
    };
    const raw = flags[s.key];
    if (s.flag !== null && raw !== undefined) take("flag", s.flag, () => fromFlag(s, raw, cwd));
    const text = s.envName === null ? undefined : env[s.envName];
    if (s.envName !== null && text !== undefined && text.trim() !== "")
      take("env", s.envName, () => s.kind.fromText(text, cwd));
    if (config !== null && s.key in config.values && s.config !== false)
      take("config", configWhere(config, s.key), () => s.kind.fromJson(config.values[s.key], config.base));

    const top = given[0];
    sources[s.key] = top?.source ?? "default";
    values[s.key] =
      top === undefined
        ? s.default
        : s.merge === true
          ? given.filter((g) => g.source !== "config").flatMap((g) => g.value as unknown[])
          : top.value;
  }
  // Rules between settings only once each setting is valid on its own.
  if (problems.length === 0 && input.checkRules !== false)
    for (const rule of CONSTRAINTS) {
      const problem = rule(values as SettingValues);
      if (problem !== null) problems.push(problem);
    }
  if (problems.length > 0) throw new SettingsError(problems);
  return { values: values as SettingValues, sources: sources as Record<SettingKey, Source> };
}

function fromFlag(s: Setting, raw: unknown, cwd: string): unknown {
  // A switch: commander gives true, or false for a --no-NAME flag.
  if (s.kind.arg === null) return raw === true;
  if (Array.isArray(raw)) return raw.flatMap((item) => s.kind.fromText(String(item), cwd) as unknown[]);
  return s.kind.fromText(String(raw), cwd);
}

/** Keys no setting has, and secrets, which a config file may not hold. */
function unknownKeys(config: ConfigFile): string[] {
  const problems: string[] = [];
  for (const key of Object.keys(config.values)) {
    const s = SETTINGS.find((x) => x.key === key);
    const at = configAt(config, key);
    if (s === undefined) problems.push(`${at}: unknown setting "${key}" (the settings: docs/settings.md)`);
    else if (s.config === false)
      problems.push(
        `${at}: "${key}" cannot be in a config file: it is a secret (use ${s.envName ?? s.flag}, or "tokenFile")`,
      );
  }
  return problems;
}

/** `--config FILE:LINE` of a top-level key. */
function configAt(config: ConfigFile, key: string): string {
  const line = config.lineOf(key);
  return `--config ${config.path}${line === undefined ? "" : `:${line}`}`;
}

function configWhere(config: ConfigFile, key: string): string {
  return `${configAt(config, key)}: ${key}`;
}

/** `--port needs ...`, `LIVETRAIL_PORT needs ...`, `--config f.json:3: port needs ...`; alerts name their own keys. */
function describe(where: string, problem: SettingProblem): string[] {
  if (problem instanceof AlertsProblem) {
    const file = where.slice(0, where.lastIndexOf(": "));
    return problem.problems.map((p) => `${file}: ${p}`);
  }
  const sep = problem.message.startsWith("needs ") ? " " : ": ";
  return [`${where}${sep}${problem.message}`];
}
