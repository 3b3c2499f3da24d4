import { writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { appendEntries } from "../../src/append/appender.js";
import { verifyAuditFile } from "../../src/append/verify.js";
import { useTempDirs } from "../helpers/temp-dir.js";

const tempDir = useTempDirs();

async function fileWith(content: string | Buffer): Promise<string> {
  const dir = await tempDir();
  const file = dir.file("audit.log");
  await writeFile(file, content);
  return file;
}

describe("verifyAuditFile", () => {
  it("passes what the appender writes, including escaped messages", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await appendEntries(file, ["a\nb", "\x1b[31mred\x00", "Grüße 😀", { message: "x", level: "error" }]);
    const report = await verifyAuditFile(file);
    expect(report).toMatchObject({ ok: true, lines: 4, entries: 4, problemCount: 0, problems: [] });
  });

  it("accepts the seed's own timestamps: fractional seconds and offsets", async () => {
    const file = await fileWith(
      "[2025-12-17T17:40:37.123456Z] a\n[2025-12-17T18:40:38+01:00] b\n[2025-12-17T17:40:39Z] c\n",
    );
    expect(await verifyAuditFile(file)).toMatchObject({
      ok: true,
      entries: 3,
      firstTime: "2025-12-17T17:40:37.123456Z",
      lastTime: "2025-12-17T17:40:39Z",
    });
  });

  it("passes an empty file", async () => {
    expect(await verifyAuditFile(await fileWith(""))).toMatchObject({ ok: true, lines: 0, entries: 0 });
  });

  it("reports each kind of problem with its line number", async () => {
    const file = await fileWith(
      Buffer.concat([
        Buffer.from("[2025-12-17T10:00:00Z] fine\n"), // 1
        Buffer.from("no timestamp here\n"), // 2
        Buffer.from("[2025-02-30T10:00:00Z] no such day\n"), // 3
        Buffer.from("\n"), // 4
        Buffer.from("[2025-12-17T10:00:01Z] bad \xff byte\n", "latin1"), // 5
        Buffer.from("[2025-12-17T10:00:02Z] tab\there\n"), // 6
        Buffer.from("[2025-12-17T10:00:03Z] crlf\r\n"), // 7
        Buffer.from("[2025-12-17T09:00:00Z] an hour back\n"), // 8
        Buffer.from("[2025-12-17T09:00:01Z]  \n"), // 9
        Buffer.from(`[2025-12-17T09:00:02Z] ${"x".repeat(70_000)}\n`), // 10
        Buffer.from("[2025-12-17T09:00:03Z] unterminated"), // 11
      ]),
    );
    const report = await verifyAuditFile(file);
    expect(report.ok).toBe(false);
    expect(report.lines).toBe(11);
    expect(report.problems.map((p) => [p.line, p.kind])).toEqual([
      [2, "bad-format"],
      [3, "bad-timestamp"],
      [4, "empty-line"],
      [5, "invalid-utf8"],
      [6, "control-char"],
      [7, "control-char"],
      [8, "time-went-back"],
      [9, "empty-message"],
      [10, "too-long"],
      [11, "no-final-newline"],
    ]);
    expect(report.problems.find((p) => p.line === 5)?.detail).toBe("invalid UTF-8 at byte 28");
    expect(report.problems.find((p) => p.line === 6)?.detail).toBe("TAB (U+0009) at column 27");
    expect(report.problems.find((p) => p.line === 7)?.detail).toMatch(
      /^CR \(U\+000D\) at column 28 \(a CRLF/,
    );
    expect(report.problems.find((p) => p.line === 8)?.detail).toBe(
      "timestamp is 3603 s earlier than the previous entry's",
    );
    expect(report.problems.find((p) => p.line === 10)?.detail).toBe("70024 bytes; the limit is 65536");
  });

  it("tolerates timestamps out of order by up to --max-skew, counting them", async () => {
    const content = "[2025-12-17T10:00:01Z] a\n[2025-12-17T10:00:00Z] b\n[2025-12-17T10:00:02Z] c\n";
    expect(await verifyAuditFile(await fileWith(content))).toMatchObject({ ok: true, reordered: 1 });
    const strict = await verifyAuditFile(await fileWith(content), { maxSkewMs: 0 });
    expect(strict.problems).toEqual([
      { line: 2, kind: "time-went-back", detail: "timestamp is 1 s earlier than the previous entry's" },
    ]);
  });

  it("reports a byte order mark as a format problem instead of hiding it", async () => {
    const report = await verifyAuditFile(await fileWith("\ufeff[2025-12-17T10:00:00Z] a\n"));
    expect(report.problems.map((p) => p.kind)).toEqual(["bad-format"]);
  });

  it("counts every problem but keeps only maxProblems of them", async () => {
    const report = await verifyAuditFile(await fileWith("bad\n".repeat(500)), { maxProblems: 3 });
    expect(report.problemCount).toBe(500);
    expect(report.counts).toEqual({ "bad-format": 500 });
    expect(report.problems.map((p) => p.line)).toEqual([1, 2, 3]);
  });
});
