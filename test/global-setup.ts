import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

/**
 * Builds dist/ once before any test file runs: CLI and multi-process tests run the real compiled program
 * (`node dist/cli/main.js`), as users do. The native tsc takes well under a second.
 */
export default async function setup(): Promise<void> {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const tsc = fileURLToPath(new URL("../node_modules/.bin/tsc", import.meta.url));
  try {
    await promisify(execFile)(tsc, ["-p", "tsconfig.build.json"], { cwd: root });
  } catch (error) {
    const { code, stdout = "", stderr = "" } = error as { code?: number; stdout?: string; stderr?: string };
    // Exit status 2: type errors, but every file was emitted. `npm run typecheck` reports those; the tests
    // still run, so one unfinished module does not hide the results of all the others.
    if (code === 2) {
      console.warn(`build: type errors (outputs emitted; npm run typecheck fails):\n${stdout}${stderr}`);
      return;
    }
    throw new Error(`the build failed, so tests that run dist/ cannot run:\n${stdout}${stderr}`);
  }
}
