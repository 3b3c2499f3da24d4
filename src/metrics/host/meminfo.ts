/** `/proc/meminfo`: the host's memory in bytes (proc(5)). */

export interface Memory {
  totalBytes: number;
  /** The kernel's estimate of memory available for new work without swapping (MemAvailable). */
  availableBytes: number;
}

/**
 * MemAvailable exists since Linux 3.14; before it, MemFree + Buffers + Cached is the usual estimate (it counts
 * some unreclaimable cache as available, which is why the kernel added the field).
 */
export function parseMeminfo(text: string): Memory {
  const kb = new Map<string, number>();
  for (const line of text.split("\n")) {
    const m = /^(\w+(?:\(\w+\))?):\s+(\d+)(?:\s+kB)?\s*$/.exec(line);
    if (m) kb.set(m[1] as string, Number(m[2]));
  }
  const total = kb.get("MemTotal");
  if (total === undefined) throw new Error("/proc/meminfo: no MemTotal");
  const available =
    kb.get("MemAvailable") ?? (kb.get("MemFree") ?? 0) + (kb.get("Buffers") ?? 0) + (kb.get("Cached") ?? 0);
  return { totalBytes: total * 1024, availableBytes: Math.min(total, available) * 1024 };
}
