import { basename, resolve } from "node:path";
import { isCommandSpec } from "../../backend/command/command-spec.js";
import { hostLabelProblem } from "../../protocol/host-label.js";
import type { StreamSpec } from "../../server/options.js";
import { SettingProblem } from "./setting.js";

/**
 * The config file's `streams`: `{"NAME": "FILE"}` or `[{"name", "file", "host"}]`, files against `base`. A FILE
 * may be a command (cmd:, sh:), a glob or a directory, as on the command line.
 */
export function parseStreamsConfig(value: unknown, base: string): StreamSpec[] {
  const entries = Array.isArray(value)
    ? value
    : typeof value === "object" && value !== null
      ? Object.entries(value).map(([name, file]) => ({ name, file }))
      : null;
  if (entries === null) throw new SettingProblem("must be an object or an array");
  return entries.map((entry: unknown, i) => {
    const e = (typeof entry === "object" && entry !== null ? entry : {}) as Record<string, unknown>;
    const at = typeof e.name === "string" ? `stream "${e.name}"` : `stream ${i}`;
    if (typeof e.file !== "string" || e.file === "") throw new SettingProblem(`${at}: needs a "file" string`);
    // A command (cmd:, sh:) is not a path; globs and directories are, against the config file's directory.
    const file = isCommandSpec(e.file) ? e.file : resolve(base, e.file);
    const named: StreamSpec = { name: typeof e.name === "string" ? e.name : streamName(file), file };
    if (e.host === undefined) return named;
    const problem = typeof e.host === "string" ? hostLabelProblem(e.host) : "a host label is a string";
    if (problem !== null) throw new SettingProblem(`stream "${named.name}": ${problem}`);
    return { ...named, host: e.host as string };
  });
}

/** A stream name from a file's base name, reduced to the allowed characters. */
export function streamName(file: string): string {
  const cleaned = basename(file)
    .replace(/[^A-Za-z0-9._-]/g, "-")
    .replace(/^[^A-Za-z0-9]+/, "")
    .slice(0, 64);
  return cleaned === "" ? "stream" : cleaned;
}
