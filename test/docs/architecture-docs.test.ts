import { execFileSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { dirname, normalize, relative } from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

const ROOT = fileURLToPath(new URL("../..", import.meta.url));
const DOC = readFileSync(`${ROOT}docs/architecture.md`, "utf8");
const SOURCES = execFileSync("git", ["ls-files", "src/*.ts"], { cwd: ROOT }).toString().trim().split("\n");

/** Every relative import of a source file, as a path from the repository root. */
function importsOf(file: string): string[] {
  const text = readFileSync(`${ROOT}${file}`, "utf8");
  return [...text.matchAll(/from "(\.{1,2}\/[^"]+)"/g)].map((m) =>
    normalize(relative(ROOT, `${ROOT}${dirname(file)}/${m[1]}`)).replace(/\.js$/, ".ts"),
  );
}

describe("docs/architecture.md against the code", () => {
  it("names only modules that exist", () => {
    const named = [...DOC.matchAll(/`(src\/[^`\s]+\.ts)`/g)].map((m) => m[1] as string);
    expect(named.length).toBeGreaterThan(10);
    for (const path of named) expect(existsSync(`${ROOT}${path}`), path).toBe(true);
  });

  it("holds the layering it describes: file modules stay behind the backend boundary", () => {
    // The library's index re-exports the follower, `livetrail tail` follows a path with it,
    // backend/sources.ts is where the server gets a file stream's backend, and integrity/file-source.ts binds a
    // sealed log to the file identity the file backend uses (so a checkpoint names the file a cursor names).
    // The ship agent (src/ship/) follows local files with the same follower and resumes from file cursors it
    // stores in Redis entries.
    const allowed = new Set([
      "src/index.ts",
      "src/cli/commands/tail.ts",
      "src/backend/sources.ts",
      "src/integrity/file-source.ts",
    ]);
    const leaks: string[] = [];
    for (const file of SOURCES) {
      if (file.startsWith("src/backend/file/") || file.startsWith("src/ship/") || allowed.has(file)) continue;
      for (const target of importsOf(file)) {
        if (target.startsWith("src/backend/file/")) leaks.push(`${file} -> ${target}`);
      }
    }
    expect(leaks).toEqual([]);
  });

  it("keeps server, protocol and web on the neutral side: no byte offsets, no file words", () => {
    const offenders: string[] = [];
    for (const file of SOURCES) {
      if (!/^src\/(server|protocol|web)\//.test(file)) continue;
      const text = readFileSync(`${ROOT}${file}`, "utf8");
      // A line's byte span (`line.start`, `line.end`) is the backend's business (`this.start` is a field).
      const span = /(?<!this)\.(start|end)\s*[-+<>]|[-+<>]\s*(?!this\b)\w+\.(start|end)\b/;
      if (span.test(text) || /isMissing|ENOENT|previousSize|positionOf/.test(text)) {
        offenders.push(file);
      }
    }
    expect(offenders).toEqual([]);
  });

  it("keeps the web client off the server and the backends", () => {
    for (const file of SOURCES.filter((f) => f.startsWith("src/web/"))) {
      for (const target of importsOf(file)) {
        expect(target, `${file} imports ${target}`).toMatch(
          /^src\/(web|protocol|core\/(entry|escape|regex-dialect)\.ts)/,
        );
      }
    }
  });
});
