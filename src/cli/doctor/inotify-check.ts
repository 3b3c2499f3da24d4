import { readdir, readFile, readlink, stat } from "node:fs/promises";
import { join } from "node:path";
import { type CheckResult, fail, ok, warn } from "./check-result.js";

export interface InotifyCheckOptions {
  /** Directories the server will watch (one inotify watch each: the followers watch their file's directory). */
  directories: number;
  /** Where procfs is; tests pass a planted tree (the real /proc cannot be changed). */
  procRoot?: string;
  /** The user whose instances and watches count against the limits (default: this process's). */
  uid?: number;
}

interface InotifyUse {
  instances: number;
  watches: number;
}

/**
 * inotify limits against what this user already uses plus what the server needs: one instance (Node's event loop
 * keeps one) and a watch per log directory. Past a limit Node's watch fails and the server falls back to polling
 * (changes seen up to --poll-interval late), hence warn rather than fail, except when no watch at all is possible.
 */
export async function checkInotify(options: InotifyCheckOptions): Promise<CheckResult> {
  const proc = options.procRoot ?? "/proc";
  const limit = async (name: string): Promise<number | null> => {
    try {
      const n = Number((await readFile(join(proc, "sys/fs/inotify", name), "utf8")).trim());
      return Number.isFinite(n) ? n : null;
    } catch {
      return null;
    }
  };
  const maxWatches = await limit("max_user_watches");
  const maxInstances = await limit("max_user_instances");
  if (maxWatches === null || maxInstances === null) {
    return ok("inotify", `no inotify limits at ${proc}/sys/fs/inotify (not Linux?): polling is used`);
  }
  const used = await inotifyUse(proc, options.uid ?? process.getuid?.() ?? 0);
  const needWatches = options.directories;
  const usage = `${used.instances}/${maxInstances} instances and ${used.watches}/${maxWatches} watches in use by this user; the server needs 1 and ${needWatches}`;
  const sysctl = (name: string, value: number) =>
    `sysctl fs.inotify.${name}=${value} (and put it in /etc/sysctl.d/ to keep it)`;
  if (used.instances + 1 > maxInstances) {
    const fix = sysctl("max_user_instances", Math.max(256, maxInstances * 2));
    return maxInstances === 0
      ? fail("inotify", `inotify is disabled (max_user_instances 0): ${usage}`, fix)
      : warn("inotify", `no inotify instance left: ${usage}; the server would poll`, fix);
  }
  if (used.watches + needWatches > maxWatches) {
    return warn(
      "inotify",
      `not enough inotify watches left: ${usage}; the server would poll`,
      sysctl("max_user_watches", Math.max(524_288, (used.watches + needWatches) * 2)),
    );
  }
  return ok("inotify", usage);
}

/** Counts the inotify descriptors of the user's processes and the watches each holds (procfs fdinfo lines). */
async function inotifyUse(proc: string, uid: number): Promise<InotifyUse> {
  const use: InotifyUse = { instances: 0, watches: 0 };
  let pids: string[];
  try {
    pids = (await readdir(proc)).filter((name) => /^\d+$/.test(name));
  } catch {
    return use;
  }
  for (const pid of pids) {
    try {
      if ((await stat(join(proc, pid))).uid !== uid) continue;
      const fdDir = join(proc, pid, "fd");
      for (const fd of await readdir(fdDir)) {
        if ((await readlink(join(fdDir, fd)).catch(() => "")) !== "anon_inode:inotify") continue;
        use.instances++;
        const info = await readFile(join(proc, pid, "fdinfo", fd), "utf8").catch(() => "");
        use.watches += info.split("\n").filter((line) => line.startsWith("inotify wd:")).length;
      }
    } catch {
      // A process that ended meanwhile, or one we may not look into.
    }
  }
  return use;
}
