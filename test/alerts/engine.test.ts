import { describe, expect, it } from "vitest";
import { parseRules } from "../../src/alerts/rule-config.js";
import { useClosers } from "../helpers/closer.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { makeEngine, stamped, startFeed, statuses } from "./feed-harness.js";
import { ManualScheduler } from "./manual-scheduler.js";

// Temp dirs first: hooks run in reverse, so engines close (and write their state) before the dirs go.
const tempDir = useTempDirs("livetrail-alerts-");
const track = useClosers();

const MIN = 60_000;

describe("alert engine on a real feed", () => {
  it("match: a storm sends one firing (with bounded evidence) and one resolution", async () => {
    const clock = new ManualScheduler();
    const { engine, sent } = makeEngine(
      [
        {
          name: "errors",
          kind: "match",
          level: "error",
          severity: "critical",
          resolveAfter: "2m",
          evidence: 3,
        },
      ],
      clock,
    );
    track(engine);
    await engine.start();
    const feed = await startFeed(await tempDir(), "audit", engine, track);

    await feed.append([stamped(clock, "INFO: backup started"), stamped(clock, "Health check passed")]);
    expect(sent).toEqual([]);
    for (let burst = 0; burst < 5; burst++) {
      await feed.append([
        stamped(clock, `ERROR: disk check failed ${burst}`),
        stamped(clock, `db failure ${burst}`),
      ]);
      clock.advance(30_000);
    }
    expect(statuses(sent)).toEqual(["errors:firing:audit"]);
    const firing = sent[0];
    expect(firing).toMatchObject({ kind: "match", severity: "critical", count: 2, endsAt: null });
    expect(firing?.evidence.map((e) => e.text.replace(/^\[[^\]]+\] /, ""))).toEqual([
      "ERROR: disk check failed 0",
      "db failure 0",
    ]);
    const errorLine = feed.seen.find((l) => l.text.endsWith("disk check failed 0"));
    expect(firing?.evidence[0]).toEqual({
      stream: "audit",
      text: errorLine?.text,
      time: new Date(Date.UTC(2026, 11, 1, 12, 0, 0)).toISOString().replace(".000Z", "Z"),
      cursor: errorLine?.cursor,
    });

    // The last error came 30 s ago: resolved 2 min after it, not before.
    clock.advance(MIN);
    expect(sent).toHaveLength(1);
    clock.advance(MIN);
    expect(statuses(sent)).toEqual(["errors:firing:audit", "errors:resolved:audit"]);
    const resolved = sent[1];
    expect(resolved).toMatchObject({ id: firing?.id, status: "resolved", count: 10 });
    expect(resolved?.evidence.map((e) => e.text.replace(/^\[[^\]]+\] /, ""))).toEqual([
      "db failure 3",
      "ERROR: disk check failed 4",
      "db failure 4",
    ]);
    expect(engine.counters().get("errors")).toEqual({ fired: 1, resolved: 1, suppressed: 0 });
    expect(engine.snapshot()).toMatchObject({ firing: [], recent: [{ id: firing?.id, status: "resolved" }] });
  });

  it("rate: fires on the threshold+1st line within the window, once per storm, and resolves", async () => {
    const clock = new ManualScheduler();
    const { engine, sent } = makeEngine(
      [{ name: "error rate", kind: "rate", pattern: "ERROR", threshold: 5, window: "1m" }],
      clock,
    );
    track(engine);
    await engine.start();
    const feed = await startFeed(await tempDir(), "audit", engine, track);

    // Five in a minute is not more than five; spread over more than a minute, six are not either.
    for (let i = 0; i < 5; i++) {
      await feed.append([stamped(clock, `ERROR: e${i}`)]);
      clock.advance(14_000);
    }
    clock.advance(5_000);
    await feed.append([stamped(clock, "ERROR: e5")]);
    expect(sent).toEqual([]);
    // A storm: 20 more within seconds.
    await feed.append(Array.from({ length: 20 }, (_, i) => stamped(clock, `ERROR: storm ${i}`)));
    expect(statuses(sent)).toEqual(["error rate:firing:audit"]);
    // Announced once the batch is read: the lines in the window when it fired (6) and the rest of the batch.
    expect(sent[0]?.summary).toBe(
      'more than 5 lines matching "ERROR" within 1m on audit (24 in this episode)',
    );
    expect(sent[0]?.count).toBe(24);
    expect(sent[0]?.evidence[0]?.text).toMatch(/ERROR: storm 10$/);
    clock.advance(30_000);
    await feed.append(Array.from({ length: 10 }, (_, i) => stamped(clock, `ERROR: more ${i}`)));
    clock.advance(59_000);
    expect(sent).toHaveLength(1);
    clock.advance(2_000);
    expect(statuses(sent)).toEqual(["error rate:firing:audit", "error rate:resolved:audit"]);
    expect(sent[1]?.count).toBe(34);
    expect(sent[1]?.evidence).toHaveLength(10);
  });

  it("cooldown: a storm that comes back within it is held, announced when the cooldown ends, or never", async () => {
    const clock = new ManualScheduler();
    const { engine, sent } = makeEngine(
      [{ name: "panic", kind: "match", pattern: "panic", cooldown: "10m", resolveAfter: "1m" }],
      clock,
    );
    track(engine);
    await engine.start();
    const feed = await startFeed(await tempDir(), "audit", engine, track);

    await feed.append(["panic 1"]);
    clock.advance(2 * MIN);
    expect(statuses(sent)).toEqual(["panic:firing:audit", "panic:resolved:audit"]);
    // Back 2 min after the first announcement, over in a minute: never announced.
    await feed.append(["panic 2"]);
    clock.advance(2 * MIN);
    expect(sent).toHaveLength(2);
    expect(engine.counters().get("panic")?.suppressed).toBe(1);
    // Back again and still going when the cooldown ends (10 min after the first): announced then, once.
    await feed.append(["panic 3"]);
    for (let i = 0; i < 8; i++) {
      clock.advance(50_000);
      await feed.append([`panic 3.${i}`]);
    }
    expect(statuses(sent)).toEqual(["panic:firing:audit", "panic:resolved:audit", "panic:firing:audit"]);
    expect(sent[2]?.startsAt).toBe(new Date(Date.UTC(2026, 11, 1, 12, 4, 0)).toISOString());
    expect(sent[2]?.evidence.map((e) => e.text)).toContain("panic 3");
    clock.advance(2 * MIN);
    expect(statuses(sent).slice(3)).toEqual(["panic:resolved:audit"]);
  });

  it("grouping: one alert per stream, and per level when asked", async () => {
    const clock = new ManualScheduler();
    const { engine, sent } = makeEngine(
      [
        { name: "bad", kind: "match", level: ["error", "warn"], groupBy: ["stream", "level"] },
        { name: "any stream", kind: "match", pattern: "disk", groupBy: [], streams: ["a", "b"] },
      ],
      clock,
    );
    track(engine);
    await engine.start();
    const dir = await tempDir();
    const a = await startFeed(dir, "a", engine, track);
    const b = await startFeed(dir, "b", engine, track);
    const c = await startFeed(dir, "c", engine, track);
    await a.append(["ERROR: disk", "warning: slow", "ERROR: again"]);
    await b.append(["ERROR: disk"]);
    await c.append(["ERROR: disk"]);
    expect(statuses(sent).sort()).toEqual(
      [
        "any stream:firing:*",
        "bad:firing:a/error",
        "bad:firing:a/warn",
        "bad:firing:b/error",
        "bad:firing:c/error",
      ].sort(),
    );
    const anyStream = sent.find((n) => n.rule === "any stream");
    expect(anyStream?.summary).toBe('1 line matching "disk" on any stream');
    clock.advance(6 * MIN);
    expect(engine.snapshot().firing).toEqual([]);
    const anyResolved = sent.filter((n) => n.rule === "any stream" && n.status === "resolved");
    expect(anyResolved.map((n) => n.evidence.map((e) => e.stream))).toEqual([["a", "b"]]);
  });

  it("source: a truncation and a missing file fire as rules", async () => {
    const clock = new ManualScheduler();
    const { engine, sent } = makeEngine(
      [
        { name: "truncated", kind: "source", events: ["truncated"], severity: "critical" },
        { name: "flapping", kind: "source", events: ["missing"], threshold: 1, window: "10m" },
      ],
      clock,
    );
    track(engine);
    await engine.start();
    const dir = await tempDir();
    const feed = await startFeed(dir, "audit", engine, track, ["one", "two", "three"]);
    const { rm, writeFile } = await import("node:fs/promises");
    await writeFile(feed.file, "x\n");
    const { waitFor } = await import("../helpers/wait-for.js");
    await waitFor(() => feed.events.includes("truncated"), { message: "the truncation" });
    expect(statuses(sent)).toEqual(["truncated:firing:audit"]);
    expect(sent[0]?.evidence[0]?.text).toMatch(/truncated/);
    await rm(feed.file);
    await waitFor(() => feed.events.includes("missing"), { message: "the missing file" });
    expect(sent).toHaveLength(1);
    await writeFile(feed.file, "back\n");
    await waitFor(() => feed.seen.some((l) => l.text === "back"), { message: "the new file" });
    await rm(feed.file);
    await waitFor(() => feed.events.filter((e) => e === "missing").length >= 2, { message: "missing again" });
    expect(statuses(sent)).toEqual(["truncated:firing:audit", "flapping:firing:audit"]);
    expect(sent[1]?.count).toBe(2);
  });

  it("a feed's first lines that are older than the backlog limit do not fire", async () => {
    const clock = new ManualScheduler();
    const { engine, sent } = makeEngine([{ name: "errors", kind: "match", level: "error" }], clock);
    track(engine);
    await engine.start();
    const old = "[2026-11-30T09:00:00Z] ERROR: yesterday";
    const feed = await startFeed(await tempDir(), "audit", engine, track, [old]);
    expect(sent).toEqual([]);
    await feed.append([stamped(clock, "ERROR: now")]);
    expect(statuses(sent)).toEqual(["errors:firing:audit"]);
  });

  it("reload keeps the state of unchanged rules, resolves changed or removed ones, starts new ones", async () => {
    const clock = new ManualScheduler();
    const rules = [
      { name: "keep", kind: "rate", pattern: "E", threshold: 2, window: "1m" },
      { name: "change", kind: "match", pattern: "E" },
      { name: "remove", kind: "match", pattern: "E" },
    ];
    const { engine, sent } = makeEngine(rules, clock);
    track(engine);
    await engine.start();
    const feed = await startFeed(await tempDir(), "audit", engine, track);
    await feed.append(["E1", "E2"]);
    expect(statuses(sent).sort()).toEqual(["change:firing:audit", "remove:firing:audit"]);
    engine.reload(
      parseRules([
        rules[0],
        { name: "change", kind: "match", pattern: "E", severity: "critical" },
        { name: "new", kind: "match", pattern: "E3" },
      ]),
    );
    expect(statuses(sent).slice(2).sort()).toEqual(["change:resolved:audit", "remove:resolved:audit"]);
    // "keep" still holds its two matches: the third within the minute fires it.
    await feed.append(["E3"]);
    expect(statuses(sent).slice(4).sort()).toEqual([
      "change:firing:audit",
      "keep:firing:audit",
      "new:firing:audit",
    ]);
    expect(engine.ruleSpecs.map((r) => r.name)).toEqual(["keep", "change", "new"]);
  });
});
