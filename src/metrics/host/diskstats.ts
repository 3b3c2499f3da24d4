/** `/proc/diskstats`: bytes read and written per block device since boot (Documentation/admin-guide/iostats.rst). */

export interface DiskCounters {
  device: string;
  readBytes: number;
  writtenBytes: number;
}

/** The kernel counts diskstats sectors in 512-byte units whatever the device's sector size. */
const SECTOR_BYTES = 512;

/**
 * Devices left out of the host's disk traffic: RAM disks, loop and floppy devices, and partitions (their traffic
 * is already their disk's). This is node_exporter's default device exclude, plus MMC partitions.
 */
const NOT_A_DISK = /^(z?ram|loop|fd|(h|s|v|xv)d[a-z]+|nvme\d+n\d+p|mmcblk\d+p)\d+$/;

export function isWholeDisk(device: string): boolean {
  return !NOT_A_DISK.test(device);
}

/** Every device's counters (fields 3: name, 6: sectors read, 10: sectors written); short lines are skipped. */
export function parseDiskstats(text: string): DiskCounters[] {
  const out: DiskCounters[] = [];
  for (const line of text.split("\n")) {
    const f = line.trim().split(/\s+/);
    if (f.length < 14) continue;
    const read = Number(f[5]);
    const written = Number(f[9]);
    if (!Number.isFinite(read) || !Number.isFinite(written)) {
      throw new Error(`/proc/diskstats: sector counts of "${f[2]}" are not numbers`);
    }
    out.push({
      device: f[2] as string,
      readBytes: read * SECTOR_BYTES,
      writtenBytes: written * SECTOR_BYTES,
    });
  }
  return out;
}
