import { open, readFile } from "node:fs/promises";
import { Option } from "commander";
import type { SecurityOptions } from "../server/security/security-options.js";
import { parseTokenFile } from "../server/security/token-set.js";
import { CliError } from "./cli-error.js";
import { applySettings } from "./settings/apply-settings.js";
import { resolveSettings, SettingsError } from "./settings/resolve-settings.js";
import { flagName } from "./settings/settings-options.js";
import { SETTINGS, type SettingValues } from "./settings/settings-table.js";

export interface TokenFilePolicy {
  /**
   * Refuse a token file that group or others may access (CliError, exit 2) unless allowInsecureTokenFile is set;
   * `serve` sets this. Without it such a file is only warned about.
   */
  refuseInsecure?: boolean;
  /** Where the warning goes; default stderr. */
  warn?: (message: string) => void;
}

type SecurityValues = Pick<
  SettingValues,
  | "readTokens"
  | "writeTokens"
  | "tokenFile"
  | "allowInsecureTokenFile"
  | "tlsCert"
  | "tlsKey"
  | "tlsSelfSigned"
>;

/**
 * Completes `security` (already holding the table's plain settings, see applySettings) with what the settings
 * name but do not hold: the tokens (flags, environment and the token file) and the TLS material.
 */
export async function addSecurityFiles(
  security: SecurityOptions,
  values: SecurityValues,
  tokenFilePolicy: TokenFilePolicy = {},
): Promise<SecurityOptions> {
  const read = [...values.readTokens];
  const write = [...values.writeTokens];
  if (values.tokenFile !== undefined) {
    const text = await readTokenFile(values.tokenFile, {
      refuseInsecure: (tokenFilePolicy.refuseInsecure ?? false) && !values.allowInsecureTokenFile,
      warn: tokenFilePolicy.warn ?? ((message) => process.stderr.write(`livetrail: warning: ${message}\n`)),
    });
    try {
      const fromFile = parseTokenFile(text);
      read.push(...fromFile.read);
      write.push(...fromFile.write);
    } catch (error) {
      throw new CliError(`--token-file ${values.tokenFile}: ${(error as Error).message}`, 2);
    }
  }
  security.readTokens = read;
  security.writeTokens = write;

  // Half or conflicting TLS settings were refused with the settings (settings/constraints.ts).
  if (values.tlsSelfSigned) security.tls = { selfSigned: true };
  if (values.tlsCert !== undefined && values.tlsKey !== undefined) {
    security.tls = {
      cert: await readPem(values.tlsCert, "--tls-cert"),
      key: await readPem(values.tlsKey, "--tls-key"),
    };
  }
  return security;
}

/**
 * The security options from `serve`-style flags (commander's names: readToken, tokenFile, rateLimit, ...) and the
 * environment, for callers without a command line (tests, embedding).
 */
export async function securityFromFlags(
  flags: Record<string, unknown>,
  env: NodeJS.ProcessEnv = process.env,
  tokenFilePolicy: TokenFilePolicy = {},
): Promise<{ security: SecurityOptions }> {
  const byKey: Record<string, unknown> = {};
  for (const s of SETTINGS) {
    const name = flagName(s);
    if (name === null) continue;
    const value = flags[new Option(name).attributeName()];
    if (value !== undefined) byKey[s.key] = value;
  }
  let values: SettingValues;
  try {
    values = resolveSettings({ flags: byKey, env }).values;
  } catch (error) {
    if (error instanceof SettingsError) throw new CliError(error.message, 2);
    throw error;
  }
  return { security: await addSecurityFiles(applySettings(values).security, values, tokenFilePolicy) };
}

/**
 * Reads a token file, checking its mode on the descriptor it is read from (no window between check and read). A
 * regular file that group or others may access (mode & 0o077: read, but also write, which lets them add a token)
 * is refused or warned about. Other kinds of file (a pipe from `--token-file <(pass show ...)`) are not checked.
 */
async function readTokenFile(path: string, policy: Required<TokenFilePolicy>): Promise<string> {
  const unreadable = (error: unknown) =>
    new CliError(`--token-file ${path}: ${(error as NodeJS.ErrnoException).code ?? "unreadable"}`, 1);
  let handle: Awaited<ReturnType<typeof open>>;
  try {
    handle = await open(path, "r");
  } catch (error) {
    throw unreadable(error);
  }
  try {
    const info = await handle.stat();
    if (info.isFile() && (info.mode & 0o077) !== 0) {
      const mode = (info.mode & 0o777).toString(8).padStart(4, "0");
      const problem = `--token-file ${path} is open to group or others (mode ${mode})`;
      if (policy.refuseInsecure) {
        throw new CliError(
          `${problem}: anyone who can read it can use its tokens; chmod 600 it, or pass --allow-insecure-token-file`,
          2,
        );
      }
      policy.warn(`${problem}: anyone who can read it can use its tokens; chmod 600 it`);
    }
    return await handle.readFile("utf8");
  } catch (error) {
    if (error instanceof CliError) throw error;
    throw unreadable(error);
  } finally {
    await handle.close();
  }
}

async function readPem(path: string, flag: string): Promise<string> {
  try {
    return await readFile(path, "utf8");
  } catch (error) {
    throw new CliError(`${flag} ${path}: ${(error as NodeJS.ErrnoException).code ?? "unreadable"}`, 1);
  }
}
