import type { ChildProcess } from "node:child_process";
import { once } from "node:events";
import { readFile } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";
import { verifyAuditFile } from "../../src/append/verify.js";
import { CLI, finished, killStrays, type RunResult, start } from "../cli/run-cli.js";
import { useTempDirs } from "../helpers/temp-dir.js";

const WRITER = fileURLToPath(new URL("./fixtures/concurrent-writer.mjs", import.meta.url));
const WRITERS = 50;
const ENTRIES = 200;
const tempDir = useTempDirs();
killStrays();

// Same formula as the writer fixture.
const payload = (w: number, i: number): string =>
  `${"é€😀".repeat((w * 7 + i) % 40)}|${"#".repeat((w + i * 13) % 300)}|end`;

/** Every line must be a whole entry naming a (writer, i) pair with exactly its payload; each pair once. */
async function expectAllEntriesWhole(file: string): Promise<void> {
  const text = await readFile(file, "utf8");
  expect(text.endsWith("\n")).toBe(true);
  const lines = text.slice(0, -1).split("\n");
  expect(lines).toHaveLength(WRITERS * ENTRIES);
  const seen = new Set<string>();
  const lastIndex = new Map<number, number>();
  for (const line of lines) {
    const m = /^\[\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z\] writer (\d+) entry (\d+) (.*)$/.exec(line);
    expect(m, `mangled line: ${line.slice(0, 120)}`).not.toBeNull();
    const w = Number(m?.[1]);
    const i = Number(m?.[2]);
    expect(m?.[3]).toBe(payload(w, i));
    seen.add(`${w}/${i}`);
    // One writer appends sequentially, so its entries land in its own order.
    expect(i).toBe((lastIndex.get(w) ?? -1) + 1);
    lastIndex.set(w, i);
  }
  expect(seen.size).toBe(WRITERS * ENTRIES);
  // verify agrees, apart from timestamps of different writers landing out of order (taken before the write).
  const report = await verifyAuditFile(file, { maxSkewMs: 0 });
  expect(report.lines).toBe(WRITERS * ENTRIES);
  expect(report.entries).toBe(WRITERS * ENTRIES);
  const { "time-went-back": _outOfOrder = 0, ...others } = report.counts;
  expect(others).toEqual({});
}

describe("concurrent writers", () => {
  it(`${WRITERS} processes appending ${ENTRIES} entries each, one write per entry, give ${WRITERS * ENTRIES} whole lines`, async () => {
    const dir = await tempDir();
    const file = dir.file("logs/audit.log");
    // Started one after another (a burst of 50 Node start-ups would starve other test files), each waiting idle
    // until all are up; then all write at once.
    const children: ChildProcess[] = [];
    const results: Promise<RunResult>[] = [];
    for (let w = 0; w < WRITERS; w++) {
      const child = start(process.execPath, [WRITER, file, String(w), String(ENTRIES)]);
      children.push(child);
      const result = finished(child, 120_000);
      results.push(result);
      const exited = result.then((r) => Promise.reject(new Error(`writer ${w} exited early: ${r.stderr}`)));
      await Promise.race([once(child.stdout ?? child, "data"), exited]);
    }
    for (const child of children) child.stdin?.end("go");
    for (const result of await Promise.all(results)) expect(result).toMatchObject({ code: 0, stderr: "" });
    await expectAllEntriesWhole(file);
  }, 180_000);

  it(`${WRITERS} \`livetrail log -\` processes fed ${ENTRIES} lines each give ${WRITERS * ENTRIES} whole lines`, async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    const children = Array.from({ length: WRITERS }, () =>
      start(process.execPath, [CLI, "log", "--file", file, "-"]),
    );
    const results = children.map((child) => finished(child, 120_000));
    const lines = (w: number, from: number, to: number): string =>
      Array.from(
        { length: to - from },
        (_, k) => `writer ${w} entry ${from + k} ${payload(w, from + k)}\n`,
      ).join("");
    // Two halves per process, so each process makes several writes while the others are writing.
    for (const [w, child] of children.entries()) child.stdin?.write(lines(w, 0, ENTRIES / 2));
    for (const [w, child] of children.entries()) child.stdin?.end(lines(w, ENTRIES / 2, ENTRIES));
    for (const result of await Promise.all(results)) expect(result).toMatchObject({ code: 0, stderr: "" });
    await expectAllEntriesWhole(file);
  }, 180_000);
});
