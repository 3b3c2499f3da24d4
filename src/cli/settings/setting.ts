import { isAbsolute, resolve } from "node:path";
import type { ServerOptions } from "../../server/options.js";
import type { SecurityOptions } from "../../server/security/security-options.js";

/** Where a setting's value came from, highest precedence first. */
export type Source = "flag" | "env" | "config" | "default";

/** A value that does not fit its setting; the caller prefixes where it was given (flag, variable, config key). */
export class SettingProblem extends Error {
  override readonly name = "SettingProblem";
}

/**
 * A setting's type: how it reads text (a flag's or an environment variable's value), JSON (a config file's value)
 * and how it is shown. `base` is the directory relative paths are taken against (the config file's, else cwd).
 */
export interface Kind<T> {
  /** What a value must be, for errors and docs: "a whole number >= 1". */
  readonly describe: string;
  /** The flag's value placeholder ("<n>"); null: a switch that takes no value. */
  readonly arg: string | null;
  /** The flag may be given several times (each adds an item). */
  readonly repeatable: boolean;
  fromText(text: string, base: string): T;
  fromJson(value: unknown, base: string): T;
  show(value: T): string;
  /** Three different valid values as text (the precedence test gives one per source). */
  readonly samples: readonly [string, string, string];
}

const fail = (message: string): never => {
  throw new SettingProblem(message);
};

export function int(
  opts: { min?: number; max?: number; unit?: "ms" | "seconds"; arg?: string } = {},
): Kind<number> {
  const min = opts.min ?? 1;
  const max = opts.max ?? Number.MAX_SAFE_INTEGER;
  const range = opts.max === undefined ? `>= ${min}` : `${min}..${max}`;
  const describe = `a whole number ${range}${opts.unit === undefined ? "" : ` (${opts.unit})`}`;
  const check = (n: number, given: string): number =>
    Number.isSafeInteger(n) && n >= min && n <= max ? n : fail(`needs ${describe}, got ${given}`);
  return {
    describe,
    arg: opts.arg ?? (opts.unit === undefined ? "<n>" : `<${opts.unit}>`),
    repeatable: false,
    fromText: (text) =>
      /^\d{1,15}$/.test(text.trim())
        ? check(Number(text), `"${text}"`)
        : fail(`needs ${describe}, got "${text}"`),
    fromJson: (value) =>
      typeof value === "number"
        ? check(value, String(value))
        : fail(`needs ${describe}, got ${JSON.stringify(value)}`),
    show: String,
    samples: [String(min + 1), String(min + 2), String(min + 3)],
  };
}

const TRUE = new Set(["1", "true", "yes", "on"]);
const FALSE = new Set(["0", "false", "no", "off"]);

export const bool: Kind<boolean> = {
  describe: "true or false",
  arg: null,
  repeatable: false,
  fromText: (text) => {
    const t = text.trim().toLowerCase();
    return TRUE.has(t)
      ? true
      : FALSE.has(t)
        ? false
        : fail(`needs true or false (1/0, yes/no), got "${text}"`);
  },
  fromJson: (value) =>
    typeof value === "boolean" ? value : fail(`needs true or false, got ${JSON.stringify(value)}`),
  show: String,
  samples: ["true", "false", "true"],
};

/** A string, checked by `problem` (null when fine). */
export function text(
  opts: {
    arg?: string;
    describe?: string;
    problem?: (t: string) => string | null;
    samples?: [string, string, string];
  } = {},
): Kind<string> {
  const describe = opts.describe ?? "a non-empty string";
  const check = (t: string): string => {
    if (t === "") fail(`needs ${describe}, got ""`);
    const problem = opts.problem?.(t) ?? null;
    return problem === null ? t : fail(problem);
  };
  return {
    describe,
    arg: opts.arg ?? "<text>",
    repeatable: false,
    fromText: check,
    fromJson: (value) =>
      typeof value === "string" ? check(value) : fail(`needs ${describe}, got ${JSON.stringify(value)}`),
    show: (v) => v,
    samples: opts.samples ?? ["one", "two", "three"],
  };
}

/** One of a few words. */
export function choice<const W extends string>(words: readonly [W, W, ...W[]]): Kind<W> {
  const describe = words.map((w) => `"${w}"`).join(" or ");
  const check = (v: unknown): W =>
    words.includes(v as W) ? (v as W) : fail(`needs ${describe}, got ${JSON.stringify(v)}`);
  return {
    describe,
    arg: `<${words.join("|")}>`,
    repeatable: false,
    fromText: (t) => check(t.trim()),
    fromJson: check,
    show: (v) => v,
    samples: [words[1], words[0], words[1]],
  };
}

/** A file or directory: relative paths are taken against the config file's directory (flags: the working one). */
export function path(opts: { arg?: string; describe?: string } = {}): Kind<string> {
  const describe = opts.describe ?? "a path";
  const check = (t: string, base: string): string =>
    t === "" ? fail(`needs ${describe}, got ""`) : resolve(base, t);
  return {
    describe,
    arg: opts.arg ?? "<path>",
    repeatable: false,
    fromText: check,
    fromJson: (value, base) =>
      typeof value === "string"
        ? check(value, base)
        : fail(`needs ${describe}, got ${JSON.stringify(value)}`),
    show: (v) => v,
    samples: ["/tmp/lt-sample-1", "/tmp/lt-sample-2", "/tmp/lt-sample-3"],
  };
}

/**
 * A list: a repeatable flag, a comma-separated environment variable, a JSON array (or one string) in the config
 * file. `item` checks and maps each entry (e.g. resolves a path).
 */
