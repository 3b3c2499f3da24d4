import { constants } from "node:fs";
import { access } from "node:fs/promises";

/**
 * `serve` waits for a file that does not exist yet (a log not written to so far), and says so at start: a typo
 * in a path would otherwise look like a quiet log. The dashboard shows the same stream as waiting for its file.
 */
export async function missingFileWarnings(
  streams: readonly { name: string; file?: string }[],
): Promise<string[]> {
  const out: string[] = [];
  for (const s of streams) {
    if (s.file === undefined) continue;
    try {
      await access(s.file, constants.R_OK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === "ENOENT" || code === "ENOTDIR")
        out.push(`livetrail: warning: ${s.name}: ${s.file} does not exist (yet); waiting for it to appear\n`);
      else
        out.push(
          `livetrail: warning: ${s.name}: cannot read ${s.file} (${code ?? String(error)}); waiting for it\n`,
        );
    }
  }
  return out;
}
