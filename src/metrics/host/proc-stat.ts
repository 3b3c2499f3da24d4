/**
 * `/proc/stat`'s aggregate `cpu` line: time spent in each mode since boot, summed over every CPU (proc(5)).
 * Values are in USER_HZ ticks; Linux fixes USER_HZ at 100 for user space on every architecture (node_exporter
 * relies on the same), so a tick is 10 ms.
 */

export const CPU_MODES = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"] as const;
export type CpuMode = (typeof CPU_MODES)[number];

/** Seconds spent in each mode since boot, summed over all CPUs. */
export type CpuSeconds = Record<CpuMode, number>;

export const USER_HZ = 100;

/**
 * Reads the first `cpu ` line. `guest` and `guest_nice` (fields 9, 10) are left out: the kernel already counts
 * them in `user` and `nice`, so adding them would count guest time twice. Fields a kernel does not have (steal
 * before 2.6.11) read as 0.
 */
export function parseProcStat(text: string): CpuSeconds {
  const line = text.split("\n").find((l) => l.startsWith("cpu "));
  if (line === undefined) throw new Error('/proc/stat: no aggregate "cpu" line');
  const fields = line.trim().split(/\s+/).slice(1);
  if (fields.length < 4)
    throw new Error(`/proc/stat: the cpu line has ${fields.length} fields, at least 4 expected`);
  const out = {} as CpuSeconds;
  CPU_MODES.forEach((mode, i) => {
    const raw = fields[i];
    const ticks = raw === undefined ? 0 : Number(raw);
    if (!Number.isFinite(ticks) || ticks < 0)
      throw new Error(`/proc/stat: cpu ${mode} is not a count: "${raw}"`);
    out[mode] = ticks / USER_HZ;
  });
  return out;
}
