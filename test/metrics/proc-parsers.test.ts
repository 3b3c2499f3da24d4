import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { isWholeDisk, parseDiskstats } from "../../src/metrics/host/diskstats.js";
import { parseLoadavg } from "../../src/metrics/host/loadavg.js";
import { parseMeminfo } from "../../src/metrics/host/meminfo.js";
import { parseNetDev } from "../../src/metrics/host/net-dev.js";
import { CPU_MODES, parseProcStat } from "../../src/metrics/host/proc-stat.js";

const fixture = (name: string) => readFile(new URL(`fixtures/${name}`, import.meta.url), "utf8");

describe("the /proc parsers on fixed sample files", () => {
  it("reads the aggregate cpu line in seconds (USER_HZ 100), guest time left out", async () => {
    expect(parseProcStat(await fixture("proc-1/stat"))).toEqual({
      user: 100,
      nice: 5,
      system: 30,
      idle: 800,
      iowait: 10,
      irq: 0,
      softirq: 2,
      steal: 1,
    });
    // An old kernel without steal: it reads as 0.
    expect(parseProcStat("cpu  1 2 3 4 5 6 7\n").steal).toBe(0);
  });

  it("reads MemTotal and MemAvailable in bytes, estimating MemAvailable on kernels without it", async () => {
    expect(parseMeminfo(await fixture("proc-1/meminfo"))).toEqual({
      totalBytes: 8_000_000 * 1024,
      availableBytes: 6_000_000 * 1024,
    });
    expect(parseMeminfo("MemTotal: 1000 kB\nMemFree: 100 kB\nBuffers: 20 kB\nCached: 300 kB\n")).toEqual({
      totalBytes: 1000 * 1024,
      availableBytes: 420 * 1024,
    });
  });

  it("reads the three load averages", async () => {
    expect(parseLoadavg(await fixture("proc-1/loadavg"))).toEqual([0.52, 0.41, 0.35]);
  });

  it("reads sectors as bytes per device and tells whole disks from partitions, loop and RAM devices", async () => {
    const disks = parseDiskstats(await fixture("proc-1/diskstats"));
    expect(disks.map((d) => d.device)).toEqual([
      "loop0",
      "vda",
      "vda1",
      "nvme0n1",
      "nvme0n1p1",
      "zram0",
      "dm-0",
    ]);
    expect(disks.find((d) => d.device === "vda")).toEqual({
      device: "vda",
      readBytes: 20_000 * 512,
      writtenBytes: 40_000 * 512,
    });
    expect(disks.filter((d) => isWholeDisk(d.device)).map((d) => d.device)).toEqual([
      "vda",
      "nvme0n1",
      "dm-0",
    ]);
    expect(["sda", "sdaa", "xvdb", "mmcblk0", "md0"].every(isWholeDisk)).toBe(true);
    expect(["sda1", "mmcblk0p2", "ram0", "fd0", "nvme1n1p3"].some(isWholeDisk)).toBe(false);
  });

  it("reads bytes per interface, lo left out, names glued to their numbers too", async () => {
    expect(parseNetDev(await fixture("proc-2/net/dev"))).toEqual([
      { device: "eth0", receiveBytes: 1_002_048, transmitBytes: 200_512 },
      { device: "docker0", receiveBytes: 100, transmitBytes: 50 },
      { device: "veth1a2b", receiveBytes: 10, transmitBytes: 10 },
    ]);
  });

  it("says which file and what is wrong with malformed input", () => {
    expect(() => parseProcStat("intr 1 2\n")).toThrow(/\/proc\/stat: no aggregate "cpu" line/);
    expect(() => parseProcStat("cpu  1 x 3 4\n")).toThrow(/cpu nice is not a count: "x"/);
    expect(() => parseMeminfo("MemFree: 1 kB\n")).toThrow(/no MemTotal/);
    expect(() => parseLoadavg("high\n")).toThrow(/\/proc\/loadavg: expected three load averages/);
    expect(() => parseNetDev("h\nh\n eth0: 1 2 3\n")).toThrow(/"eth0" has 3 fields, 16 expected/);
  });
});

/** This machine's own /proc: the structure the parsers expect is there, and counters only go up. */
describe("the /proc parsers on this machine's /proc", () => {
  const proc = (name: string) => readFile(`/proc/${name}`, "utf8");

  it("reads every file with plausible values", async () => {
    const cpu = parseProcStat(await proc("stat"));
    for (const mode of CPU_MODES) expect(cpu[mode]).toBeGreaterThanOrEqual(0);
    expect(cpu.user + cpu.system + cpu.idle).toBeGreaterThan(0);
    const mem = parseMeminfo(await proc("meminfo"));
    expect(mem.totalBytes).toBeGreaterThan(64 * 1024 * 1024);
    expect(mem.availableBytes).toBeGreaterThan(0);
    expect(mem.availableBytes).toBeLessThanOrEqual(mem.totalBytes);
    const load = parseLoadavg(await proc("loadavg"));
    expect(load).toHaveLength(3);
    expect(parseDiskstats(await proc("diskstats")).length).toBeGreaterThan(0);
    const net = parseNetDev(await proc("net/dev"));
    expect(net.some((n) => n.device === "lo")).toBe(false);
  });

  it("sees CPU time, disk and network counters never go down between two readings", async () => {
    const first = {
      cpu: parseProcStat(await proc("stat")),
      disks: parseDiskstats(await proc("diskstats")),
      net: parseNetDev(await proc("net/dev")),
    };
    // Some work between the readings, so the CPU counters have a reason to move.
    let x = 0;
    const until = Date.now() + 50;
    while (Date.now() < until) x += Math.sqrt(x + 1);
    const cpu = parseProcStat(await proc("stat"));
    let moved = 0;
    for (const mode of CPU_MODES) {
      expect(cpu[mode]).toBeGreaterThanOrEqual(first.cpu[mode]);
      moved += cpu[mode] - first.cpu[mode];
    }
    expect(moved).toBeGreaterThan(0);
    for (const d of parseDiskstats(await proc("diskstats"))) {
      const before = first.disks.find((b) => b.device === d.device);
      if (!before) continue;
      expect(d.readBytes).toBeGreaterThanOrEqual(before.readBytes);
      expect(d.writtenBytes).toBeGreaterThanOrEqual(before.writtenBytes);
    }
    for (const n of parseNetDev(await proc("net/dev"))) {
      const before = first.net.find((b) => b.device === n.device);
      if (!before) continue;
      expect(n.receiveBytes).toBeGreaterThanOrEqual(before.receiveBytes);
      expect(n.transmitBytes).toBeGreaterThanOrEqual(before.transmitBytes);
    }
  });
});
