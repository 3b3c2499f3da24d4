import { describe, expect, it } from "vitest";
import { averageSamples } from "../../src/metrics/average.js";
import { MetricsHistory } from "../../src/metrics/history.js";
import { HostSource } from "../../src/metrics/host/host-source.js";
import type { HostSample } from "../../src/protocol/messages.js";

interface Probe {
  t: number;
  v: number;
  nested: { a: number; b?: number };
}

const T0 = Date.UTC(2026, 11, 4, 10, 0, 0);

describe("the metrics history", () => {
  it("keeps the last hour at 1 s and the hours before as one sample per minute, averaged", () => {
    const history = new MetricsHistory<Probe>((s, t) => averageSamples(s, t));
    // Two hours of 1 s samples: v counts the seconds; b only in the first half of each minute.
    for (let i = 0; i < 7200; i++) {
      history.push({ t: T0 + i * 1000, v: i, nested: i % 60 < 30 ? { a: 2, b: i % 60 } : { a: 4 } });
    }
    expect(history.sizes).toEqual({ seconds: 3600, minutes: 119 }); // the 120th minute is still running
    const all = history.since(0);
    expect(all.seconds).toHaveLength(3600);
    expect(JSON.parse(all.seconds[0] as string).t).toBe(T0 + 3600 * 1000);
    // Minutes before the oldest 1 s sample: the first hour, 60 of them, each the mean of its 60 seconds.
    expect(all.minutes).toHaveLength(60);
    const first = JSON.parse(all.minutes[0] as string) as Probe;
    expect(first).toEqual({ t: T0, v: 29.5, nested: { a: 3, b: 14.5 } });
    const last = JSON.parse(all.minutes[59] as string) as Probe;
    expect(last.t).toBe(T0 + 59 * 60_000);
    expect(last.v).toBe(59 * 60 + 29.5);
    // A window shorter than the hour: only its 1 s samples.
    const recent = history.since(T0 + 7199 * 1000 - 10_000);
    expect(recent).toEqual({ minutes: [], seconds: expect.any(Array) });
    expect(recent.seconds).toHaveLength(10);
  });

  it("never holds more than its rings, however long it runs (25 hours pushed)", () => {
    const history = new MetricsHistory<Probe>((s, t) => averageSamples(s, t), {
      seconds: 3600,
      minutes: 1440,
    });
    for (let i = 0; i < 25 * 3600; i++) history.push({ t: T0 + i * 1000, v: 1, nested: { a: 1 } });
    expect(history.sizes).toEqual({ seconds: 3600, minutes: 1440 });
    const all = history.since(0);
    // 1,499 minutes completed (the 1,500th is running): the ring keeps the newest 1,440, minutes 59..1498; those
    // before the 1 s hour (minutes 1440..1499) are sent, 59..1439.
    const minuteTimes = all.minutes.map((m) => (JSON.parse(m) as Probe).t);
    expect(minuteTimes[0]).toBe(T0 + 59 * 60_000);
    expect(minuteTimes[minuteTimes.length - 1]).toBe(T0 + 1439 * 60_000);
    expect(minuteTimes).toHaveLength(1440 - 60 + 1);
    expect(minuteTimes.every((t, i) => i === 0 || t - (minuteTimes[i - 1] as number) === 60_000)).toBe(true);
  });

  it("ignores a sample older than the newest one (the clock stepped back)", () => {
    const history = new MetricsHistory<Probe>((s, t) => averageSamples(s, t));
    history.push({ t: T0 + 5000, v: 1, nested: { a: 1 } });
    history.push({ t: T0 + 1000, v: 2, nested: { a: 1 } });
    expect(history.sizes.seconds).toBe(1);
  });

  it("combines host samples with whole bytes and interfaces that came and went", () => {
    const host = new HostSource({ procDir: "/proc", filesystemPath: "/" });
    const base: HostSample = {
      t: 0,
      cpu: { busy: 10, user: 5, nice: 0, system: 5, idle: 90, iowait: 0, irq: 0, softirq: 0, steal: 0 },
      mem: { total: 1000, available: 501, used: 499 },
      load: [0.5, 0.25, 0.13],
      disk: { read: 1, write: 3, used: 7, free: 993 },
      net: { eth0: { rx: 1, tx: 2 } },
    };
    const later: HostSample = {
      ...base,
      t: 1000,
      cpu: { ...base.cpu, busy: 20 },
      mem: { total: 1000, available: 500, used: 500 },
      load: [1, 0.5, 0.2],
      disk: { read: 2, write: 4, used: 8, free: 992 },
      net: { eth0: { rx: 2, tx: 3 }, veth0: { rx: 10, tx: 20 } },
    };
    expect(host.combine([base, later], 0)).toEqual({
      t: 0,
      cpu: { ...base.cpu, busy: 15 },
      mem: { total: 1000, available: 501, used: 500 }, // 500.5 and 499.5 rounded
      load: [0.75, 0.38, 0.17],
      disk: { read: 2, write: 4, used: 8, free: 993 },
      net: { eth0: { rx: 2, tx: 3 }, veth0: { rx: 10, tx: 20 } },
    });
  });
});
