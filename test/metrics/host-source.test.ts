import { cp, statfs } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { HostSource } from "../../src/metrics/host/host-source.js";
import { useTempDirs } from "../helpers/temp-dir.js";

const FIXTURES = fileURLToPath(new URL("fixtures/", import.meta.url));

describe("host samples from two readings", () => {
  const tempDir = useTempDirs("livetrail-proc-");

  it("gives CPU shares, memory, load, disk and network rates of the interval exactly", async () => {
    const dir = await tempDir();
    await cp(`${FIXTURES}proc-1`, dir.path, { recursive: true });
    const source = new HostSource({ procDir: dir.path, filesystemPath: dir.path });
    expect(await source.sample(1000)).toBeNull(); // rates need two readings
    await cp(`${FIXTURES}proc-2`, dir.path, { recursive: true });
    const sample = await source.sample(3000); // two seconds later
    const fs = await statfs(dir.path);
    expect(sample).toEqual({
      t: 3000,
      // 200 ticks passed: user 60, system 20, idle 100, iowait 10, softirq 10.
      cpu: { busy: 45, user: 30, nice: 0, system: 10, idle: 50, iowait: 5, irq: 0, softirq: 5, steal: 0 },
      mem: { total: 8_192_000_000, available: 5_120_000_000, used: 3_072_000_000 },
      load: [1.5, 0.6, 0.4],
      // vda: 2000 and 4000 sectors, nvme0n1: 200 and 400, over 2 s; partitions, loop and zram not counted.
      disk: {
        read: ((2000 + 200) * 512) / 2,
        write: ((4000 + 400) * 512) / 2,
        used: expect.any(Number),
        free: expect.any(Number),
      },
      // veth1a2b appeared in the second reading: no rate for it yet.
      net: { eth0: { rx: 1024, tx: 256 }, docker0: { rx: 50, tx: 25 } },
    });
    expect(sample?.disk.used).toBe((fs.blocks - fs.bfree) * fs.bsize);
    expect(Math.abs((sample?.disk.free ?? 0) - fs.bavail * fs.bsize)).toBeLessThan(64 * 1024 * 1024);
    expect(source.latest?.cpu.user).toBe(100.6);
  });

  it("counts a counter that went backwards as no traffic, not a negative rate", async () => {
    const dir = await tempDir();
    await cp(`${FIXTURES}proc-2`, dir.path, { recursive: true });
    const source = new HostSource({ procDir: dir.path, filesystemPath: dir.path });
    await source.sample(1000);
    await cp(`${FIXTURES}proc-1`, dir.path, { recursive: true, force: true });
    const sample = await source.sample(2000);
    expect(sample?.disk.read).toBe(0);
    expect(sample?.net.eth0).toEqual({ rx: 0, tx: 0 });
    expect(sample?.cpu.busy).toBe(0);
  });

  it("samples this machine's /proc", async () => {
    const source = new HostSource({ procDir: "/proc", filesystemPath: "/" });
    await source.sample(Date.now());
    await new Promise((r) => setTimeout(r, 100));
    const s = await source.sample(Date.now());
    expect(s).not.toBeNull();
    const shares = ["user", "nice", "system", "idle", "iowait", "irq", "softirq", "steal"] as const;
    const total = shares.reduce((a, m) => a + (s?.cpu[m] ?? 0), 0);
    // Each share is rounded to 0.1 %: the eight add up to 100 within their rounding.
    if (total > 0) expect(Math.abs(total - 100)).toBeLessThan(0.5);
    expect(s?.mem.used).toBe((s?.mem.total ?? 0) - (s?.mem.available ?? 0));
    expect(s?.disk.free).toBeGreaterThan(0);
    expect(Object.keys(s?.net ?? {})).not.toContain("lo");
  });
});
