import { describe, expect, it } from "vitest";
import {
  decodeEntry,
  EMPTY_TOP,
  encodeGap,
  encodeLine,
  lineText,
  streamKey,
  streamNameProblem,
  topAfter,
} from "../../../src/backend/redis/entry.js";
import { decodeRedisCursor, encodeRedisCursor } from "../../../src/backend/redis/redis-cursor.js";
import { CursorError } from "../../../src/core/cursor.js";

const b = (s: string) => Buffer.from(s, "utf8");

describe("redis entry codec", () => {
  it("gives each line the ID of its byte position and consecutive sequence numbers", () => {
    const first = encodeLine(EMPTY_TOP, {
      bytes: b("[2025-12-17T17:40:37Z] one"),
      host: "h1",
      file: "f1",
      offset: 27,
    });
    expect(first.id).toBe("27-0");
    const second = encodeLine(first.top, { bytes: b("two") });
    expect(second.id).toBe("31-0");
    expect(second.top).toEqual({ position: 31, seq: 2 });
    const decoded = decodeEntry(
      first.id,
      first.fields.map((f) => (typeof f === "string" ? b(f) : f)),
    );
    expect(decoded).toEqual({
      kind: "line",
      id: "27-0",
      position: 27,
      seq: 1,
      bytes: b("[2025-12-17T17:40:37Z] one"),
      timeMs: Date.parse("2025-12-17T17:40:37Z"),
      host: "h1",
      file: "f1",
      offset: 27,
    });
  });

  it("gives gap markers one position of their own, and a writer resumes after either kind", () => {
    const line = encodeLine(EMPTY_TOP, { bytes: b("x") });
    const gap = encodeGap(line.top, { reason: "truncated", skipped: 3, file: "f2", offset: 0 });
    expect(gap.id).toBe("3-0");
    const again = encodeGap(gap.top, { reason: "file-gone" });
    expect(again.id).toBe("4-0");
    const decoded = decodeEntry(gap.id, gap.fields);
    expect(decoded).toMatchObject({ kind: "gap", position: 3, reason: "truncated", skipped: 3, seq: 1 });
    expect(decoded).toMatchObject({ file: "f2", offset: 0 });
    expect(topAfter(decoded)).toEqual({ position: 3, seq: 1 });
    expect(encodeLine(topAfter(decoded), { bytes: b("y") })).toMatchObject({ id: "5-0", top: { seq: 2 } });
  });

  it("decodes foreign and hostile entries to a reason, never throwing", () => {
    expect(decodeEntry("1733300000000-0", ["message", "hi"])).toMatchObject({ kind: "foreign" });
    expect(decodeEntry("99999999999999999999-0", ["l", "x", "q", "1"])).toMatchObject({ kind: "foreign" });
    expect(decodeEntry("5-3", ["l", "x", "q", "1"])).toMatchObject({ kind: "foreign" });
    expect(decodeEntry("5-0", ["l", "x", "q", "-1"])).toMatchObject({ kind: "foreign" });
    expect(decodeEntry("5-0", ["l", "x"])).toMatchObject({ kind: "foreign" });
    expect(decodeEntry("1-0", ["l", "long", "q", "1"])).toMatchObject({ kind: "foreign" });
    expect(decodeEntry("5-0", ["k", "what", "l", "x", "q", "1"])).toMatchObject({ kind: "foreign" });
    expect(decodeEntry("5-1", ["k", "gap", "r", "x"])).toMatchObject({ kind: "foreign" });
    expect(decodeEntry("5-0", ["l"])).toMatchObject({ kind: "foreign" });
    // Hostile optional fields are dropped, the line stays.
    const odd = decodeEntry("10-0", [
      b("l"),
      Buffer.from([0xff, 0xfe, 0x41]),
      b("q"),
      b("7"),
      b("t"),
      b("soon"),
      b("h"),
      b("a\u0007b"),
    ]);
    expect(odd).toMatchObject({ kind: "line", seq: 7, host: "a?b" });
    expect(odd).not.toHaveProperty("timeMs");
    expect(lineText((odd as { bytes: Buffer }).bytes, 100).text).toBe("\ufffd\ufffdA");
    const gap = decodeEntry("5-0", ["k", "gap", "r", "x".repeat(1000), "n", "lots"]);
    expect(gap).toMatchObject({ kind: "gap", reason: "x".repeat(40) });
    expect(gap).not.toHaveProperty("skipped");
    expect(() => topAfter(decodeEntry("5-0", ["nope", "1"]))).toThrow(/not livetrail's/);
  });

  it("cuts long lines on a character boundary", () => {
    const cut = lineText(b("ééé"), 3);
    expect(cut).toEqual({ text: "é", truncatedFrom: 6 });
  });

  it("shows a line as the file backend would: a CRLF's CR dropped, the real length of a line shipped cut", () => {
    expect(lineText(b("crlf\r"), 100)).toEqual({ text: "crlf" });
    expect(lineText(b("two\r\r"), 100)).toEqual({ text: "two\r" });
    expect(lineText(b("éé\r"), 2)).toEqual({ text: "é", truncatedFrom: 4 });
    expect(lineText(b("head"), 100, 5000)).toEqual({ text: "head", truncatedFrom: 5000 });
    expect(lineText(b("head"), 2, 5000)).toEqual({ text: "he", truncatedFrom: 5000 });
  });

  it("carries a cut line's real length (c) and a line shipped as its decoded text (d)", () => {
    const cut = encodeLine(EMPTY_TOP, { bytes: b("head"), cutFrom: 5000, decoded: true });
    expect(cut.fields).toEqual(["l", b("head"), "q", "1", "c", "5000", "d", "1"]);
    expect(decodeEntry(cut.id, cut.fields)).toMatchObject({ kind: "line", cutFrom: 5000, decoded: true });
    const plain = decodeEntry("5-0", ["l", "head", "q", "1"]);
    expect(plain).not.toHaveProperty("cutFrom");
    expect(plain).not.toHaveProperty("decoded");
    // A `c` not beyond the bytes held says nothing: ignored.
    expect(decodeEntry("5-0", ["l", "head", "q", "1", "c", "3"])).not.toHaveProperty("cutFrom");
  });

  it("names keys with a hash tag and refuses names that would move it", () => {
    expect(streamKey("audit")).toBe("livetrail:{audit}:lines");
    expect(streamNameProblem("audit")).toBeNull();
    for (const bad of ["a}b", "{a}", "", "a\nb", "x".repeat(65), "-a"])
      expect(streamNameProblem(bad)).toMatch(/invalid stream name/);
  });

  it("round-trips cursors and refuses foreign ones", () => {
    expect(encodeRedisCursor({ position: 31, seq: 2 })).toBe("x.v.2");
    expect(decodeRedisCursor("x.v.2")).toEqual({ position: 31, seq: 2 });
    for (const bad of [
      "1.abcdefabcdef.1.2.3",
      "x.v",
      "x.00.1",
      "x.v.2.3",
      "x..1",
      `x.${"z".repeat(12)}.1`,
      "r.x.1.1",
    ])
      expect(() => decodeRedisCursor(bad)).toThrow(CursorError);
  });
});
