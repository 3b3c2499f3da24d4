/** `/proc/loadavg`: the 1, 5 and 15 minute load averages (runnable and uninterruptible tasks, proc(5)). */

export type LoadAverage = [number, number, number];

export function parseLoadavg(text: string): LoadAverage {
  const fields = text.trim().split(/\s+/);
  const load = fields.slice(0, 3).map(Number);
  if (load.length < 3 || load.some((v) => !Number.isFinite(v) || v < 0)) {
    throw new Error(`/proc/loadavg: expected three load averages, got "${text.trim().slice(0, 80)}"`);
  }
  return load as LoadAverage;
}
