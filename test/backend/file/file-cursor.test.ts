import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { cursorPrefix, decodeCursor, encodeCursor } from "../../../src/backend/file/file-cursor.js";
import { CursorError, cursorTail } from "../../../src/core/cursor.js";

const cursorData = fc.record({
  fileId: fc.stringMatching(/^[0-9a-f]{12}$/),
  fpLen: fc.integer({ min: 0, max: 256 }),
  offset: fc.maxSafeNat(),
  seq: fc.maxSafeInteger(),
});

describe("cursor", () => {
  it("round-trips any valid position, and encodes numbers exactly as base 36", () => {
    fc.assert(
      fc.property(cursorData, (data) => {
        const text = encodeCursor(data);
        expect(decodeCursor(text)).toEqual(data);
        const sign = data.seq < 0 ? "-" : "";
        expect(text).toBe(
          `1.${data.fileId}.${data.fpLen.toString(36)}.${data.offset.toString(36)}.${sign}${Math.abs(data.seq).toString(36)}`,
        );
        expect(cursorPrefix(data.fileId, data.fpLen) + cursorTail(data.offset, data.seq)).toBe(text);
      }),
      { numRuns: 2000 },
    );
  });

  it("has the documented layout", () => {
    expect(encodeCursor({ fileId: "0123456789ab", fpLen: 256, offset: 1296, seq: 35 })).toBe(
      "1.0123456789ab.74.100.z",
    );
    expect(encodeCursor({ fileId: "0123456789ab", fpLen: 0, offset: 0, seq: -37 })).toBe(
      "1.0123456789ab.0.0.-11",
    );
  });

  it.each([
    ["empty", ""],
    ["other version", "2.0123456789ab.0.0.0"],
    ["missing field", "1.0123456789ab.0.0"],
    ["extra field", "1.0123456789ab.0.0.0.0"],
    ["short file id", "1.0123456789a.0.0.0"],
    ["upper-case file id", "1.0123456789AB.0.0.0"],
    ["fingerprint too long", "1.0123456789ab.74.0.0".replace(".74.", ".75.")],
    ["negative offset", "1.0123456789ab.0.-1.0"],
    ["leading zero", "1.0123456789ab.0.01.0"],
    ["negative zero seq", "1.0123456789ab.0.0.-0"],
    ["unsafe offset", "1.0123456789ab.0.zzzzzzzzzzz.0"],
    ["non-digit", "1.0123456789ab.0.1_0.0"],
    ["whitespace", " 1.0123456789ab.0.0.0"],
    ["very long", `1.${"a".repeat(10_000)}`],
  ])("rejects a malformed cursor (%s) with CursorError", (_name, text) => {
    expect(() => decodeCursor(text)).toThrow(CursorError);
  });

  it("rejects non-string input with CursorError", () => {
    expect(() => decodeCursor(42 as unknown as string)).toThrow(CursorError);
  });

  it("refuses to encode an invalid position", () => {
    const ok = { fileId: "0123456789ab", fpLen: 3, offset: 5, seq: 1 };
    expect(() => encodeCursor({ ...ok, offset: -1 })).toThrow(CursorError);
    expect(() => encodeCursor({ ...ok, offset: 1.5 })).toThrow(CursorError);
    expect(() => encodeCursor({ ...ok, fpLen: 257 })).toThrow(CursorError);
    expect(() => encodeCursor({ ...ok, fileId: "xyz" })).toThrow(CursorError);
    expect(() => encodeCursor({ ...ok, seq: Number.NaN })).toThrow(CursorError);
  });
});
