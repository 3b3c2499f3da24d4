import { alerts } from "./alerts.js";
import { core } from "./core.js";
import { integrity } from "./integrity.js";
import { limits } from "./limits.js";
import { redis } from "./redis.js";
import { security } from "./security.js";
import type { Setting } from "./setting.js";
import { sources } from "./sources.js";
import { streams } from "./streams.js";

/**
 * Every `serve` setting, declared once in its group's file. Flags, the config file's keys, environment variables,
 * help and docs/settings.md all come from here: adding a setting is adding one entry to one group.
 */
export const GROUPS = [core, streams, sources, limits, security, integrity, redis, alerts] as const;

type Merged<G> = G extends readonly [infer H, ...infer R]
  ? (H extends { settings: infer S } ? S : never) & Merged<R>
  : unknown;

/** The table by config key. */
export type Table = Merged<typeof GROUPS>;
export type SettingKey = keyof Table & string;

/** The resolved value of every setting (undefined where none is given and there is no default). */
export type SettingValues = { [K in SettingKey]: Table[K] extends Setting<infer T> ? T : never };

export const TABLE = Object.assign({}, ...GROUPS.map((g) => g.settings)) as Table;

/** All settings in table order. */
export const SETTINGS: readonly Setting[] = GROUPS.flatMap((g) => Object.values(g.settings) as Setting[]);

export function settingByKey(key: string): Setting | undefined {
  return SETTINGS.find((s) => s.key === key);
}
