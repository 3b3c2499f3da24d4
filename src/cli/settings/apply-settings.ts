import type { ServeTarget, Setting } from "./setting.js";
import { SETTINGS, type SettingValues } from "./settings-table.js";

/**
 * The server's options from resolved settings: every setting with an `apply` puts its value in. Files the
 * settings name (tokens, TLS, keys) are read by security-flags.ts and integrity-flags.ts.
 */
export function applySettings(values: SettingValues): ServeTarget {
  const target: ServeTarget = { server: { streams: values.streams }, security: {} };
  for (const s of SETTINGS as Setting<unknown>[]) {
    const value = values[s.key as keyof SettingValues];
    if (s.apply !== undefined && value !== undefined && value !== null) s.apply(target, value);
  }
  target.server.security = target.security;
  return target;
}
