import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { CliError } from "../cli-error.js";
import { type CheckResult, formatResult } from "./check-result.js";
import { checkClockSkew } from "./clock-check.js";
import { checkLogFile, checkTokenFile } from "./file-checks.js";
import { checkInotify } from "./inotify-check.js";
import { checkPort } from "./port-check.js";
import { checkProxy } from "./proxy-check.js";
import { checkTlsCert } from "./tls-check.js";

/** What doctor looks at: the setup `serve` would run with, and optionally the public URL in front of it. */
export interface DoctorSetup {
  files: string[];
  host: string;
  port: number;
  tokenFile?: string;
  tlsCert?: string;
  tlsKey?: string;
  /** A URL through the reverse proxy, with the token to use there (or null). */
  url?: string;
  token?: string | null;
  now?: Date;
  procRoot?: string;
}

/** Runs every check that applies, in a fixed order; each one reports on its own, none stops the others. */
export async function runDoctor(setup: DoctorSetup): Promise<CheckResult[]> {
  const now = setup.now ?? new Date();
  const results: CheckResult[] = [];
  for (const file of setup.files) results.push(await checkLogFile(file));
  for (const file of setup.files) {
    const clock = await checkClockSkew(file, now);
    if (clock !== null) results.push(clock);
  }
  if (setup.tokenFile !== undefined) results.push(await checkTokenFile(setup.tokenFile));
  const directories = new Set(setup.files.map((file) => dirname(file))).size;
  results.push(
    await checkInotify({
      directories,
      ...(setup.procRoot === undefined ? {} : { procRoot: setup.procRoot }),
    }),
  );
  results.push(await checkPort(setup.host, setup.port, setup.procRoot));
  if (setup.tlsCert !== undefined) results.push(await checkTlsCert(setup.tlsCert, setup.tlsKey, now));
  if (setup.url !== undefined) results.push(...(await checkProxy(setup.url, setup.token ?? null)));
  return results;
}

export function printResults(results: readonly CheckResult[]): void {
  process.stdout.write(results.map((r) => `${formatResult(r)}\n`).join(""));
}

/** The streams, host and port of a `serve --config` file (the rest of it is not doctor's business). */
export async function readServeConfig(
  path: string,
): Promise<{ files: string[]; host?: string; port?: number }> {
  let raw: unknown;
  try {
    raw = JSON.parse(await readFile(path, "utf8"));
  } catch (error) {
    throw new CliError(
      `--config ${path}: ${(error as Error).message}`,
      (error as NodeJS.ErrnoException).code ? 1 : 2,
    );
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw))
    throw new CliError(`--config ${path}: must be a JSON object`, 2);
  const config = raw as { streams?: unknown; host?: unknown; port?: unknown };
  const base = dirname(resolve(path));
  const list = Array.isArray(config.streams)
    ? (config.streams as { file?: unknown }[]).map((s) => s?.file)
    : typeof config.streams === "object" && config.streams !== null
      ? Object.values(config.streams)
      : [];
  const files = list
    .filter((f): f is string => typeof f === "string" && f !== "")
    .map((f) => resolve(base, f));
  return {
    files,
    ...(typeof config.host === "string" ? { host: config.host } : {}),
    ...(typeof config.port === "number" ? { port: config.port } : {}),
  };
}
