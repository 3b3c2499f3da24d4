/** `/proc/net/dev`: bytes received and sent per network interface since it came up (proc(5)). */

export interface NetCounters {
  device: string;
  receiveBytes: number;
  transmitBytes: number;
}

/**
 * Every interface but the loopback (its traffic never leaves the host). Each line after the two header lines is
 * `name: rx_bytes rx_packets … (8 receive fields) tx_bytes …`; the name may be glued to the first number.
 */
export function parseNetDev(text: string): NetCounters[] {
  const out: NetCounters[] = [];
  for (const line of text.split("\n").slice(2)) {
    const colon = line.indexOf(":");
    if (colon < 0) continue;
    const device = line.slice(0, colon).trim();
    const f = line
      .slice(colon + 1)
      .trim()
      .split(/\s+/);
    if (f.length < 16) throw new Error(`/proc/net/dev: "${device}" has ${f.length} fields, 16 expected`);
    const receiveBytes = Number(f[0]);
    const transmitBytes = Number(f[8]);
    if (!Number.isFinite(receiveBytes) || !Number.isFinite(transmitBytes)) {
      throw new Error(`/proc/net/dev: byte counts of "${device}" are not numbers`);
    }
    if (device !== "lo") out.push({ device, receiveBytes, transmitBytes });
  }
  return out;
}
