import { execFile } from "node:child_process";
import { mkdir, mkdtemp, readdir, readFile, rename, rm, writeFile } from "node:fs/promises";
import { dirname, join, relative } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { promisify } from "node:util";
import { build } from "rolldown";

/**
 * Builds dist/ before any test file runs: CLI and multi-process tests run the real compiled and bundled program
 * (`node dist/bin/main.js`, the package's bin), as users do. The native tsc takes well under a second.
 *
 * Several test runs may share this checkout, and one run's processes may be loading dist/ while another run
 * builds. So tsc writes to a staging directory (at the same depth as dist/, so source maps stay right) and only
 * files whose content changed are copied into dist/, each by an atomic rename: a process never loads a
 * half-written module.
 */
export default async function setup(): Promise<void> {
  const root = fileURLToPath(new URL("..", import.meta.url));
  const tsc = join(root, "node_modules/.bin/tsc");
  const stage = await mkdtemp(join(root, ".build-stage-"));
  try {
    try {
      await promisify(execFile)(tsc, ["-p", "tsconfig.build.json", "--outDir", stage], { cwd: root });
    } catch (error) {
      const { code, stdout = "", stderr = "" } = error as { code?: number; stdout?: string; stderr?: string };
      // Exit status 2: type errors, but every file was emitted. `npm run typecheck` reports those; the tests
      // still run, so one unfinished module does not hide the results of all the others.
      if (code !== 2)
        throw new Error(`the build failed, so tests that run dist/ cannot run:\n${stdout}${stderr}`);
      console.warn(`build: type errors (outputs emitted; npm run typecheck fails):\n${stdout}${stderr}`);
    }
    await publish(stage, join(root, "dist"));
    // Then the bundle that `livetrail` (package.json "bin") runs, from the modules just published.
    const bundleStage = join(stage, "bin");
    const { default: config } = await import(pathToFileURL(join(root, "rolldown.config.mjs")).href);
    await build({ ...config, cwd: root, logLevel: "warn", output: { ...config.output, dir: bundleStage } });
    await publish(bundleStage, join(root, "dist/bin"));
  } finally {
    await rm(stage, { recursive: true, force: true });
  }
}

async function publish(stage: string, dist: string): Promise<void> {
  const entries = await readdir(stage, { recursive: true, withFileTypes: true });
  // Entry points last: whatever a new main.js imports is in place before it is.
  entries.sort((a, b) => Number(a.name === "main.js") - Number(b.name === "main.js"));
  for (const entry of entries) {
    if (!entry.isFile()) continue;
    const from = join(entry.parentPath, entry.name);
    const to = join(dist, relative(stage, from));
    const content = await readFile(from);
    const current = await readFile(to).catch(() => null);
    if (current?.equals(content)) continue;
    await mkdir(dirname(to), { recursive: true });
    const temp = `${to}.${process.pid}.tmp`;
    await writeFile(temp, content);
    await rename(temp, to);
  }
}
