/** Variables every command gets from the server's environment (when set): enough to find programs and text. */
export const BASE_ENV = ["PATH", "HOME", "LANG"] as const;

/** Where a command looks for programs when the server has no PATH itself. */
const FALLBACK_PATH = "/usr/local/bin:/usr/bin:/bin";

/**
 * The environment a command runs with: only BASE_ENV and the names the operator allows, copied from the server's
 * own. Never the whole of it: the server may hold tokens and keys (LIVETRAIL_*_TOKENS) a command must not see.
 */
export function commandEnv(from: NodeJS.ProcessEnv, allow: readonly string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const name of [...BASE_ENV, ...allow]) {
    const value = from[name];
    if (value !== undefined) env[name] = value;
  }
  env.PATH ??= FALLBACK_PATH;
  return env;
}

/** Null when `name` may be passed on (a shell-style variable name), else what is wrong with it. */
export function envNameProblem(name: string): string | null {
  return /^[A-Za-z_][A-Za-z0-9_]{0,127}$/.test(name) ? null : `"${name}" is not an environment variable name`;
}
