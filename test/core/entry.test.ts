import { describe, expect, it } from "vitest";
import { guessLevel, parseEntry } from "../../src/core/entry.js";

describe("parseEntry", () => {
  it("parses the seed format", () => {
    expect(parseEntry("[2025-12-17T17:40:37Z] New repair action")).toEqual({
      ts: "2025-12-17T17:40:37Z",
      tsMs: Date.UTC(2025, 11, 17, 17, 40, 37),
      message: "New repair action",
      level: "info",
    });
  });

  it("accepts fractional seconds and numeric offsets", () => {
    expect(parseEntry("[2025-12-17T17:40:37.5Z] x")).toMatchObject({
      tsMs: Date.UTC(2025, 11, 17, 17, 40, 37, 500),
    });
    expect(parseEntry("[2025-12-17T17:40:37.123456789Z] x")).toMatchObject({
      ts: "2025-12-17T17:40:37.123456789Z",
      tsMs: Date.UTC(2025, 11, 17, 17, 40, 37, 123),
    });
    expect(parseEntry("[2025-12-17T19:40:37+02:00] x").tsMs).toBe(Date.UTC(2025, 11, 17, 17, 40, 37));
    expect(parseEntry("[2025-12-17T12:10:37-05:30] x").tsMs).toBe(Date.UTC(2025, 11, 17, 17, 40, 37));
  });

  it("treats a timestamp with nothing after it as an entry with an empty message", () => {
    expect(parseEntry("[2025-12-17T17:40:37Z]")).toMatchObject({ ts: "2025-12-17T17:40:37Z", message: "" });
  });

  it("gives lines that share a timestamp the same result as a line parsed alone", () => {
    const stamp = "[2025-12-17T17:40:37Z]";
    expect(parseEntry(`${stamp} first`).message).toBe("first");
    expect(parseEntry(`${stamp} second failed`)).toEqual({
      ts: "2025-12-17T17:40:37Z",
      tsMs: Date.UTC(2025, 11, 17, 17, 40, 37),
      message: "second failed",
      level: "error",
    });
    expect(parseEntry(stamp)).toMatchObject({ ts: "2025-12-17T17:40:37Z", message: "" });
    expect(parseEntry(`${stamp}no space`)).toEqual({ message: `${stamp}no space`, level: "info" });
    expect(parseEntry(`${stamp.slice(0, -2)}.5Z] fraction`).tsMs).toBe(
      Date.UTC(2025, 11, 17, 17, 40, 37, 500),
    );
  });

  it.each([
    "plain text",
    "",
    "[2025-13-01T00:00:00Z] month 13",
    "[2025-02-30T00:00:00Z] February 30",
    "[2025-12-17T24:00:00Z] hour 24",
    "[2025-12-17T17:40:37] no zone",
    "[2025-12-17 17:40:37Z] space instead of T",
    "[2025-12-17T17:40:37+25:00] offset out of range",
    "[2025-12-17T17:40:37Z]no space",
    " [2025-12-17T17:40:37Z] leading space",
  ])("keeps a non-matching line whole, without a timestamp: %j", (text) => {
    const entry = parseEntry(text);
    expect(entry.ts).toBeUndefined();
    expect(entry.tsMs).toBeUndefined();
    expect(entry.message).toBe(text);
  });
});

describe("guessLevel", () => {
  it.each([
    ["Backup FAILED on node 3", "error"],
    ["fail", "error"],
    ["Unhandled exception in worker", "error"],
    ["CRITICAL: disk", "error"],
    ["error", "error"],
    ["warning: disk 91%", "warn"],
    ["WARN low memory", "warn"],
    ["health check ok", "ok"],
    ["tests passed", "ok"],
    ["Service restored", "ok"],
    ["deploy succeeded", "ok"],
    ["all healthy", "ok"],
    ["success", "ok"],
    ["restored after failure", "error"],
    ["New repair action", "info"],
    ["errorless looking", "info"],
    ["book a room", "info"],
    ["failover started", "info"],
    ["warned", "info"],
    // Characters that lower-case to ASCII letters count as those letters.
    ["O\u212a", "ok"],
    ["FA\u0130L", "info"],
    ["\u00e9chec: error", "error"],
  ])("%j -> %s", (message, level) => {
    expect(guessLevel(message)).toBe(level);
  });

  it("lets an explicit level label written by the appender win over words", () => {
    expect(guessLevel("INFO: backup succeeded")).toBe("info");
    expect(guessLevel("OK: 0 errors")).toBe("ok");
    expect(guessLevel("WARN: test: retrying")).toBe("warn");
    expect(guessLevel("ERROR: all good")).toBe("error");
    expect(parseEntry("[2025-12-17T17:40:37Z] ERROR: test: it broke").level).toBe("error");
  });
});
