import { readFile } from "node:fs/promises";
import { join } from "node:path";

/** What a container's directory under `<docker root>/containers/<id>/` says about it (no Engine API needed). */
export interface ContainerFiles {
  id: string;
  /** `Name` of config.v2.json without its leading "/", when the file is readable. */
  name: string | undefined;
  /** From config.v2.json's `State`: running, paused, restarting, exited or created. */
  state: ContainerState | undefined;
  /** hostconfig.json's `LogConfig.Type` (json-file, local, journald, ...), when the file is readable. */
  logDriver: string | undefined;
  /** The json-file driver's log: `<id>-json.log` (rotated ones are `.1`, `.2`, ...). */
  logPath: string;
}

export type ContainerState = "running" | "paused" | "restarting" | "exited" | "created" | "removed";

/** Docker's container IDs: 64 lower-case hex digits. */
export const CONTAINER_ID = /^[0-9a-f]{64}$/;

/**
 * Reads config.v2.json and hostconfig.json of one container (written by the daemon; either may be missing for a
 * moment while it creates the container, or be rewritten under us: a file that does not parse counts as absent).
 */
export async function readContainerDir(containers: string, id: string): Promise<ContainerFiles> {
  const dir = join(containers, id);
  const config = await readJson(join(dir, "config.v2.json"));
  const host = await readJson(join(dir, "hostconfig.json"));
  const name = typeof config?.Name === "string" ? config.Name.replace(/^\//, "") : undefined;
  const logConfig = host?.LogConfig as { Type?: unknown } | undefined;
  return {
    id,
    name: name === "" ? undefined : name,
    state: stateOf(config?.State),
    logDriver: typeof logConfig?.Type === "string" && logConfig.Type !== "" ? logConfig.Type : undefined,
    logPath: join(dir, `${id}-json.log`),
  };
}

function stateOf(state: unknown): ContainerState | undefined {
  if (typeof state !== "object" || state === null) return undefined;
  const s = state as Record<string, unknown>;
  if (s.Restarting === true) return "restarting";
  if (s.Paused === true) return "paused";
  if (s.Running === true) return "running";
  // A container that never started has no StartedAt (Go's zero time).
  if (typeof s.StartedAt === "string" && !s.StartedAt.startsWith("0001-")) return "exited";
  return "created";
}

async function readJson(path: string): Promise<Record<string, unknown> | undefined> {
  try {
    const value: unknown = JSON.parse(await readFile(path, "utf8"));
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
