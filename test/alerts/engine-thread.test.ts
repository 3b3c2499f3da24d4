import { appendFile, truncate, writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import type { AlertNotification } from "../../src/alerts/alert.js";
import { AlertEngine } from "../../src/alerts/engine.js";
import { AlertEngineThread } from "../../src/alerts/engine-thread.js";
import { packLines, unpackLines } from "../../src/alerts/line-handover.js";
import { parseRules } from "../../src/alerts/rule-config.js";
import { FileBackend } from "../../src/backend/file/file-backend.js";
import { FollowedLine, type Line } from "../../src/core/line.js";
import { AlertsConfigError, parseAlertsConfig } from "../../src/server/alerts-config.js";
import { Hub } from "../../src/server/hub.js";
import { useClosers } from "../helpers/closer.js";
import { type TempDir, useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";

// Temp dirs first: hooks run in reverse, so engines close (and write their state) before the dirs go.
const tempDir = useTempDirs("livetrail-alerts-thread-");
const track = useClosers();

/** These tests are about the hand-over (order, cursors, budget, restart); timing semantics are engine.test.ts's. */
const noError = (error: Error): never => {
  throw error;
};

function engines(rules: unknown[]): {
  thread: AlertEngineThread;
  local: AlertEngine;
  fromThread: AlertNotification[];
  fromLocal: AlertNotification[];
} {
  const fromThread: AlertNotification[] = [];
  const fromLocal: AlertNotification[] = [];
  const specs = parseRules(rules);
  const thread = track(
    new AlertEngineThread({ rules: specs, onNotify: (n) => fromThread.push(n), onError: noError }),
  );
  const local = track(
    new AlertEngine({ rules: specs, onNotify: (n) => fromLocal.push(n), onError: noError }),
  );
  return { thread, local, fromThread, fromLocal };
}

/** A real followed file whose hub feeds both engines, and every line it read. */
async function feed(dir: TempDir, name: string, taps: { attach: AlertEngine["attach"] }[]) {
  const file = dir.file(`${name}.log`);
  await writeFile(file, "");
  const hub = track(
    new Hub(name, new FileBackend(name, file, { pollIntervalMs: 20 }), true, {
      windowLines: 100,
      windowBytes: 1 << 20,
      maxFrameBytes: 1 << 16,
      onError: (_stream, error) => {
        throw error;
      },
    }),
  );
  const seen: Line[] = [];
  const events: string[] = [];
  for (const t of taps) t.attach(hub);
  hub.tap({
    onLines: (_hub, lines) => seen.push(...lines),
    onEvent: (_hub, event) => events.push(event.type === "reset" ? event.reason : event.type),
  });
  await hub.start();
  return {
    file,
    seen,
    events,
    async append(lines: readonly string[]): Promise<void> {
      const want = seen.length + lines.length;
      await appendFile(file, `${lines.join("\n")}\n`);
      await waitFor(() => seen.length >= want, { message: `${want} lines on ${name}` });
    },
  };
}

const shape = (n: AlertNotification) => ({
  rule: n.rule,
  status: n.status,
  labels: n.labels,
  count: n.count,
  summary: n.summary,
  // An event's evidence time is the engine's clock when the hub handed it over: the two engines read it apart.
  evidence: n.evidence.map(({ time: _, ...e }) => e),
});

describe("alert engine in a worker thread", () => {
  it("a storm fires once and resolves, with the same notifications and evidence cursors as in-thread", async () => {
    const rules = [{ name: "errors", kind: "match", level: "error", resolveAfter: "500ms", evidence: 4 }];
    const { thread, local, fromThread, fromLocal } = engines(rules);
    await Promise.all([thread.start(), local.start()]);
    const f = await feed(await tempDir(), "audit", [thread, local]);

    // Short first lines: in a file's first bytes the cursor's source part still grows from one read to the next,
    // so one batch can hold lines whose cursors differ before the position.
    await f.append(["ERROR: a", "ok"]);
    await f.append(["ERROR: b"]);
    for (let burst = 0; burst < 5; burst++) {
      await f.append(
        Array.from({ length: 200 }, (_, i) => (i % 50 === 7 ? `ERROR: storm ${burst}/${i}` : `fine ${i}`)),
      );
    }
    await thread.flush();
    expect(fromThread.map((n) => n.status)).toEqual(["firing"]);
    expect(thread.snapshot().firing).toHaveLength(1);
    expect(thread.snapshot().firing[0]?.count).toBe(22);
    await waitFor(() => fromThread.length === 2 && fromLocal.length === 2, { message: "both resolved" });

    expect(fromThread.map(shape)).toEqual(fromLocal.map(shape));
    const resolved = fromThread[1] as AlertNotification;
    expect(resolved).toMatchObject({ status: "resolved", count: 22, id: fromThread[0]?.id });
    // Every evidence cursor is the one the hub's own line carries.
    const byText = new Map(f.seen.map((l) => [l.text, l.cursor]));
    for (const n of fromThread) {
      for (const e of n.evidence) expect(e.cursor).toBe(byText.get(e.text));
    }
    expect(fromThread[0]?.evidence.map((e) => e.text)).toEqual(["ERROR: a"]);
    expect(resolved.evidence.map((e) => e.text)).toEqual([
      "ERROR: storm 4/7",
      "ERROR: storm 4/57",
      "ERROR: storm 4/107",
      "ERROR: storm 4/157",
    ]);
    expect(thread.snapshot()).toEqual({ firing: [], recent: [resolved] });
    expect(thread.counters().get("errors")).toEqual({ fired: 1, resolved: 1, suppressed: 0 });
    expect(thread.linesDropped).toBe(0);
  });

  it("keeps the order of lines and events: a truncation between two storms, as in-thread", async () => {
    const rules = [
      { name: "truncated", kind: "source", events: ["truncated"] },
      { name: "panic", kind: "match", pattern: "panic", groupBy: ["stream"], evidence: 2 },
    ];
    const { thread, local, fromThread, fromLocal } = engines(rules);
    await Promise.all([thread.start(), local.start()]);
    const f = await feed(await tempDir(), "audit", [thread, local]);
    await f.append(Array.from({ length: 300 }, (_, i) => `line ${i} ${i === 299 ? "panic one" : ""}`));
    await truncate(f.file, 0);
    await waitFor(() => f.events.includes("truncated"), { message: "the truncation" });
    await f.append(["panic two", "after"]);
    await thread.flush();

    expect(fromThread.map(shape)).toEqual(fromLocal.map(shape));
    expect(fromThread.map((n) => `${n.rule}:${n.status}`)).toEqual(["panic:firing", "truncated:firing"]);
    // The firing alert's evidence moved on after the truncation: its newest line has the new source's cursor.
    const panic = thread.snapshot().firing.find((n) => n.rule === "panic");
    expect(panic?.evidence.map((e) => e.text)).toEqual(["line 299 panic one", "panic two"]);
    expect(panic?.evidence[1]?.cursor).toBe(f.seen.find((l) => l.text === "panic two")?.cursor);
    const localPanic = local.snapshot().firing.find((n) => n.rule === "panic");
    expect(panic && shape(panic)).toEqual(localPanic && shape(localPanic));
  });

  it("drops and counts batches beyond the hand-over budget, with one warning, and evaluates the rest", async () => {
    const warnings: string[] = [];
    const thread = track(
      new AlertEngineThread({
        rules: parseRules([{ name: "all", kind: "match", pattern: "x", resolveAfter: "1h" }]),
        queueChars: 4096,
        onError: (e) => warnings.push(e.message),
      }),
    );
    await thread.start();
    const source = { name: "synthetic", cursor: null };
    let pos = 0;
    let seq = 0;
    const batches = 400;
    const perBatch = 100;
    // One synchronous run: the worker cannot take 40k lines while the loop posts them.
    for (let b = 0; b < batches; b++) {
      const lines: Line[] = [];
      for (let i = 0; i < perBatch; i++) {
        const text = `x line ${seq} ${"y".repeat(60)}`;
        lines.push(new FollowedLine(seq++, text, pos, pos + text.length + 1, "1.synthetic."));
        pos += text.length + 1;
      }
      thread.onLines(source, lines);
    }
    await thread.flush();
    const evaluated = thread.snapshot().firing[0]?.count ?? 0;
    expect(thread.linesDropped).toBeGreaterThan(0);
    expect(evaluated).toBeGreaterThan(0);
    expect(evaluated + thread.linesDropped).toBe(batches * perBatch);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/behind the streams.*lines_dropped/);
  });

  it("restarts a crashed worker from its state file, reports it, and alerts again", async () => {
    const dir = await tempDir();
    const errors: string[] = [];
    const fromThread: AlertNotification[] = [];
    const thread = track(
      new AlertEngineThread({
        rules: parseRules([{ name: "panic", kind: "match", pattern: "panic", resolveAfter: "1h" }]),
        stateFile: dir.file("state.json"),
        onNotify: (n) => fromThread.push(n),
        onError: (e) => errors.push(e.message),
      }),
    );
    await thread.start();
    const f = await feed(dir, "audit", [thread]);
    await f.append(["panic: first"]);
    await thread.flush();
    expect(fromThread.map((n) => n.status)).toEqual(["firing"]);
    await thread.save();

    await (thread as unknown as { worker: { terminate(): Promise<number> } }).worker.terminate();
    await waitFor(() => thread.restarts === 1, { message: "the restart" });
    expect(errors).toEqual([expect.stringMatching(/worker exited .*restarting it from its state file/)]);
    // The episode survived in the state file: still firing, not announced again; new lines count on.
    await thread.flush();
    await f.append(["panic: second"]);
    await thread.flush();
    expect(fromThread).toHaveLength(1);
    const firing = thread.snapshot().firing;
    expect(firing).toHaveLength(1);
    expect(firing[0]).toMatchObject({ id: fromThread[0]?.id, count: 2 });
    expect(firing[0]?.evidence.at(-1)?.cursor).toBe(f.seen.at(-1)?.cursor);
  });
});

describe("a worker that keeps crashing", () => {
  it("is given up on after five quick crashes in a row: reported, requests answered, lines counted", async () => {
    const errors: string[] = [];
    const thread = track(
      new AlertEngineThread({
        rules: parseRules([{ name: "panic", kind: "match", pattern: "panic" }]),
        onError: (e) => errors.push(e.message),
      }),
    );
    await thread.start();
    const worker = () => (thread as unknown as { worker: { terminate(): Promise<number> } }).worker;
    for (let crash = 1; crash <= 5; crash++) {
      await worker().terminate();
      if (crash < 5) await waitFor(() => thread.restarts === crash, { message: `restart ${crash}` });
    }
    await waitFor(() => errors.some((e) => e.includes("alert rules are stopped")), { message: "given up" });
    expect(thread.restarts).toBe(4);
    expect(errors.filter((e) => e.includes("restarting it"))).toHaveLength(4);
    await thread.flush();
    const line = new FollowedLine(1, "panic", 0, 6, "1.s.");
    thread.onLines({ name: "s", cursor: null }, [line]);
    expect(thread.linesDropped).toBe(1);
    await thread.close();
  });
});

describe("alerts.thread in the config", () => {
  it("is a boolean, absent by default (the worker thread)", () => {
    expect(parseAlertsConfig({ rules: [] }).thread).toBeUndefined();
    expect(parseAlertsConfig({ rules: [], thread: false }).thread).toBe(false);
    expect(() => parseAlertsConfig({ rules: [], thread: "no" })).toThrow(AlertsConfigError);
    expect(() => parseAlertsConfig({ rules: [], thread: "no" })).toThrow(
      "alerts.thread: must be true or false",
    );
  });
});

describe("line hand-over", () => {
  it("gives back every text, position, seq and cursor across segments and runs", () => {
    // Three runs (another source, then a jump in position), empty and non-ASCII lines, segment boundaries.
    const lines: Line[] = [];
    const add = (prefix: string, seq: number, start: number, texts: string[]): void => {
      for (const text of texts) {
        const size = Buffer.byteLength(text) + 1;
        lines.push(new FollowedLine(seq++, text, start, start + size, prefix));
        start += size;
      }
    };
    const long = Array.from({ length: 400 }, (_, i) =>
      i % 7 === 0 ? "" : `line ${i} ${"é".repeat(i % 90)}`,
    );
    add("1.aaaa.", 5, 0, long);
    add("1.bbbb.", 0, 0, ["", "ünïcode ✓", ""]);
    add("1.bbbb.", 10, 5000, ["x".repeat(20_000), "", "after"]);
    const source = {
      name: "s",
      cursor: null,
      backend: {
        continues: (prev: Line, next: Line) =>
          next.seq === prev.seq + 1 &&
          next.start === prev.end &&
          prev.cursor.split(".")[1] === next.cursor.split(".")[1],
      },
    };
    const batch = packLines("s", lines, source);
    expect(batch.runEnds).toEqual([400, 403, 406]);
    expect(batch.segments.length).toBeGreaterThan(2);
    const back = unpackLines(structuredClone(batch));
    expect(back.map((l) => [l.seq, l.text, l.start, l.end, l.cursor])).toEqual(
      lines.map((l) => [l.seq, l.text, l.start, l.end, l.cursor]),
    );
  });
});
