import { readFile, writeFile } from "node:fs/promises";
import type { Command } from "commander";
import { CliError } from "../cli-error.js";
import { readConfigFile } from "../settings/config-file.js";
import { type ResolvedSettings, resolveSettings, SettingsError } from "../settings/resolve-settings.js";
import type { Setting } from "../settings/setting.js";
import { settingsMarkdown, withSettingsTable } from "../settings/settings-docs.js";
import { addSettingOptions, givenFlags } from "../settings/settings-options.js";
import { GROUPS } from "../settings/settings-table.js";

/** `livetrail config check|print|docs`: the settings table (src/cli/settings/) seen from outside. */
export function registerConfig(program: Command): void {
  const config = program
    .command("config")
    .summary("check a config file, print the effective serve settings")
    .description(
      "The settings of `livetrail serve` (docs/settings.md): check a config file, print where each comes from.",
    );

  config
    .command("check")
    .description(
      "Check a serve config file: every problem is reported with its key and line. Exit 0 if fine, 2 if not.",
    )
    .argument("<file>", "the JSON config file")
    .action(async (file: string) => {
      const { sources } = await settled(
        () => readConfigFile(file),
        (c) => resolveSettings({ config: c }),
      );
      const given = Object.values(sources).filter((s) => s === "config").length;
      process.stdout.write(`${file}: ok (${given} setting${given === 1 ? "" : "s"})\n`);
    });

  const print = config
    .command("print")
    .description(
      "Print the settings serve would use with these flags, the environment and --config FILE, with the source of " +
        "each (flag, env, config, default). Secrets are masked. Values are shown even when they conflict " +
        "(--tls-cert without --tls-key): config check and serve refuse those.",
    )
    .option("-c, --config <file>", "the JSON config file serve would get")
    .option("--json", 'one JSON object: {"KEY": {"value": ..., "source": ...}}');
  addSettingOptions(print).action(async (opts: { config?: string; json?: boolean }, command: Command) => {
    const flags = givenFlags(command);
    const resolved = await settled(
      () => (opts.config === undefined ? Promise.resolve(null) : readConfigFile(opts.config)),
      (c) => resolveSettings({ flags, env: process.env, config: c, checkRules: false }),
    );
    process.stdout.write(opts.json === true ? asJson(resolved) : asText(resolved));
  });

  config
    .command("docs")
    .description("Print the settings reference as markdown tables (the generated part of docs/settings.md).")
    .option("--write <file>", "replace the generated part of this file (between its markers) instead")
    .action(async (opts: { write?: string }) => {
      if (opts.write === undefined) {
        process.stdout.write(settingsMarkdown());
        return;
      }
      await writeFile(opts.write, withSettingsTable(await readFile(opts.write, "utf8")));
    });
}

/** Reads the config, resolves; the settings' problems are one usage error listing all of them. */
async function settled<C>(
  read: () => Promise<C>,
  resolve: (config: C) => ResolvedSettings,
): Promise<ResolvedSettings> {
  const config = await read();
  try {
    return resolve(config);
  } catch (error) {
    if (error instanceof SettingsError) throw new CliError(error.problems.join("\nlivetrail: "), 2);
    throw error;
  }
}

/** A value as `config print` shows it: secrets masked, nothing set as "-". */
function shown(s: Setting, value: unknown): string {
  if (value === undefined || (Array.isArray(value) && value.length === 0)) return "-";
  if (s.secret === true) return s.mask === undefined ? "****" : s.mask(value as never);
  return s.kind.show(value as never);
}

function asText({ values, sources }: ResolvedSettings): string {
  const out: string[] = [];
  for (const group of GROUPS) {
    out.push(group.title);
    for (const s of Object.values(group.settings) as Setting[]) {
      const key = s.key as keyof typeof values;
      out.push(`  ${s.key.padEnd(26)} ${shown(s, values[key]).padEnd(30)} ${sources[key]}`);
    }
  }
  return `${out.join("\n")}\n`;
}

function asJson({ values, sources }: ResolvedSettings): string {
  const out: Record<string, { value: unknown; source: string }> = {};
  for (const group of GROUPS) {
    for (const s of Object.values(group.settings) as Setting[]) {
      const key = s.key as keyof typeof values;
      const value = values[key];
      out[s.key] = {
        value: s.secret === true && value !== undefined ? shown(s, value) : (value ?? null),
        source: sources[key],
      };
    }
  }
  return `${JSON.stringify(out, null, 2)}\n`;
}
