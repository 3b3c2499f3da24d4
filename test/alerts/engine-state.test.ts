import { appendFile, readFile, writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { FileBackend } from "../../src/backend/file/file-backend.js";
import { Hub } from "../../src/server/hub.js";
import { useClosers } from "../helpers/closer.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { type Feed, makeEngine, stamped, startFeed, statuses } from "./feed-harness.js";
import { ManualScheduler } from "./manual-scheduler.js";

// Temp dirs first: hooks run in reverse, so engines close (and write their state) before the dirs go.
const tempDir = useTempDirs("livetrail-alerts-state-");
const track = useClosers();

const MIN = 60_000;
const DAY = 86_400_000;
const SELF_HEAL = {
  name: "self-heal missing",
  kind: "silence",
  pattern: "Weekly self-heal: All checks passed",
  period: "8d",
  severity: "critical",
};

/** Seeded (mulberry32): the same noisy baseline every run. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `buckets` minutes of 10–30 failures each (uniform noise), then the clock at the start of the next minute. */
async function noisyBaseline(
  feed: Feed,
  clock: ManualScheduler,
  buckets: number,
  next: () => number,
): Promise<void> {
  for (let b = 0; b < buckets; b++) {
    const n = 10 + Math.floor(next() * 21);
    await feed.append(Array.from({ length: n }, (_, i) => stamped(clock, `job ${b}.${i} failed`)));
    clock.advance(MIN);
  }
}

describe("alert state over time and restarts", () => {
  it("silence fires after the period and not before, resolves on the line, and watches again", async () => {
    const clock = new ManualScheduler();
    const { engine, sent } = makeEngine([SELF_HEAL], clock);
    track(engine);
    await engine.start();
    const feed = await startFeed(await tempDir(), "audit", engine, track);
    await feed.append([stamped(clock, "Weekly self-heal: All checks passed")]);
    clock.advance(8 * DAY - 1);
    expect(sent).toEqual([]);
    clock.advance(1);
    expect(statuses(sent)).toEqual(["self-heal missing:firing:audit"]);
    expect(sent[0]?.summary).toBe(
      'no line matching "Weekly self-heal: All checks passed" on audit for 8d (last seen 2026-12-01T12:00:00.000Z)',
    );
    expect(sent[0]?.evidence.map((e) => e.text)).toEqual([
      "[2026-12-01T12:00:00Z] Weekly self-heal: All checks passed",
    ]);
    clock.advance(3 * DAY);
    expect(sent).toHaveLength(1);
    await feed.append([stamped(clock, "Weekly self-heal: All checks passed")]);
    expect(statuses(sent)).toEqual(["self-heal missing:firing:audit", "self-heal missing:resolved:audit"]);
    clock.advance(8 * DAY - 1);
    expect(sent).toHaveLength(2);
    clock.advance(1);
    expect(sent).toHaveLength(3);
  });

  it("silence: a stream that never writes alarms a period after watching began", async () => {
    const clock = new ManualScheduler();
    const { engine, sent } = makeEngine(
      [{ ...SELF_HEAL, period: "10m", pattern: "Health check passed" }],
      clock,
    );
    track(engine);
    await engine.start();
    await startFeed(await tempDir(), "audit", engine, track);
    clock.advance(10 * MIN);
    expect(sent.map((n) => n.summary)).toEqual([
      'no line matching "Health check passed" on audit for 10m since watching began',
    ]);
  });

  it("silence: a hub tapped directly (no attach) is watched from its first line", async () => {
    const clock = new ManualScheduler();
    const { engine, sent } = makeEngine(
      [{ ...SELF_HEAL, period: "10m", pattern: "Health check passed" }],
      clock,
    );
    track(engine);
    await engine.start();
    const dir = await tempDir();
    const file = dir.file("direct.log");
    await writeFile(file, "");
    const hub = track(
      new Hub("direct", new FileBackend("direct", file, { pollIntervalMs: 50 }), true, {
        windowLines: 10,
        windowBytes: 1 << 16,
        maxFrameBytes: 1 << 16,
      }),
    );
    hub.tap(engine);
    await hub.start();
    await appendFile(file, "an unrelated line\n");
    await waitFor(() => hub.counters.linesRead >= 1, { message: "the first line" });
    clock.advance(10 * MIN - 1);
    expect(sent).toEqual([]);
    clock.advance(1);
    expect(statuses(sent)).toEqual(["self-heal missing:firing:direct"]);
  });

  it("silence survives a restart: the last match time from the state file, the firing episode not repeated", async () => {
    const dir = await tempDir();
    const stateFile = dir.file("alerts-state.json");
    const clock = new ManualScheduler();
    const first = makeEngine([SELF_HEAL], clock, { stateFile });
    await first.engine.start();
    const feed = await startFeed(dir, "audit", first.engine, track);
    await feed.append([stamped(clock, "Weekly self-heal: All checks passed")]);
    clock.advance(3 * DAY);
    await feed.hub.close();
    await first.engine.close();
    expect(JSON.parse(await readFile(stateFile, "utf8")).rules["self-heal missing"].groups[0]).toMatchObject({
      labels: { stream: "audit" },
      lastSeen: Date.UTC(2026, 11, 1, 12),
      lastSeenIsMatch: true,
    });

    // Down for a day; back up: 8 days after the match, not 8 days after the restart.
    clock.advance(DAY);
    const second = makeEngine([SELF_HEAL], clock, { stateFile });
    track(second.engine);
    await second.engine.start();
    await startFeed(dir, "audit2", second.engine, track);
    second.engine.watch("audit");
    clock.advance(4 * DAY - 1);
    expect(second.sent).toEqual([]);
    clock.advance(1);
    expect(statuses(second.sent)).toEqual(["self-heal missing:firing:audit"]);
    await second.engine.close();

    // Restarted while firing: no second announcement; the next match resolves the same episode.
    const third = makeEngine([SELF_HEAL], clock, { stateFile });
    track(third.engine);
    await third.engine.start();
    const again = await startFeed(dir, "audit", third.engine, track);
    clock.advance(DAY);
    expect(third.sent).toEqual([]);
    await again.append([stamped(clock, "Weekly self-heal: All checks passed")]);
    expect(statuses(third.sent)).toEqual(["self-heal missing:resolved:audit"]);
    expect(third.sent[0]?.id).toBe(second.sent[0]?.id);
  });

  it("anomaly fires on a burst over a noisy baseline, not on the noise, and resolves", async () => {
    const clock = new ManualScheduler();
    const rule = {
      name: "failure burst",
      kind: "anomaly",
      pattern: "failed",
      bucket: "1m",
      zScore: 4,
      minCount: 20,
    };
    const { engine, sent } = makeEngine([rule], clock);
    track(engine);
    await engine.start();
    const feed = await startFeed(await tempDir(), "audit", engine, track);
    await noisyBaseline(feed, clock, 40, random(12));
    expect(sent).toEqual([]);
    await feed.append(Array.from({ length: 120 }, (_, i) => stamped(clock, `job burst.${i} failed`)));
    expect(statuses(sent)).toEqual(["failure burst:firing:audit"]);
    expect(sent[0]?.summary).toMatch(
      /^120 lines matching "failed" on audit since .*, against a baseline of \d+\.\d per 1m \(z = /,
    );
    clock.advance(MIN);
    await noisyBaseline(feed, clock, 3, random(99));
    expect(statuses(sent)).toEqual(["failure burst:firing:audit", "failure burst:resolved:audit"]);
  });

  it("a quiet log does not alarm on its second line (minimum count, warm-up)", async () => {
    const clock = new ManualScheduler();
    const { engine, sent } = makeEngine(
      [{ name: "burst", kind: "anomaly", level: "error", warmup: 3 }],
      clock,
    );
    track(engine);
    await engine.start();
    const feed = await startFeed(await tempDir(), "audit", engine, track);
    for (let m = 0; m < 20; m++) {
      if (m % 5 === 0) await feed.append([stamped(clock, "ERROR: rare")]);
      clock.advance(MIN);
    }
    await feed.append([stamped(clock, "ERROR: one"), stamped(clock, "ERROR: two")]);
    expect(sent).toEqual([]);
  });

  it("the anomaly baseline survives a restart (state file): a burst right after it fires without warm-up", async () => {
    const dir = await tempDir();
    const stateFile = dir.file("state.json");
    const clock = new ManualScheduler();
    const rule = { name: "failure burst", kind: "anomaly", pattern: "failed", minCount: 20 };
    const first = makeEngine([rule], clock, { stateFile });
    await first.engine.start();
    const feed = await startFeed(dir, "audit", first.engine, track);
    await noisyBaseline(feed, clock, 30, random(7));
    await feed.hub.close();
    await first.engine.close();

    const burst = (label: string) =>
      Array.from({ length: 120 }, (_, i) => stamped(clock, `${label} ${i} failed`));
    clock.advance(2 * MIN);
    const restored = makeEngine([rule], clock, { stateFile });
    track(restored.engine);
    await restored.engine.start();
    const feed2 = await startFeed(dir, "audit", restored.engine, track);
    await feed2.append(burst("after restart"));
    expect(statuses(restored.sent)).toEqual(["failure burst:firing:audit"]);

    // The same burst to an engine without the state has no baseline yet: warm-up holds it back.
    const fresh = makeEngine([rule], clock);
    track(fresh.engine);
    await fresh.engine.start();
    const feed3 = await startFeed(dir, "other", fresh.engine, track);
    await feed3.append(burst("no state"));
    expect(fresh.sent).toEqual([]);
  });
});
