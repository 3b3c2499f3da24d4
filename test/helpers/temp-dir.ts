import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterEach } from "vitest";

/** A fresh directory under os.tmpdir(); `remove()` deletes it and everything in it (idempotent). */
export interface TempDir {
  path: string;
  /** Absolute path of `name` inside the directory. */
  file(name: string): string;
  remove(): Promise<void>;
}

export async function makeTempDir(prefix = "livetrail-test-"): Promise<TempDir> {
  const path = await mkdtemp(join(tmpdir(), prefix));
  let removed = false;
  return {
    path,
    file: (name) => join(path, name),
    remove: async () => {
      if (removed) return;
      removed = true;
      await rm(path, { recursive: true, force: true });
    },
  };
}

/**
 * For use at the top of a test file: every temp dir made through the returned function is removed after
 * each test, so a failing test leaves nothing behind.
 */
export function useTempDirs(prefix?: string): () => Promise<TempDir> {
  const made: TempDir[] = [];
  afterEach(async () => {
    const dirs = made.splice(0);
    await Promise.all(dirs.map((dir) => dir.remove()));
  });
  return async () => {
    const dir = await makeTempDir(prefix);
    made.push(dir);
    return dir;
  };
}
