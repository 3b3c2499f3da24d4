import { open, readFile, rename, unlink } from "node:fs/promises";
import type { GroupSnapshot } from "./rule-runtime.js";

/**
 * The engine's small state file: per rule (by name, with its definition) the silence times, anomaly baselines
 * and announced episodes that must survive a restart. Written whole to a temporary file beside it, fsynced and
 * renamed over it, so a crash leaves the old file or the new one, never half of one.
 */
export interface EngineState {
  version: 1;
  savedAt: number;
  rules: Record<string, { definition: string; groups: GroupSnapshot[] }>;
}

/** The saved state, or null when there is none yet; a damaged file is reported, not fatal. */
export async function readState(path: string, onError: (error: Error) => void): Promise<EngineState | null> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== "ENOENT") onError(error as Error);
    return null;
  }
  try {
    const state = JSON.parse(text) as EngineState;
    if (state?.version !== 1 || typeof state.rules !== "object" || state.rules === null) {
      throw new Error("not a livetrail alert state file (version 1)");
    }
    return state;
  } catch (error) {
    onError(new Error(`alert state ${path}: ${(error as Error).message}; starting without it`));
    return null;
  }
}

export async function writeState(path: string, state: EngineState): Promise<void> {
  const tmp = `${path}.${process.pid}.tmp`;
  const handle = await open(tmp, "w", 0o600);
  try {
    await handle.writeFile(JSON.stringify(state));
    await handle.sync();
  } finally {
    await handle.close();
  }
  try {
    await rename(tmp, path);
  } catch (error) {
    await unlink(tmp).catch(() => {});
    throw error;
  }
}
