import type { ChildProcess } from "node:child_process";
import { appendFile, rename, writeFile } from "node:fs/promises";
import { describe, expect, it, vi } from "vitest";
import { appendEntries } from "../../src/append/appender.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { CLI, finished, killStrays, runCli, start, unreadable } from "./run-cli.js";

// Each test runs real processes; on a shared, busy machine one can take many seconds to start.
vi.setConfig({ testTimeout: 180_000 });

const tempDir = useTempDirs();
killStrays();

const numbered = (from: number, to: number): string =>
  Array.from({ length: to - from + 1 }, (_, i) => `line ${from + i}\n`).join("");

/** A running `livetrail tail` whose output is collected as it arrives. */
function follow(args: string[]): { child: ChildProcess; out: () => string; err: () => string } {
  const child = start(process.execPath, [CLI, "tail", ...args]);
  let out = "";
  let err = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    out += d;
  });
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    err += d;
  });
  return { child, out: () => out, err: () => err };
}

describe("livetrail tail --no-follow", () => {
  it("prints the last N lines and exits 0", async () => {
    const dir = await tempDir();
    const file = dir.file("a.log");
    await writeFile(file, numbered(1, 50));
    expect(await runCli(["tail", "--no-follow", file])).toMatchObject({ code: 0, stdout: numbered(41, 50) });
    expect(await runCli(["tail", "-n", "3", "--no-follow", file])).toMatchObject({
      stdout: numbered(48, 50),
    });
    expect(await runCli(["tail", "-n", "0", "--no-follow", file])).toMatchObject({ code: 0, stdout: "" });
    expect(await runCli(["tail", "-n", "500", "--no-follow", file])).toMatchObject({
      stdout: numbered(1, 50),
    });
  });

  it("says when the last line is still incomplete instead of dropping it silently", async () => {
    const dir = await tempDir();
    const file = dir.file("a.log");
    await writeFile(file, "done\nhalf a li");
    const result = await runCli(["tail", "--no-follow", file]);
    expect(result).toMatchObject({ code: 0, stdout: "done\n" });
    expect(result.stderr).toBe(`livetrail: ${file}: the last line has no newline yet; not shown\n`);
  });

  it("prints JSON lines with cursors; --since a cursor prints exactly the lines after it", async () => {
    const dir = await tempDir();
    const file = dir.file("a.log");
    await appendEntries(
      file,
      ["Health check passed: Redis", { message: "disk full", level: "error" }, "third"],
      {
        now: new Date("2025-12-17T17:40:37Z"),
      },
    );
    const json = await runCli(["tail", "--json", "--no-follow", file]);
    expect(json.code).toBe(0);
    const lines = json.stdout
      .trim()
      .split("\n")
      .map((l) => JSON.parse(l));
    expect(lines).toEqual([
      {
        type: "line",
        seq: 1,
        cursor: expect.any(String),
        text: "[2025-12-17T17:40:37Z] Health check passed: Redis",
        ts: "2025-12-17T17:40:37Z",
        level: "ok",
      },
      {
        type: "line",
        seq: 2,
        cursor: expect.any(String),
        text: "[2025-12-17T17:40:37Z] ERROR: disk full",
        ts: "2025-12-17T17:40:37Z",
        level: "error",
      },
      {
        type: "line",
        seq: 3,
        cursor: expect.any(String),
        text: "[2025-12-17T17:40:37Z] third",
        ts: "2025-12-17T17:40:37Z",
        level: "info",
      },
    ]);
    await appendEntries(file, ["fourth"]);
    const after = await runCli(["tail", "--since", lines[1].cursor, "--no-follow", file]);
    expect(after.code).toBe(0);
    expect(after.stdout).toMatch(/^\[2025-12-17T17:40:37Z\] third\n\[[^\]]+\] fourth\n$/);
    const none = await runCli(["tail", "--since", lines[2].cursor, "--no-follow", "--json", file]);
    expect(
      none.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l).seq),
    ).toEqual([4]);
  });

  it("says so when the file of a --since cursor was replaced, then prints the new file", async () => {
    const dir = await tempDir();
    const file = dir.file("a.log");
    await writeFile(file, numbered(1, 3));
    const first = await runCli(["tail", "--json", "--no-follow", file]);
    const cursor = JSON.parse(first.stdout.trim().split("\n")[1] ?? "").cursor as string;
    await rename(file, dir.file("a.log.1"));
    await writeFile(file, "fresh 1\nfresh 2\n");
    const result = await runCli(["tail", "--since", cursor, "--no-follow", file]);
    expect(result).toMatchObject({ code: 0, stdout: "fresh 1\nfresh 2\n" });
    expect(result.stderr).toMatch(
      /^livetrail: .*a\.log: lines cannot be delivered \(file-changed\); continuing at 1\./,
    );
  });

  it("ends quietly when the reader goes away (tail | head)", async () => {
    const dir = await tempDir();
    const file = dir.file("a.log");
    await writeFile(file, numbered(1, 200_000));
    const child = start(process.execPath, [CLI, "tail", "-n", "200000", "--no-follow", file]);
    const result = finished(child);
    child.stdout?.once("data", () => child.stdout?.destroy());
    expect(await result).toMatchObject({ code: 0, stderr: "" });
  });

  it("exits with a clear message for a missing file, a bad cursor or bad options", async () => {
    const dir = await tempDir();
    const file = dir.file("a.log");
    expect(await runCli(["tail", "--no-follow", file])).toMatchObject({
      code: 1,
      stderr: `livetrail: ${file}: no such file\n`,
    });
    await writeFile(file, "x\n");
    const badCursor = await runCli(["tail", "--since", "not-a-cursor", "--no-follow", file]);
    expect(badCursor.code).toBe(2);
    expect(badCursor.stderr).toMatch(/^livetrail: --since: .+\n$/);
    expect((await runCli(["tail", "-n", "-1", file])).code).toBe(2);
    expect((await runCli(["tail", "-n", "5", "--since", "1.000000000000.0.0.0", file])).stderr).toMatch(
      /either -n or --since/,
    );
  });
});

