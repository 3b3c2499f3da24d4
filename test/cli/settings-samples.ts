import type { Setting } from "../../src/cli/settings/setting.js";
import { SETTINGS } from "../../src/cli/settings/settings-table.js";

/** Settings a flag, a variable and a config key all reach, with one value overriding the other. */
export const LAYERED = SETTINGS.filter(
  (s) => s.flag !== null && s.envName !== null && s.config !== false && s.merge !== true,
);

/**
 * Three values of a setting as text, for the flag, the environment and the config file, in that order. A negated
 * switch (--no-watch) can only say false on the command line, so its samples are flipped.
 */
export function samples(s: Setting): readonly [string, string, string] {
  if (s.negate === true) return ["false", "true", "false"];
  return s.kind.samples;
}

/** The sample as a config file holds it. */
export function asJson(s: Setting, text: string): unknown {
  if (s.kind.repeatable) return text.split(",");
  if (s.kind.arg === null) return text === "true";
  if (s.kind.describe.startsWith("a whole number")) return Number(text);
  return text;
}

/** The sample as commander hands it over after parsing the command line. */
export function asFlag(s: Setting, text: string): unknown {
  if (s.kind.repeatable) return text.split(",");
  if (s.kind.arg === null) return s.negate !== true;
  return text;
}

/** The sample as command-line arguments. */
export function asArgv(s: Setting, text: string): string[] {
  const flag = s.flag as string;
  if (s.kind.repeatable) return text.split(",").flatMap((item) => [flag, item]);
  if (s.kind.arg === null) return [s.negate === true ? `--no-${flag.slice(2)}` : flag];
  return [flag, text];
}
