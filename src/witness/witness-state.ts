import { readFile, rename, writeFile } from "node:fs/promises";
import type { Remembered } from "./witness-check.js";

/**
 * The witness's memory: the newest verified checkpoint per log (by origin), in a JSON file replaced atomically (write
 * then rename), so a crash leaves the old state or the new one, never a torn one. Losing it loses the witness's
 * protection (it would trust whatever it sees next), so a file that cannot be read is an error, not a fresh start.
 */
export interface WitnessStateFile {
  version: 1;
  /** By checkpoint origin. */
  logs: Record<string, Remembered>;
  /** The origin each stream URL served: another origin at a URL is an alarm, not a new log. */
  urls: Record<string, string>;
}

export async function loadWitnessState(path: string): Promise<WitnessStateFile> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return { version: 1, logs: {}, urls: {} };
    throw error;
  }
  const state = JSON.parse(text) as WitnessStateFile;
  if (state?.version !== 1 || typeof state.logs !== "object" || typeof state.urls !== "object") {
    throw new Error(`${path}: not a livetrail witness state file`);
  }
  return state;
}

export async function saveWitnessState(path: string, state: WitnessStateFile): Promise<void> {
  const tmp = `${path}.tmp-${process.pid}`;
  await writeFile(tmp, `${JSON.stringify(state, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, path);
}
