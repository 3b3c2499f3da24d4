import { statSync } from "node:fs";
import { GlobPatternError, isGlob, parseGlobPattern } from "../backend/glob/glob-pattern.js";
import { type GlobSpec, GlobStreams } from "../backend/glob/glob-streams.js";
import type { FileBackendOptions } from "../backend/sources.js";
import type { StreamSpec } from "../server/options.js";
import { CliError } from "./cli-error.js";

/**
 * Takes the streams whose file is a glob or a directory out of the list: their files become streams as they are
 * found (a StreamSource; each directory is looked at every `rescanMs` besides change events), named
 * `NAME.<file name>`. `labels` describe them for the start-up message.
 */
export function globStreams(
  streams: StreamSpec[],
  rescanMs: number,
  file: FileBackendOptions,
): { streams: StreamSpec[]; source: GlobStreams | null; labels: string[] } {
  const globs: GlobSpec[] = [];
  const rest: StreamSpec[] = [];
  for (const s of streams) {
    const directory = s.backend === undefined && s.file !== undefined && isDirectory(s.file);
    if (s.backend !== undefined || s.file === undefined || !(directory || isGlob(s.file))) {
      rest.push(s);
      continue;
    }
    try {
      const pattern = parseGlobPattern(s.file, directory);
      globs.push({ name: s.name, pattern, ...(s.host === undefined ? {} : { host: s.host }) });
    } catch (error) {
      if (!(error instanceof GlobPatternError)) throw error;
      throw new CliError(`stream "${s.name}": ${error.message}`, 2);
    }
  }
  if (globs.length === 0) return { streams, source: null, labels: [] };
  const source = new GlobStreams(globs, {
    file,
    rescanMs,
    taken: rest.map((s) => s.name),
    onProblem: (message) => process.stderr.write(`livetrail: ${message}\n`),
  });
  const labels = globs.map((g) => `${g.name}.*=${g.pattern.dir}/${g.pattern.glob}`);
  return { streams: rest, source, labels };
}

function isDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}
