import { resolve } from "node:path";
import { CliError } from "./cli-error.js";

/** Where the seed kept its audit log, relative to the working directory. */
export const DEFAULT_AUDIT_FILE = "status/AUTO_REPAIR_AUDIT.log";

/** The audit file a command works on: an explicit path, else $LIVETRAIL_FILE, else the default. Absolute. */
export function resolveAuditFile(explicit?: string, env: NodeJS.ProcessEnv = process.env): string {
  if (explicit !== undefined && explicit.trim() === "") throw new CliError("the file path is empty", 2);
  const chosen = explicit ?? (env.LIVETRAIL_FILE?.trim() ? env.LIVETRAIL_FILE : DEFAULT_AUDIT_FILE);
  return resolve(chosen);
}