export function list(opts: {
  arg: string;
  describe: string;
  item?: (t: string, base: string) => string;
  samples?: [string, string, string];
}): Kind<string[]> {
  const item = (t: string, base: string): string => {
    if (t === "") fail(`needs ${opts.describe}, got an empty entry`);
    return opts.item === undefined ? t : opts.item(t, base);
  };
  return {
    describe: `${opts.describe} (a list)`,
    arg: opts.arg,
    repeatable: true,
    fromText: (t, base) =>
      t
        .split(",")
        .map((s) => s.trim())
        .filter((s) => s !== "")
        .map((s) => item(s, base)),
    fromJson: (value, base) => {
      const items = typeof value === "string" ? [value] : Array.isArray(value) ? value : null;
      if (items === null || !items.every((v) => typeof v === "string"))
        return fail(`needs ${opts.describe}: a string or an array of strings, got ${JSON.stringify(value)}`);
      return items.map((s) => item(s, base));
    },
    show: (v) => v.join(","),
    samples: opts.samples ?? ["a1,a2", "b1", "c1,c2,c3"],
  };
}

/** A file path, or a value that is itself the thing (a key written inline: it contains "+"). */
export const pathOrInline = (t: string, base: string): string =>
  t.includes("+") || isAbsolute(t) ? t : resolve(base, t);

/** A structured value only a config file can hold (streams, alerts): parsed by its own module. */
export function structured<T>(
  describe: string,
  parse: (value: unknown, base: string) => T,
  show: (v: T) => string,
): Kind<T> {
  return {
    describe,
    arg: null,
    repeatable: false,
    fromText: () => fail("can only be given in a config file"),
    fromJson: parse,
    show,
    samples: ["", "", ""],
  };
}

/** What `serve` builds from the settings: the server's options and, inside them, the security options. */
export interface ServeTarget {
  server: ServerOptions;
  security: SecurityOptions;
}

/** How a setting reaches the server, given its resolved value (not called when the value is undefined). */
export type Apply<T> = (target: ServeTarget, value: NonNullable<T>) => void;

/** The value goes to the server option of the same meaning. */
export const toServer =
  <K extends keyof ServerOptions>(key: K): Apply<NonNullable<ServerOptions[K]>> =>
  (target, value) => {
    target.server[key] = value as ServerOptions[K];
  };

/** The value goes to this security option. */
export const toSecurity =
  <K extends keyof SecurityOptions>(key: K): Apply<NonNullable<SecurityOptions[K]>> =>
  (target, value) => {
    target.security[key] = value as SecurityOptions[K];
  };

export interface SettingSpec<T> {
  kind: Kind<T>;
  /** The value when no source gives one; undefined: none (the server's own behaviour, said in `defaultText`). */
  default: T;
  /** Shown for the default in help and docs when the value itself says little ("this machine's host name"). */
  defaultText?: string;
  /** The `serve` flag ("--poll-interval"); null: only in a config file (structured settings). */
  flag: string | null;
  /** One-letter alias ("-p"). */
  short?: string;
  /** The flag is `--no-NAME`: giving it sets false (the default is true). */
  negate?: boolean;
  /** Read from LIVETRAIL_<KEY> (default true; structured settings have none). */
  env?: boolean;
  /** May be given in a config file (default true; false for secrets, which stay out of config files). */
  config?: boolean;
  /** Flag and environment values are joined, not overridden (tokens: several may be valid at once). */
  merge?: boolean;
  /** Masked in `config print` and never echoed. */
  secret?: boolean;
  /** How `config print` shows a secret (default: "****"). */
  mask?(value: NonNullable<T>): string;
  /** Not listed in `serve --help` (still in the docs table). */
  hidden?: boolean;
  /**
   * Puts the value into the server's options. Settings without it are read by name where they are used (serve's
   * stream setup, security-flags.ts for files to read).
   */
  apply?(target: ServeTarget, value: NonNullable<T>): void;
  /** One line for `serve --help`. */
  help: string;
  /** The docs table's description; default: `help`. */
  doc?: string;
}

export interface Setting<T = unknown> extends Readonly<SettingSpec<T>> {
  /** The config file's key; the object key the setting is declared under. */
  readonly key: string;
  /** LIVETRAIL_<KEY in upper snake case>, or null. */
  readonly envName: string | null;
}

/** Declares a setting; `key` is given by the group (the property name it is declared under). */
export const setting = <T>(spec: SettingSpec<T>): SettingSpec<T> => spec;

/** A setting declared without a default has undefined as its value when no source gives one. */
export const optional = <T>(
  spec: Omit<SettingSpec<T | undefined>, "default">,
): SettingSpec<T | undefined> => ({
  ...spec,
  default: undefined,
});

export function envName(key: string): string {
  return `LIVETRAIL_${key.replace(/([a-z0-9])([A-Z])/g, "$1_$2").toUpperCase()}`;
}

/** A titled group of settings (one help section); each setting's key is the property it is declared under. */
export interface SettingsGroup<S extends Record<string, SettingSpec<unknown>>> {
  readonly title: string;
  readonly settings: { readonly [K in keyof S]: S[K] & Setting<SpecValue<S[K]>> };
}

export type SpecValue<S> = S extends SettingSpec<infer T> ? T : never;

export function group<S extends Record<string, SettingSpec<unknown>>>(
  title: string,
  specs: S,
): SettingsGroup<S> {
  const settings = Object.fromEntries(
    Object.entries(specs).map(([key, spec]) => [
      key,
      { ...spec, key, envName: (spec.env ?? spec.flag !== null) ? envName(key) : null },
    ]),
  );
  return { title, settings: settings as SettingsGroup<S>["settings"] };
}
