import { readFile } from "node:fs/promises";
import { parseCosignerVerifierKey } from "../integrity/cosignature.js";
import type { NoteVerifier } from "../integrity/note.js";
import { loadSealKey, loadVerifierKey } from "../integrity/seal-key.js";
import type { IntegrityServerOptions } from "../server/options.js";
import { CliError } from "./cli-error.js";
import type { SettingValues } from "./settings/settings-table.js";

type IntegrityValues = Pick<
  SettingValues,
  "sealKey" | "logKeys" | "witnessKeys" | "sealEveryLines" | "sealEveryMs"
>;

/** `serve`'s integrity options (docs/integrity.md, "Serving and API"); keys are read here, so a bad one fails at start. */
export async function integrityFromSettings(values: IntegrityValues): Promise<IntegrityServerOptions> {
  const out: IntegrityServerOptions = { everyLines: values.sealEveryLines, everyMs: values.sealEveryMs };
  try {
    if (values.sealKey !== undefined) out.sealKey = await loadSealKey(values.sealKey);
    if (values.logKeys.length > 0)
      out.logKeys = await Promise.all(values.logKeys.map((k) => loadVerifierKey(k)));
    if (values.witnessKeys.length > 0)
      out.witnessKeys = await Promise.all(values.witnessKeys.map(loadWitnessKey));
  } catch (error) {
    throw new CliError(`integrity key: ${(error as Error).message}`, 2);
  }
  return out;
}

async function loadWitnessKey(pathOrKey: string): Promise<NoteVerifier> {
  const text = /^[^+\s]+\+[0-9a-f]{8}\+\S+$/.test(pathOrKey)
    ? pathOrKey
    : (await readFile(pathOrKey, "utf8")).trim();
  // A witness's clock may run a little ahead of ours: a cosignature up to 5 minutes in the future is accepted.
  return parseCosignerVerifierKey(text, { now: Date.now, maxFutureSeconds: 300 });
}
