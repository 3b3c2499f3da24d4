import { describe, expect, it } from "vitest";
import type { ClientMessage, HostSample } from "../../src/protocol/messages.js";
import { MetricsClient } from "../../src/web/metrics-client.js";
import { errorsPerBucket, shortBytes, summary } from "../../src/web/metrics-panel.js";
import { StreamStore } from "../../src/web/store.js";
import { groupByKind, streamKind } from "../../src/web/tab-bar.js";
import { unreadLabel } from "../../src/web/unread-badge.js";

const T0 = Date.UTC(2026, 11, 4, 10, 0, 0);
const iso = (ms: number) => new Date(ms).toISOString().slice(0, 19);

function sample(t: number): HostSample {
  return {
    t,
    cpu: { busy: 12.5, user: 8, nice: 0, system: 4.5, idle: 87, iowait: 0.5, irq: 0, softirq: 0, steal: 0 },
    mem: { total: 8 * 1024 ** 3, available: 6 * 1024 ** 3, used: 2 * 1024 ** 3 },
    load: [0.5, 0.25, 0.1],
    disk: { read: 0, write: 2048, used: 10 * 1024 ** 3, free: 5 * 1024 ** 3 },
    net: { eth0: { rx: 1536, tx: 100 }, wlan0: { rx: 512, tx: 0 } },
  };
}

describe("the dashboard's metrics and tab pieces (DOM-free)", () => {
  it("counts the errors of the held lines per 10 s bucket at each sample time", () => {
    const store = new StreamStore({ cap: 1000 });
    const line = (ms: number, text: string, i: number) => ({
      text: `[${iso(ms)}Z] ${text}`,
      seq: i,
      c: `1.a.b.${i}.${i}`,
    });
    store.appendLive([
      line(T0, "ERROR: before the window", 1),
      line(T0 + 20_000, "ERROR: one", 2),
      line(T0 + 25_000, "fine", 3),
      line(T0 + 29_000, "ERROR: two", 4),
      line(T0 + 31_000, "WARN: not an error", 5),
      line(T0 + 45_000, "ERROR: three", 6),
    ]);
    const times = [T0 + 15_000, T0 + 21_000, T0 + 29_500, T0 + 35_000, T0 + 45_000];
    expect(errorsPerBucket(store, times)).toEqual([0, 2, 2, 0, 1]);
    expect(errorsPerBucket(new StreamStore(), times)).toEqual([0, 0, 0, 0, 0]);
  });

  it("subscribes only while wanted and available, again on a new socket, and keeps its window", () => {
    const sent: ClientMessage[] = [];
    let open = true;
    let changes = 0;
    const client = new MetricsClient(
      (m) => {
        if (open) sent.push(m);
        return open;
      },
      () => changes++,
      60,
    );
    client.setWanted(true);
    expect(sent).toEqual([]); // the server has not said it samples anything
    client.onHello({ sources: ["host"] });
    expect(sent).toEqual([{ type: "metrics-subscribe", history: 60 }]);
    client.onMessage({
      type: "metrics-snapshot",
      source: "host",
      intervalMs: 1000,
      minutes: [],
      seconds: [sample(T0)],
    });
    for (let i = 1; i <= 70; i++)
      client.onMessage({ type: "metrics", source: "host", sample: sample(T0 + i * 1000) });
    client.onMessage({ type: "metrics", source: "host", sample: sample(T0 + 5000) }); // older: ignored
    expect(client.samples.map((s) => s.t)[0]).toBe(T0 + 10_000);
    expect(client.samples).toHaveLength(61);
    expect(changes).toBeGreaterThanOrEqual(72);
    // A new socket: subscribed again.
    client.onHello({ sources: ["host"] });
    expect(sent).toHaveLength(2);
    client.setWanted(false);
    expect(sent[2]).toEqual({ type: "metrics-unsubscribe" });
    expect(client.samples).toHaveLength(0);
    // A server without metrics: nothing asked.
    open = true;
    client.setWanted(true);
    client.onHello(undefined);
    expect(client.available).toBe(false);
    expect(sent.filter((m) => m.type === "metrics-subscribe")).toHaveLength(3);
  });

  it("writes the newest sample and byte sizes as short text", () => {
    expect(shortBytes(512)).toBe("512 B");
    expect(shortBytes(1536)).toBe("1.5 KiB");
    expect(shortBytes(300 * 1024 ** 2)).toBe("300 MiB");
    expect(summary(sample(T0))).toBe(
      "CPU 12.5 % · memory 2.0 GiB of 8.0 GiB · load 0.50 0.25 0.10 · net ↓ 2.0 KiB/s ↑ 100 B/s · disk 0 B/s read, 2.0 KiB/s written · 5.0 GiB free",
    );
  });

  it("labels unread lines with errors apart", () => {
    expect(unreadLabel({ lines: 12, errors: 0 })).toBe("12");
    expect(unreadLabel({ lines: 12, errors: 1 })).toBe("12 · 1 error");
    expect(unreadLabel({ lines: 1204, errors: 30 })).toBe("1,204 · 30 errors");
  });

  it("groups tabs by kind in a fixed order, unknown or absent kinds as files", () => {
    const tabs = [
      { name: "audit", kind: undefined },
      { name: "web", kind: "container" },
      { name: "journal", kind: "command" },
      { name: "db", kind: "container" },
      { name: "odd", kind: "<script>" },
    ];
    expect(
      groupByKind(tabs, (t) => streamKind(t.kind)).map((g) => [g.kind, g.tabs.map((t) => t.name)]),
    ).toEqual([
      ["files", ["audit", "odd"]],
      ["containers", ["web", "db"]],
      ["commands", ["journal"]],
    ]);
  });
});
