import { mkdir, readFile, stat, writeFile } from "node:fs/promises";
import { describe, expect, it, vi } from "vitest";
import { canMount, useTinyFs } from "../append/tiny-fs.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { killStrays, runCli, withoutLivetrailEnv } from "./run-cli.js";

// Each test runs real processes; on a shared, busy machine one can take many seconds to start.
vi.setConfig({ testTimeout: 180_000 });

const tempDir = useTempDirs();
const tinyFs = useTinyFs();
killStrays();

const ENTRY = /^\[(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z)\] (.*)$/;

/** The entries of a file as [timestamp, rest] pairs; every line must be an entry. */
async function entries(file: string): Promise<Array<[string, string]>> {
  const text = await readFile(file, "utf8");
  expect(text.endsWith("\n")).toBe(true);
  return text
    .slice(0, -1)
    .split("\n")
    .map((line) => {
      const m = ENTRY.exec(line);
      expect(m, line).not.toBeNull();
      return [m?.[1] ?? "", m?.[2] ?? ""];
    });
}

describe("livetrail log", () => {
  it("appends `[UTC time to the second] message` and prints nothing", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    const before = Math.floor(Date.now() / 1000) * 1000;
    const result = await runCli(["log", "--file", file, "Auto-repair: Restarted Grafana container"]);
    const after = Date.now();
    expect(result).toMatchObject({ code: 0, stdout: "", stderr: "" });
    const [[ts, message]] = (await entries(file)) as [[string, string]];
    expect(message).toBe("Auto-repair: Restarted Grafana container");
    expect(Date.parse(ts)).toBeGreaterThanOrEqual(before);
    expect(Date.parse(ts)).toBeLessThanOrEqual(after);
  });

  it("chooses the file: --file, else $LIVETRAIL_FILE, else ./status/AUTO_REPAIR_AUDIT.log", async () => {
    const dir = await tempDir();
    const env = withoutLivetrailEnv({ LIVETRAIL_FILE: dir.file("env/audit.log") });
    expect(
      (await runCli(["log", "--file", dir.file("flag/audit.log"), "one"], { cwd: dir.path, env })).code,
    ).toBe(0);
    expect((await runCli(["log", "two"], { cwd: dir.path, env })).code).toBe(0);
    expect((await runCli(["log", "three"], { cwd: dir.path })).code).toBe(0);
    // An empty LIVETRAIL_FILE counts as unset.
    const empty = withoutLivetrailEnv({ LIVETRAIL_FILE: "" });
    expect((await runCli(["log", "four"], { cwd: dir.path, env: empty })).code).toBe(0);
    expect((await entries(dir.file("flag/audit.log"))).map((e) => e[1])).toEqual(["one"]);
    expect((await entries(dir.file("env/audit.log"))).map((e) => e[1])).toEqual(["two"]);
    expect((await entries(dir.file("status/AUTO_REPAIR_AUDIT.log"))).map((e) => e[1])).toEqual([
      "three",
      "four",
    ]);
  });

  it('keeps the seed\'s category form working: `log test "message"`', async () => {
    const dir = await tempDir();
    const file = dir.file("a.log");
    const result = await runCli(["log", "-f", file, "test", "New repair action"]);
    expect(result).toMatchObject({ code: 0, stderr: "" });
    expect((await entries(file)).map((e) => e[1])).toEqual(["test: New repair action"]);
  });

  it("writes --level after the timestamp", async () => {
    const dir = await tempDir();
    const file = dir.file("a.log");
    expect((await runCli(["log", "-f", file, "--level", "error", "PostgreSQL unreachable"])).code).toBe(0);
    expect((await runCli(["log", "-f", file, "-l", "Warning", "test", "lag"])).code).toBe(0);
    expect((await entries(file)).map((e) => e[1])).toEqual([
      "ERROR: PostgreSQL unreachable",
      "WARN: test: lag",
    ]);
  });

  it("keeps one entry on one line: newlines and control characters are escaped", async () => {
    const dir = await tempDir();
    const file = dir.file("a.log");
    const result = await runCli(["log", "-f", file, "line one\nline two\r\n\x1b[31mred\x1b[0m\tend\x7f"]);
    expect(result.code).toBe(0);
    expect((await entries(file)).map((e) => e[1])).toEqual([
      "line one\\nline two\\r\\n\\x1b[31mred\\x1b[0m\\tend\\x7f",
    ]);
  });

  it("rejects an empty or blank message with exit 1 and writes nothing", async () => {
    const dir = await tempDir();
    const file = dir.file("a.log");
    for (const message of ["", "   ", "\n\t"]) {
      const result = await runCli(["log", "-f", file, message]);
      expect(result).toMatchObject({
        code: 1,
        stdout: "",
        stderr: "livetrail: empty message: an entry needs some text\n",
      });
    }
    await expect(stat(file)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("rejects a message over 64 KiB with exit 1 and writes nothing", async () => {
    const dir = await tempDir();
    const file = dir.file("a.log");
    const result = await runCli(["log", "-f", file, "x".repeat(70_000)]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      /^livetrail: entry too large: 70024 bytes .* limit is 65536 bytes per line\n$/,
    );
    await expect(stat(file)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("exits 2 with a clear message on usage errors", async () => {
    const dir = await tempDir();
    const file = dir.file("a.log");
    const cases: Array<[string[], RegExp]> = [
      [["log", "-f", file], /missing required argument/],
      [
        ["log", "-f", file, "Restarted", "Grafana", "container"],
        /too many arguments \(3\): quote the message/,
      ],
      [["log", "-f", file, "two words", "message"], /"two words" is not a category/],
      [["log", "-f", file, "--level", "fatal", "x"], /unknown level "fatal": use error, warn, ok or info/],
      [["log", "--file", "", "x"], /the file path is empty/],
      [["log", "--bogus", "x"], /unknown option '--bogus'/],
    ];
    for (const [args, message] of cases) {
      const result = await runCli(args, { cwd: dir.path });
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr).toMatch(message);
    }
    await expect(stat(file)).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("reports an unwritable path in one line, without a stack trace", async () => {
    const dir = await tempDir();
    await mkdir(dir.file("a-directory"));
    const result = await runCli(["log", "-f", dir.file("a-directory"), "x"]);
    expect(result).toMatchObject({
      code: 1,
      stderr: `livetrail: ${dir.file("a-directory")}: is a directory (EISDIR)\n`,
    });
  });

  it("reports a write error in one line, without a stack trace: /proc/version refuses writes (EIO)", async () => {
    const result = await runCli(["log", "--file", "/proc/version", "x"]);
    expect(result).toMatchObject({
      code: 1,
      stdout: "",
      stderr: "livetrail: /proc/version: input/output error (EIO); nothing was written\n",
    });
  });

  it("reports a parent that is a file in one line (ENOTDIR)", async () => {
    const dir = await tempDir();
    await writeFile(dir.file("plain"), "");
    const result = await runCli(["log", "--file", dir.file("plain/a.log"), "x"]);
    expect(result).toMatchObject({
      code: 1,
      stderr: `livetrail: ${dir.file("plain/a.log")}: a parent is not a directory (ENOTDIR)\n`,
    });
  });

  describe.skipIf(!canMount)("on a full disk (a real 64 KiB tmpfs, filled)", () => {
    it("leaves the file as it was, exits 1 with one line, and the next entry after freeing space is whole", async () => {
      const fs = await tinyFs("64k");
      const file = fs.file("audit.log");
      const before = "[2025-12-17T17:40:37Z] whole\n".repeat(140); // 4060 bytes: 36 left in the page
      await writeFile(file, before);
      await fs.fill();
      const cut = await runCli(["log", "--file", file, `a long entry ${"x".repeat(200)}`]);
      expect(cut).toMatchObject({ code: 1, stdout: "" });
      expect(cut.stderr).toMatch(
        new RegExp(
          `^livetrail: ${file}: disk full or file size limit: only 36 of 237 bytes could be written; ` +
            "the cut entry was removed again, the file is as it was\n$",
        ),
      );
      expect(await readFile(file, "utf8")).toBe(before);

      // Stdin: the line that does not fit is reported the same way.
      const stdin = await runCli(["log", "--file", file, "-"], { input: `${"y".repeat(100)}\n` });
      expect(stdin.code).toBe(1);
      expect(stdin.stderr.split("\n")).toHaveLength(2);
      expect(stdin.stderr).toContain("the file is as it was");
      expect(await readFile(file, "utf8")).toBe(before);

      await fs.free();
      expect(await runCli(["log", "--file", file, "after"])).toMatchObject({ code: 0, stderr: "" });
      const added = (await readFile(file, "utf8")).slice(before.length);
      expect(added).toMatch(/^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\] after\n$/);
      await entries(file);
    });

    it("says ENOSPC when nothing fits, and exits 1", async () => {
      const fs = await tinyFs("64k");
      const file = fs.file("audit.log");
      // 140 lines of 29 bytes and one of 36: exactly one full page.
      await writeFile(
        file,
        `${"[2025-12-17T17:40:37Z] whole\n".repeat(140)}[2025-12-17T17:40:38Z] page is full\n`,
      );
      await fs.fill();
      const hash = await readFile(file);
      expect(hash.length).toBe(4096);
      expect(await runCli(["log", "--file", file, "x"])).toMatchObject({
        code: 1,
        stderr: `livetrail: ${file}: no space left on device (ENOSPC); nothing was written\n`,
      });
      expect((await readFile(file)).equals(hash)).toBe(true);
    });
  });

  describe("with - (stdin)", () => {
    it("writes one entry per line, CRLF or LF, skipping blank lines", async () => {
      const dir = await tempDir();
      const file = dir.file("a.log");
      const result = await runCli(["log", "-f", file, "--level", "warn", "-"], {
        input: "first\r\nsecond\n\n   \nthird \x1b tail\nlast without newline",
      });
      expect(result).toMatchObject({ code: 0, stdout: "", stderr: "" });
      expect((await entries(file)).map((e) => e[1])).toEqual([
        "WARN: first",
        "WARN: second",
        "WARN: third \\x1b tail",
        "WARN: last without newline",
      ]);
    });

    it("takes a category too", async () => {
      const dir = await tempDir();
      const file = dir.file("a.log");
      expect((await runCli(["log", "-f", file, "test", "-"], { input: "a\nb\n" })).code).toBe(0);
      expect((await entries(file)).map((e) => e[1])).toEqual(["test: a", "test: b"]);
    });

    it("writes the good lines, reports each bad one by number, and exits 1", async () => {
      const dir = await tempDir();
      const file = dir.file("a.log");
      const input = Buffer.concat([
        Buffer.from("good 1\n"),
        Buffer.from("bad \xff\xfe utf-8\n", "latin1"),
        Buffer.from(`${"y".repeat(70_000)}\n`),
        Buffer.from("good 2\n"),
      ]);
      const result = await runCli(["log", "-f", file, "-"], { input });
      expect(result.code).toBe(1);
      expect(result.stderr).toBe(
        "livetrail: stdin line 2 not written: invalid UTF-8\n" +
          "livetrail: stdin line 3 not written: line is 70000 bytes; too long for an entry\n" +
          "livetrail: 2 of 4 stdin lines not written\n",
      );
      expect((await entries(file)).map((e) => e[1])).toEqual(["good 1", "good 2"]);
    });

    it("writes nothing for empty input and succeeds", async () => {
      const dir = await tempDir();
      const file = dir.file("a.log");
      expect(await runCli(["log", "-f", file, "-"], { input: "" })).toMatchObject({ code: 0, stderr: "" });
      await expect(stat(file)).rejects.toMatchObject({ code: "ENOENT" });
    });
  });

  it("starts the entry on its own line when the file ends with a foreign unterminated line", async () => {
    const dir = await tempDir();
    const file = dir.file("f.log");
    await writeFile(file, "[2025-12-17T17:40:37Z] whole\npartial");
    expect(await runCli(["log", "--file", file, "x"])).toMatchObject({ code: 0, stderr: "" });
    expect(await runCli(["log", "--file", file, "-"], { input: "y\nz\n" })).toMatchObject({ code: 0 });
    const lines = (await readFile(file, "utf8")).split("\n");
    expect(lines.slice(0, 2)).toEqual(["[2025-12-17T17:40:37Z] whole", "partial"]);
    expect(lines.slice(2).map((l) => l.replace(/^\[.*?Z\] /, ""))).toEqual(["x", "y", "z", ""]);
  });

  it("appends to an existing file, never rewriting it", async () => {
    const dir = await tempDir();
    const file = dir.file("a.log");
    await writeFile(file, "[2025-12-17T17:40:37Z] Auto-repair: Created PostgreSQL database quantum\n");
    expect((await runCli(["log", "-f", file, "next"])).code).toBe(0);
    const lines = (await readFile(file, "utf8")).split("\n");
    expect(lines[0]).toBe("[2025-12-17T17:40:37Z] Auto-repair: Created PostgreSQL database quantum");
    expect(lines[1]).toMatch(/^\[.*Z\] next$/);
  });
});
