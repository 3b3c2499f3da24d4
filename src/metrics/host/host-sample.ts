import type { HostSample } from "../../protocol/messages.js";
import type { HostReading } from "./host-reading.js";
import { CPU_MODES } from "./proc-stat.js";

/**
 * The sample for the interval between two readings: CPU shares of the time that passed, disk and network bytes
 * per second, and the levels (memory, load, filesystem) of the newer reading. A counter that went backwards (a
 * device re-created, a counter wrapped) counts as 0 for that interval, not as a negative rate.
 */
export function hostSample(prev: HostReading, now: HostReading): HostSample {
  const seconds = Math.max(0.001, (now.at - prev.at) / 1000);
  let cpuTotal = 0;
  const cpuDelta = {} as Record<(typeof CPU_MODES)[number], number>;
  for (const mode of CPU_MODES) {
    const d = Math.max(0, now.cpu[mode] - prev.cpu[mode]);
    cpuDelta[mode] = d;
    cpuTotal += d;
  }
  const cpu = { busy: 0 } as HostSample["cpu"];
  for (const mode of CPU_MODES) cpu[mode] = cpuTotal > 0 ? round1((cpuDelta[mode] / cpuTotal) * 100) : 0;
  cpu.busy = cpuTotal > 0 ? round1(((cpuTotal - cpuDelta.idle - cpuDelta.iowait) / cpuTotal) * 100) : 0;

  const rate = (a: number, b: number | undefined) =>
    b === undefined ? 0 : Math.round(Math.max(0, a - b) / seconds);
  const prevDisk = new Map(prev.disks.map((d) => [d.device, d]));
  let read = 0;
  let write = 0;
  for (const d of now.disks) {
    const p = prevDisk.get(d.device);
    read += rate(d.readBytes, p?.readBytes);
    write += rate(d.writtenBytes, p?.writtenBytes);
  }
  const disk: HostSample["disk"] = { read, write };
  if (now.filesystem !== null) {
    disk.used = now.filesystem.usedBytes;
    disk.free = now.filesystem.freeBytes;
  }
  const prevNet = new Map(prev.net.map((n) => [n.device, n]));
  const net: HostSample["net"] = {};
  for (const n of now.net) {
    const p = prevNet.get(n.device);
    // An interface that just appeared has no rate yet: it shows from the next sample on.
    if (p !== undefined)
      net[n.device] = {
        rx: rate(n.receiveBytes, p.receiveBytes),
        tx: rate(n.transmitBytes, p.transmitBytes),
      };
  }
  const { totalBytes, availableBytes } = now.memory;
  return {
    t: now.at,
    cpu,
    mem: { total: totalBytes, available: availableBytes, used: totalBytes - availableBytes },
    load: now.load,
    disk,
    net,
  };
}

function round1(v: number): number {
  return Math.round(v * 10) / 10;
}
