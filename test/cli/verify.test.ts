import { writeFile } from "node:fs/promises";
import { describe, expect, it, vi } from "vitest";
import { appendEntries } from "../../src/append/appender.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { killStrays, runCli, unreadable, withoutLivetrailEnv } from "./run-cli.js";

// Each test runs real processes; on a shared, busy machine one can take many seconds to start.
vi.setConfig({ testTimeout: 180_000 });

const tempDir = useTempDirs();
killStrays();

describe("livetrail verify", () => {
  it("passes a good file with exit 0 and a one-line summary", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    const now = new Date("2025-12-17T17:40:37Z");
    await appendEntries(file, ["Auto-repair: Restarted Grafana container", "multi\nline"], { now });
    const result = await runCli(["verify", file]);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect(result.stdout).toBe(
      `${file}: 2 lines, 99 bytes, 2 entries, 2025-12-17T17:40:37Z .. 2025-12-17T17:40:37Z\nok: no problems\n`,
    );
  });

  it("lists each bad line with its number and exits 1", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await writeFile(
      file,
      "[2025-12-17T10:00:00Z] fine\ngarbage\n[2025-12-17T10:00:01Z] \x00nul\n[2025-12-17T08:00:00Z] back\n[2025-12-17T10:00:02Z] cut",
    );
    const result = await runCli(["verify", file]);
    expect(result.code).toBe(1);
    expect(result.stdout.split("\n")).toEqual([
      `${file}: 5 lines, 118 bytes, 4 entries, 2025-12-17T10:00:00Z .. 2025-12-17T10:00:02Z`,
      "4 problems (bad-format 1, control-char 1, time-went-back 1, no-final-newline 1)",
      '  line 2: bad-format: does not start with "[YYYY-MM-DDTHH:MM:SSZ] "',
      "  line 3: control-char: NUL (U+0000) at column 24",
      "  line 4: time-went-back: timestamp is 7201 s earlier than the previous entry's",
      "  line 5: no-final-newline: the file does not end with a newline",
      "",
    ]);
  });

  it("limits the listing with --max-report and prints JSON with --json", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await writeFile(file, "x\n".repeat(5));
    const limited = await runCli(["verify", "--max-report", "2", file]);
    expect(limited.code).toBe(1);
    expect(limited.stdout).toContain("  line 2: bad-format");
    expect(limited.stdout).not.toContain("line 3:");
    expect(limited.stdout).toContain("... and 3 more (raise --max-report to see them)");
    const json = await runCli(["verify", "--json", file]);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout)).toMatchObject({ file, lines: 5, entries: 0, ok: false, problemCount: 5 });
  });

  it("uses --max-skew for out-of-order timestamps", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await writeFile(file, "[2025-12-17T10:00:05Z] a\n[2025-12-17T10:00:02Z] b\n");
    expect((await runCli(["verify", file])).code).toBe(1);
    const tolerant = await runCli(["verify", "--max-skew", "3", file]);
    expect(tolerant.code).toBe(0);
    expect(tolerant.stdout).toContain("1 within the skew tolerance");
    expect((await runCli(["verify", "--max-skew", "-1", file])).code).toBe(2);
  });

  it("checks $LIVETRAIL_FILE when no file is named, and exits 1 for a missing file", async () => {
    const dir = await tempDir();
    const file = dir.file("env.log");
    await writeFile(file, "[2025-12-17T10:00:00Z] a\n");
    const env = withoutLivetrailEnv({ LIVETRAIL_FILE: file });
    expect((await runCli(["verify"], { env, cwd: dir.path })).stdout).toContain(`${file}: 1 lines`);
    const missing = await runCli(["verify", dir.file("nope.log")]);
    expect(missing).toMatchObject({
      code: 1,
      stdout: "",
      stderr: `livetrail: ${dir.file("nope.log")}: no such file\n`,
    });
  });

  it("exits 1 (a failed check, not a usage error) with one line when the file cannot be read", async () => {
    const dir = await tempDir();
    const file = dir.file("secret.log");
    const as = await unreadable(dir.path, file, "[2025-12-17T10:00:00Z] a\n");
    expect(await runCli(["verify", file], as)).toMatchObject({
      code: 1,
      stdout: "",
      stderr: `livetrail: ${file}: permission denied\n`,
    });
    await writeFile(dir.file("plain"), "x\n");
    const cases: Array<[string, string]> = [
      [dir.path, `livetrail: ${dir.path}: is a directory\n`],
      [
        dir.file("plain/a.log"),
        `livetrail: ${dir.file("plain/a.log")}: a parent is not a directory (ENOTDIR)\n`,
      ],
    ];
    for (const [path, stderr] of cases) {
      expect(await runCli(["verify", path])).toMatchObject({ code: 1, stdout: "", stderr });
    }
  });
});
