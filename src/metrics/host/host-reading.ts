import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { type DiskCounters, isWholeDisk, parseDiskstats } from "./diskstats.js";
import { type FilesystemUsage, readFilesystem } from "./filesystem.js";
import { type LoadAverage, parseLoadavg } from "./loadavg.js";
import { type Memory, parseMeminfo } from "./meminfo.js";
import { type NetCounters, parseNetDev } from "./net-dev.js";
import { type CpuSeconds, parseProcStat } from "./proc-stat.js";

/** Everything read from the host at one moment: counters since boot and levels now. */
export interface HostReading {
  /** When it was read (ms, the feed's clock). */
  at: number;
  cpu: CpuSeconds;
  memory: Memory;
  load: LoadAverage;
  /** Whole disks only (isWholeDisk). */
  disks: DiskCounters[];
  /** Every interface but lo, at most MAX_NET_DEVICES of them (in the kernel's order). */
  net: NetCounters[];
  /** null when the directory cannot be looked at (it went away): the rest of the reading still counts. */
  filesystem: FilesystemUsage | null;
}

/**
 * A host with containers has a veth interface per container: past this many the rest are left out, so a sample
 * (and the history of them) stays bounded. The kernel lists physical interfaces first, by index.
 */
export const MAX_NET_DEVICES = 16;

export interface HostReadOptions {
  /** Where procfs is mounted (default /proc; tests point it at fixed sample files). */
  procDir: string;
  /** A directory whose filesystem's usage is reported (the state or log directory). */
  filesystemPath: string;
}

/** Reads the five /proc files (in parallel, ~20 KB in all) and the filesystem's usage. */
export async function readHost(options: HostReadOptions, at: number): Promise<HostReading> {
  const proc = (name: string) => readFile(join(options.procDir, name), "utf8");
  const [stat, meminfo, loadavg, diskstats, netDev, filesystem] = await Promise.all([
    proc("stat"),
    proc("meminfo"),
    proc("loadavg"),
    proc("diskstats"),
    proc("net/dev"),
    readFilesystem(options.filesystemPath).catch(() => null),
  ]);
  return {
    at,
    cpu: parseProcStat(stat),
    memory: parseMeminfo(meminfo),
    load: parseLoadavg(loadavg),
    disks: parseDiskstats(diskstats).filter((d) => isWholeDisk(d.device)),
    net: parseNetDev(netDev).slice(0, MAX_NET_DEVICES),
    filesystem,
  };
}
