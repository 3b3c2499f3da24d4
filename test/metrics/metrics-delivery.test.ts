import { describe, expect, it } from "vitest";
import type { MetricsSource } from "../../src/metrics/source.js";
import { MetricsFeed } from "../../src/server/metrics-feed.js";
import { MetricsDelivery } from "../../src/server/metrics-feed-delivery.js";
import type { Sink } from "../../src/server/sink.js";
import { ManualClock } from "./manual-clock.js";

/** A source counting its samples: the feed and delivery do not care what a sample holds. */
class CountingSource implements MetricsSource<{ t: number; n: number }> {
  readonly name = "count";
  private n = 0;
  async sample(t: number) {
    return { t, n: ++this.n };
  }
  combine(samples: readonly { t: number; n: number }[], t: number) {
    return { t, n: samples.length };
  }
}

/** A client's queue as a number the test sets, and what was sent: the budget rule is the Sink's contract. */
class QueueSink implements Sink {
  readonly format = "json" as const;
  readonly open = true;
  queued = 0;
  sent: string[] = [];
  private drain: (() => void) | null = null;
  constructor(readonly maxBufferedBytes: number) {}
  send(data: string | Buffer): void {
    this.sent.push(String(data));
  }
  bufferedBytes(): number {
    return this.queued;
  }
  drained(): Promise<void> {
    return new Promise((resolve) => {
      this.drain = resolve;
    });
  }
  /** The client read everything. */
  empty(): void {
    this.queued = 0;
    this.drain?.();
  }
  overflow(): void {}
}

/** One interval passes: the feed's timer fires and its (immediate) sample goes out. */
const tick = async (clock: ManualClock) => {
  clock.advance(1000);
  await new Promise((resolve) => setImmediate(resolve));
};

describe("metrics delivery within the client's queue budget", () => {
  it("skips samples while the queue is past its budget and sends a fresh snapshot once it drained", async () => {
    const clock = new ManualClock();
    const feed = new MetricsFeed(new CountingSource(), { intervalMs: 1000, clock });
    await feed.start(); // sample 1, taken at start
    const sink = new QueueSink(1000);
    const delivery = new MetricsDelivery(sink, [feed]);
    delivery.subscribe(60);
    expect(JSON.parse(sink.sent[0] as string)).toMatchObject({
      type: "metrics-snapshot",
      seconds: [{ n: 1 }],
    });
    await tick(clock);
    expect(JSON.parse(sink.sent[1] as string)).toEqual({
      type: "metrics",
      source: "count",
      sample: { t: clock.t, n: 2 },
    });

    // Backed up: the next samples would pass the budget, so they are skipped and the queue does not grow.
    sink.queued = 990;
    await tick(clock);
    await tick(clock);
    expect(sink.sent).toHaveLength(2);
    expect(delivery.skipped).toBe(2);
    sink.queued = 100; // room again: samples flow
    await tick(clock);
    expect(JSON.parse(sink.sent[2] as string).sample.n).toBe(5);

    // A snapshot that does not fit waits for the drain, and is built then (it has the samples skipped meanwhile).
    sink.queued = 999;
    delivery.subscribe(60);
    await tick(clock);
    expect(sink.sent).toHaveLength(3);
    sink.empty();
    await new Promise((r) => setImmediate(r));
    const snapshot = JSON.parse(sink.sent[3] as string);
    expect(snapshot.type).toBe("metrics-snapshot");
    expect(snapshot.seconds.map((s: { n: number }) => s.n)).toEqual([1, 2, 3, 4, 5, 6]);
    expect(delivery.skipped).toBe(3);
    await tick(clock);
    expect(JSON.parse(sink.sent[4] as string).sample.n).toBe(7);
    delivery.unsubscribe();
    expect(feed.listenerCount).toBe(0);
    feed.close();
    expect(clock.timerCount).toBe(0);
  });

  it("keeps a snapshot within the queue budget: the newest samples, the oldest left out", async () => {
    const clock = new ManualClock();
    const feed = new MetricsFeed(new CountingSource(), { intervalMs: 1000, clock });
    await feed.start();
    for (let i = 0; i < 99; i++) await tick(clock);
    const sink = new QueueSink(1000);
    new MetricsDelivery(sink, [feed]).subscribe(3600);
    const [snapshot] = sink.sent as [string];
    expect(snapshot.length).toBeLessThanOrEqual(1000);
    const ns = (JSON.parse(snapshot).seconds as { n: number }[]).map((s) => s.n);
    expect(ns.length).toBeGreaterThan(10);
    expect(ns).toEqual(Array.from({ length: ns.length }, (_, i) => 100 - ns.length + 1 + i));
    feed.close();
  });

  it("reports a failing source once, not every interval, and goes on sampling", async () => {
    const clock = new ManualClock();
    let failing = true;
    const source: MetricsSource<{ t: number }> = {
      name: "flaky",
      async sample(t) {
        if (failing) throw new Error("EACCES /proc/stat");
        return { t };
      },
      combine: (_s, t) => ({ t }),
    };
    const errors: string[] = [];
    const feed = new MetricsFeed(source, { intervalMs: 1000, clock, onError: (e) => errors.push(e.message) });
    await feed.start();
    await tick(clock);
    await tick(clock);
    expect(errors).toEqual(["EACCES /proc/stat"]);
    expect(feed.history.sizes.seconds).toBe(0);
    failing = false;
    await tick(clock);
    expect(feed.history.sizes.seconds).toBe(1);
    feed.close();
  });
});
