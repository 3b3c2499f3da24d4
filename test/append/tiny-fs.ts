import { execFile } from "node:child_process";
import { open, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { promisify } from "node:util";
import { afterEach } from "vitest";
import { makeTempDir } from "../helpers/temp-dir.js";

const run = promisify(execFile);

/**
 * Mounting a tmpfs needs root (CAP_SYS_ADMIN). Tests that fill a real file system are skipped without it; on
 * this project's test machines they run as root. (A loop-mounted image would need root just the same.)
 */
export const canMount = process.getuid?.() === 0;

/** A small tmpfs mounted on a fresh directory. tmpfs hands out space in 4 KiB pages. */
export interface TinyFs {
  path: string;
  file(name: string): string;
  /** Takes all the space left with a filler file: after it, a file's last page keeps only its unused tail. */
  fill(): Promise<void>;
  /** Removes the filler: the space is free again. */
  free(): Promise<void>;
  remount(options: "ro" | "rw"): Promise<void>;
}

export const PAGE = 4096;

/** For use at the top of a test file: every tiny file system made through it is unmounted after each test. */
export function useTinyFs(): (size: string) => Promise<TinyFs> {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });
  return async (size) => {
    const dir = await makeTempDir("livetrail-tinyfs-");
    await run("mount", ["-t", "tmpfs", "-o", `size=${size},mode=0755`, "tmpfs", dir.path]);
    cleanups.push(async () => {
      // chattr +a files would survive as long as the mount; the mount goes, and them with it.
      await run("umount", [dir.path]).catch(() => run("umount", ["-l", dir.path]));
      await dir.remove();
    });
    const filler = join(dir.path, ".filler");
    return {
      path: dir.path,
      file: (name) => join(dir.path, name),
      fill: async () => {
        await writeFile(filler, "");
        const handle = await open(filler, "a");
        try {
          const page = Buffer.alloc(PAGE, 0x30);
          for (;;) {
            const { bytesWritten } = await handle.write(page);
            if (bytesWritten < PAGE) break;
          }
        } catch (error) {
          if ((error as NodeJS.ErrnoException).code !== "ENOSPC") throw error;
        } finally {
          await handle.close();
        }
      },
      free: () => rm(filler, { force: true }),
      remount: async (options) => {
        await run("mount", ["-o", `remount,${options}`, dir.path]);
      },
    };
  };
}