describe("livetrail tail --no-follow on a file it cannot read", () => {
  it("exits 1 with one line for an unreadable file (EACCES), and prints nothing on stdout", async () => {
    const dir = await tempDir();
    const file = dir.file("secret.log");
    const as = await unreadable(dir.path, file, "line 1\n");
    for (const args of [["--no-follow"], ["--no-follow", "--json"]]) {
      expect(await runCli(["tail", ...args, file], as)).toMatchObject({
        code: 1,
        stdout: "",
        stderr: `livetrail: ${file}: permission denied (EACCES)\n`,
      });
    }
  });

  it("exits 1 with one line for a directory, a path under a file, and a missing file", async () => {
    const dir = await tempDir();
    await writeFile(dir.file("plain"), "x\n");
    const cases: Array<[string, string]> = [
      [dir.path, `livetrail: ${dir.path}: is a directory\n`],
      [
        dir.file("plain/a.log"),
        `livetrail: ${dir.file("plain/a.log")}: a parent is not a directory (ENOTDIR)\n`,
      ],
      [dir.file("nope.log"), `livetrail: ${dir.file("nope.log")}: no such file\n`],
    ];
    for (const [file, stderr] of cases) {
      expect(await runCli(["tail", "--no-follow", file])).toMatchObject({ code: 1, stdout: "", stderr });
    }
  });
});

describe("livetrail tail (following)", () => {
  it("prints lines as they are written, across partial writes, rename rotation and truncation, until SIGINT", async () => {
    const dir = await tempDir();
    const file = dir.file("a.log");
    await writeFile(file, numbered(1, 5));
    const tail = follow(["-n", "2", file]);
    await waitFor(() => tail.out() === numbered(4, 5), {
      message: "the initial two lines",
      timeoutMs: 60_000,
    });

    await appendFile(file, numbered(6, 7));
    await waitFor(() => tail.out().endsWith(numbered(6, 7)), {
      message: "appended lines",
      timeoutMs: 60_000,
    });

    // Half a line is held back until its newline arrives.
    await appendFile(file, "line 8 first ha");
    await appendFile(file, "lf, second half\n");
    await waitFor(() => tail.out().endsWith("line 8 first half, second half\n"), {
      message: "the joined line",
      timeoutMs: 60_000,
    });

    // Rename rotation: a line written to the old file after the rename still arrives, then the new file's.
    await rename(file, dir.file("a.log.1"));
    await appendFile(dir.file("a.log.1"), "line 9 (old file, after rename)\n");
    await writeFile(file, "line 10 (new file)\n");
    await waitFor(() => tail.out().includes("line 10 (new file)\n"), {
      message: "the new file's line",
      timeoutMs: 60_000,
    });
    expect(tail.out()).toContain("line 9 (old file, after rename)\nline 10 (new file)\n");
    await waitFor(() => tail.err().includes("file replaced; following the new file"), {
      message: "rotation notice",
      timeoutMs: 60_000,
    });

    // copytruncate.
    await writeFile(file, "");
    await waitFor(() => tail.err().includes("file truncated; following from the start"), {
      message: "truncation",
      timeoutMs: 60_000,
    });
    await appendFile(file, "line 11 (after truncation)\n");
    await waitFor(() => tail.out().endsWith("line 11 (after truncation)\n"), {
      message: "line after truncation",
      timeoutMs: 60_000,
    });

    const exit = finished(tail.child);
    tail.child.kill("SIGINT");
    expect((await exit).code).toBe(0);
    // Every line exactly once, in order.
    expect(tail.out().split("\n").filter(Boolean)).toEqual([
      "line 4",
      "line 5",
      "line 6",
      "line 7",
      "line 8 first half, second half",
      "line 9 (old file, after rename)",
      "line 10 (new file)",
      "line 11 (after truncation)",
    ]);
  });

  it("waits for a file that does not exist yet", async () => {
    const dir = await tempDir();
    const file = dir.file("later.log");
    const tail = follow([file]);
    await waitFor(() => tail.err().includes("no such file; waiting for it to appear"), {
      message: "waiting notice",
      timeoutMs: 60_000,
    });
    await appendEntries(file, ["it exists now"]);
    await waitFor(() => tail.out().includes("] it exists now\n"), {
      message: "the first line",
      timeoutMs: 60_000,
    });
    expect(tail.err()).toContain("file appeared; following it");
    const exit = finished(tail.child);
    tail.child.kill("SIGTERM");
    expect((await exit).code).toBe(0);
  });
});
