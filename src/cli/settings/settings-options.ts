import { type Command, Option } from "commander";
import type { Setting } from "./setting.js";
import { GROUPS, SETTINGS } from "./settings-table.js";

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

/** The flag as typed: `--no-watch` for a negated switch. */
export function flagName(s: Setting): string | null {
  if (s.flag === null) return null;
  return s.negate === true ? `--no-${s.flag.slice(2)}` : s.flag;
}

function option(s: Setting): Option {
  const name = flagName(s) as string;
  const flags = `${s.short === undefined ? "" : `${s.short}, `}${name}${s.kind.arg === null ? "" : ` ${s.kind.arg}`}`;
  const option = new Option(flags, helpLine(s));
  if (s.kind.repeatable) option.argParser(collect);
  if (s.hidden === true) option.hideHelp();
  return option;
}

/** The help line: the table's text and the default when it is a value worth showing. */
function helpLine(s: Setting): string {
  const d = s.default;
  if (d === undefined || typeof d === "boolean" || (Array.isArray(d) && d.length === 0)) return s.help;
  return `${s.help} (default: ${s.kind.show(d as never)})`;
}

/**
 * Adds every setting's flag to `command` (or only those of `groups`), one help section per group. No commander
 * defaults: unset is unset.
 */
export function addSettingOptions(
  command: Command,
  groups: readonly { title: string; settings: object }[] = GROUPS,
): Command {
  for (const group of groups) {
    command.optionsGroup(group.title);
    for (const s of Object.values(group.settings) as Setting[])
      if (s.flag !== null) command.addOption(option(s));
  }
  return command;
}

/** The flags given on `command`'s command line (not commander defaults), by setting key, for resolveSettings. */
export function givenFlags(command: Command): Record<string, unknown> {
  const given: Record<string, unknown> = {};
  for (const s of SETTINGS) {
    if (s.flag === null) continue;
    const attribute = new Option(flagName(s) as string).attributeName();
    if (command.getOptionValueSource(attribute) === "cli") given[s.key] = command.getOptionValue(attribute);
  }
  return given;
}
