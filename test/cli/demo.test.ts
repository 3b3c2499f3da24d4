import { readFile, stat } from "node:fs/promises";
import { dirname } from "node:path";
import { describe, expect, it } from "vitest";
import { verifyAuditFile } from "../../src/append/verify.js";
import { type Demo, startDemo } from "../../src/cli/demo.js";
import { useClosers } from "../helpers/closer.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";

const tempDir = useTempDirs();
const track = useClosers();
const fast = { intervalMs: { min: 5, max: 20 } };

const lineCount = async (file: string): Promise<number> =>
  (await readFile(file, "utf8")).split("\n").length - 1;

describe("startDemo", () => {
  it("writes ~200 back-dated seed-style entries, then keeps appending until closed", async () => {
    const dir = await tempDir();
    const before = Date.now();
    const demo: Demo = track(await startDemo(dir.path, fast));
    expect(demo.file).toBe(dir.file("AUTO_REPAIR_AUDIT.log"));

    const history = (await readFile(demo.file, "utf8")).split("\n").slice(0, 200);
    expect(history.some((line) => / Auto-repair: /.test(line))).toBe(true);
    expect(history.some((line) => / Health check passed: /.test(line))).toBe(true);
    const times = history.map((line) => Date.parse(line.slice(1, 21)));
    expect(Math.min(...times)).toBeGreaterThanOrEqual(Math.floor((before - 6 * 3600_000) / 1000) * 1000);
    expect(Math.max(...times)).toBeLessThanOrEqual(Date.now());

    await waitFor(async () => (await lineCount(demo.file)) >= 205, {
      message: "5 live demo entries",
      timeoutMs: 60_000,
    });
    await demo.close();
    await demo.close();
    const report = await verifyAuditFile(demo.file, { maxSkewMs: 0 });
    expect(report).toMatchObject({ ok: true });
    expect(report.entries).toBeGreaterThanOrEqual(205);
  });

  it("continues an existing demo log instead of rewriting its history", async () => {
    const dir = await tempDir();
    const first = await startDemo(dir.path, fast);
    await first.close();
    const head = (await readFile(first.file, "utf8")).split("\n")[0];
    const count = await lineCount(first.file);
    const second = track(await startDemo(dir.path, fast));
    await waitFor(async () => (await lineCount(second.file)) > count, {
      message: "a live entry",
      timeoutMs: 60_000,
    });
    await second.close();
    expect((await readFile(second.file, "utf8")).split("\n")[0]).toBe(head);
    expect((await verifyAuditFile(second.file, { maxSkewMs: 0 })).ok).toBe(true);
  });

  it("uses a temporary directory when none is given and removes it on close", async () => {
    const demo = track(await startDemo(undefined, fast));
    expect((await stat(demo.file)).size).toBeGreaterThan(0);
    await demo.close();
    await expect(stat(dirname(demo.file))).rejects.toMatchObject({ code: "ENOENT" });
  });
});
