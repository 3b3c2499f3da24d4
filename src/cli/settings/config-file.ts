import { readFile } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { CliError } from "../cli-error.js";

/** A parsed `--config` file: its top-level values, where each key is, and the directory paths are taken against. */
export interface ConfigFile {
  path: string;
  base: string;
  values: Record<string, unknown>;
  /** The 1-based line a top-level key is on (its first occurrence). */
  lineOf(key: string): number | undefined;
}

/** Reads and parses a JSON config file; unreadable: exit 1, not JSON or not an object: exit 2. */
export async function readConfigFile(path: string): Promise<ConfigFile> {
  let text: string;
  try {
    text = await readFile(path, "utf8");
  } catch (error) {
    throw new CliError(`--config ${path}: ${(error as Error).message}`, 1);
  }
  return parseConfigText(text, path);
}

export function parseConfigText(text: string, path: string): ConfigFile {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (error) {
    throw new CliError(`--config ${path}: not valid JSON: ${(error as Error).message}`, 2);
  }
  if (typeof raw !== "object" || raw === null || Array.isArray(raw)) {
    throw new CliError(`--config ${path}: must be a JSON object`, 2);
  }
  const lines = topLevelKeyLines(text);
  return {
    path,
    base: dirname(resolve(path)),
    values: raw as Record<string, unknown>,
    lineOf: (key) => lines.get(key),
  };
}

/**
 * The line of each key of the top-level object, by one pass over the (already valid) JSON text: tracks nesting
 * and strings, and takes a string at depth 1 followed by ":" as a key.
 */
function topLevelKeyLines(text: string): Map<string, number> {
  const lines = new Map<string, number>();
  let depth = 0;
  let line = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (c === "\n") line++;
    else if (c === "{" || c === "[") depth++;
    else if (c === "}" || c === "]") depth--;
    else if (c === '"') {
      const start = i;
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === "\\") i++;
      if (depth !== 1) continue;
      let j = i + 1;
      while (/\s/.test(text[j] ?? "")) j++;
      if (text[j] !== ":") continue;
      const key = JSON.parse(text.slice(start, i + 1)) as string;
      if (!lines.has(key)) lines.set(key, line);
    }
  }
  return lines;
}
