import { basename, resolve } from "node:path";
import picomatch from "picomatch";

/** Files of one directory whose names match: what a glob or directory stream spec means. */
export interface GlobPattern {
  /** The directory watched (absolute). */
  dir: string;
  /** The pattern on file names, as given (`*.log`; `*` for a directory). */
  glob: string;
  /** Whether a file name matches (rotated generations are left out apart, see rotated-name.ts). */
  matches(name: string): boolean;
}

export class GlobPatternError extends Error {
  override name = "GlobPatternError";
}

/** Whether a stream spec is a glob (`/var/log/app/*.log`): it has wildcards, braces or brackets. */
export function isGlob(given: string): boolean {
  return picomatch.scan(given).isGlob;
}

/**
 * `/var/log/app/*.log` → the directory /var/log/app and names matching `*.log`; a directory → all its files.
 * Wildcards only in the last path segment: the directory is watched, not a tree. Throws GlobPatternError.
 */
export function parseGlobPattern(given: string, isDirectory: boolean): GlobPattern {
  if (isDirectory) return pattern(resolve(given), "*");
  const scan = picomatch.scan(resolve(given));
  if (!scan.isGlob) throw new GlobPatternError(`"${given}" is neither a glob nor a directory`);
  if (scan.glob.includes("/") || scan.glob.includes("**"))
    throw new GlobPatternError(
      `"${given}": wildcards go in the file name only (like /var/log/app/*.log): one directory is watched, not a tree`,
    );
  if (scan.negated) throw new GlobPatternError(`"${given}": a negated glob matches no file name to follow`);
  return pattern(scan.base === "" ? "/" : scan.base, scan.glob);
}

function pattern(dir: string, glob: string): GlobPattern {
  // dot: false (picomatch's default) leaves hidden files out, as a shell's * does.
  const test = picomatch(glob);
  return { dir, glob, matches: (name) => name === basename(name) && test(name) };
}
