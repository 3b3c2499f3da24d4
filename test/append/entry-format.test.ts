import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  EntryError,
  type EntryLevel,
  escapeMessage,
  formatEntry,
  formatTimestamp,
  MAX_ENTRY_BYTES,
  parseLevel,
} from "../../src/append/entry-format.js";

const time = new Date("2025-12-17T17:40:37.918Z");

describe("formatEntry", () => {
  it("writes the seed format, UTC to the second", () => {
    expect(formatEntry("Auto-repair: Restarted Grafana container", { time })).toBe(
      "[2025-12-17T17:40:37Z] Auto-repair: Restarted Grafana container\n",
    );
  });

  it("puts the level, then the category, after the timestamp", () => {
    expect(formatEntry("disk full", { time, level: "error" })).toBe(
      "[2025-12-17T17:40:37Z] ERROR: disk full\n",
    );
    expect(formatEntry("lag", { time, level: "warn" })).toBe("[2025-12-17T17:40:37Z] WARN: lag\n");
    expect(formatEntry("New repair action", { time, category: "test" })).toBe(
      "[2025-12-17T17:40:37Z] test: New repair action\n",
    );
    expect(formatEntry("x", { time, level: "ok", category: "self-heal" })).toBe(
      "[2025-12-17T17:40:37Z] OK: self-heal: x\n",
    );
  });

  it("rejects empty and whitespace-only messages", () => {
    for (const message of ["", " ", "\t\n", "\u00a0\u3000"]) {
      expect(() => formatEntry(message, { time })).toThrow(
        expect.objectContaining({ name: "EntryError", code: "empty-message" }),
      );
    }
  });

  it("rejects a level that is not one of the four (library callers pass strings too)", () => {
    for (const level of ["Error", "fatal", "toString", ""]) {
      expect(() => formatEntry("m", { time, level: level as EntryLevel })).toThrow(
        expect.objectContaining({ code: "bad-level" }),
      );
    }
  });

  it("rejects a category that is not one short word", () => {
    for (const category of ["", "two words", "a:b", "x".repeat(33), "-lead"]) {
      expect(() => formatEntry("m", { time, category })).toThrow(EntryError);
    }
  });

  it("caps an entry line at 64 KiB, counting the timestamp, escapes and newline", () => {
    const room = MAX_ENTRY_BYTES - "[2025-12-17T17:40:37Z] \n".length;
    expect(Buffer.byteLength(formatEntry("a".repeat(room), { time }))).toBe(MAX_ENTRY_BYTES);
    expect(() => formatEntry("a".repeat(room + 1), { time })).toThrow(
      expect.objectContaining({ code: "entry-too-large" }),
    );
    // Escaping makes a message longer: 20,000 ESC characters become 80,000 bytes.
    expect(() => formatEntry("\x1b".repeat(20_000), { time })).toThrow(/entry too large: 80024 bytes/);
    // Multibyte characters count in bytes.
    expect(() => formatEntry("€".repeat(22_000), { time })).toThrow(EntryError);
  });

  it("rejects an invalid time instead of writing garbage", () => {
    expect(() => formatEntry("m", { time: new Date(Number.NaN) })).toThrow(/invalid entry time/);
    expect(() => formatTimestamp(new Date("+012025-01-01T00:00:00Z"))).toThrow(/years 0000-9999/);
  });
});

describe("escapeMessage", () => {
  it("escapes line breaks and tabs as two visible characters", () => {
    expect(escapeMessage("a\nb\r\nc\td")).toBe("a\\nb\\r\\nc\\td");
  });

  it("shows other C0 controls, DEL, C1 controls, separators, bidi overrides and lone surrogates", () => {
    expect(escapeMessage("\x00\x07\x1b[31mred\x7f")).toBe("\\x00\\x07\\x1b[31mred\\x7f");
    expect(escapeMessage("a\u0085b\u009bc")).toBe("a\\u0085b\\u009bc");
    expect(escapeMessage("x\u2028y\u2029z")).toBe("x\\u2028y\\u2029z");
    expect(escapeMessage("file\u202egnp.exe\u2066")).toBe("file\\u202egnp.exe\\u2066");
    expect(escapeMessage("lone \ud800 and \udc00")).toBe("lone \\ud800 and \\udc00");
  });

  it("keeps printable text as it is, backslashes included", () => {
    const text = 'Grüße, 価格 €5 😀 C:\\temp\\new "quoted" <b>';
    expect(escapeMessage(text)).toBe(text);
  });

  it("always yields exactly one line of valid UTF-8 with no control characters (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "binary", maxLength: 200 }), (message) => {
        fc.pre(message.trim() !== "");
        const line = formatEntry(message, { time });
        expect(line.indexOf("\n")).toBe(line.length - 1);
        // biome-ignore lint/suspicious/noControlCharactersInRegex: asserting their absence.
        expect(line.slice(0, -1)).not.toMatch(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/);
        expect(Buffer.from(line, "utf8").toString("utf8")).toBe(line);
        expect(line.startsWith("[2025-12-17T17:40:37Z] ")).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("leaves a message with nothing to escape unchanged (property)", () => {
    fc.assert(
      fc.property(fc.string({ unit: "grapheme", maxLength: 100 }), (message) => {
        // biome-ignore lint/suspicious/noControlCharactersInRegex: excluding what gets escaped.
        fc.pre(!/[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/.test(message));
        expect(escapeMessage(message)).toBe(message);
      }),
    );
  });
});

describe("parseLevel", () => {
  it("accepts the four levels in any case, and `warning`", () => {
    expect(["ERROR", "warn", "Warning", "ok", "Info"].map(parseLevel)).toEqual([
      "error",
      "warn",
      "warn",
      "ok",
      "info",
    ]);
  });

  it("names the choices for anything else", () => {
    expect(() => parseLevel("fatal")).toThrow('unknown level "fatal": use error, warn, ok or info');
  });
});
