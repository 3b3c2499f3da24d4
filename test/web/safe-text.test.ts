import { describe, expect, it } from "vitest";
import { escapeMessage } from "../../src/append/entry-format.js";
import { exportBlob } from "../../src/web/export-lines.js";
import { forEachPart, hasUnsafe, jsonSafe, safeText, terminalSafe } from "../../src/web/safe-text.js";
import { StreamStore } from "../../src/web/store.js";

/** Any one character of a class written with `\\u` escapes (built at run time: the linter rejects control
 * characters in a regex literal, and here finding them is the point). */
const anyOf = (cls: string): RegExp => new RegExp(`[${cls}]`);

const BIDI = ["\u202a", "\u202b", "\u202c", "\u202d", "\u202e", "\u2066", "\u2067", "\u2068", "\u2069"];
const MARKS = ["\u200e", "\u200f", "\u061c"];

describe("safeText", () => {
  it("shows bidi controls and direction marks as \\u escapes", () => {
    expect(safeText("user=\u202eadmin\u202c")).toBe("user=\\u202eadmin\\u202c");
    for (const ch of [...BIDI, ...MARKS]) expect(safeText(ch)).toMatch(/^\\u[0-9a-f]{4}$/);
    expect(safeText("\u2028\u2029")).toBe("\\u2028\\u2029");
  });

  it("shows C0, DEL and C1 controls in the notation of livetrail log and tail", () => {
    let all = "";
    for (let c = 0; c < 0xa0; c++) if (c < 0x20 || c >= 0x7f) all += String.fromCharCode(c);
    all += BIDI.join("");
    // The entry format's escapes, character for character (it does not escape U+200E/U+200F/U+061C).
    expect(safeText(all)).toBe(escapeMessage(all));
    expect(safeText("\u001b[31mred\u0007")).toBe("\\x1b[31mred\\x07");
    expect(safeText("a\tb\r")).toBe("a\\tb\\r");
    expect(safeText("\u009b1m\u0085")).toBe("\\u009b1m\\u0085");
  });

  it("leaves ordinary text alone, right-to-left scripts and emoji included", () => {
    for (const t of ["plain", "שלום עולם", "مرحبا", "naïve café 😀", "back\\slash", ""]) {
      expect(safeText(t)).toBe(t);
      expect(hasUnsafe(t)).toBe(false);
    }
  });

  it("keeps tabs for terminals, escapes the rest", () => {
    expect(terminalSafe("a\tb\u001b[2J\u202e\u0085")).toBe("a\tb\\x1b[2J\\u202e\\u0085");
  });

  it("splits text into plain runs and escapes, in order", () => {
    const parts: string[] = [];
    forEachPart(
      "a\u202eb\u001b\u001bc",
      (p) => parts.push(`text:${p}`),
      (e, code) => parts.push(`esc:${e}:${code}`),
    );
    expect(parts).toEqual(["text:a", "esc:\\u202e:8238", "text:b", "esc:\\x1b:27", "esc:\\x1b:27", "text:c"]);
  });

  it("writes unsafe characters in JSON as JSON escapes, which parse back to the original", () => {
    const text = "x\u202ey\u0085z\u007f\u001b\u2066";
    const json = jsonSafe(JSON.stringify({ text }));
    expect(json).not.toMatch(anyOf("\\u0000-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069"));
    expect(JSON.parse(json)).toEqual({ text });
  });
});

describe("exportBlob", () => {
  const store = new StreamStore();
  store.appendLive([
    { seq: 1, text: "[2025-12-17T17:40:37Z] user=\u202eadmin\u202c", c: "c1" },
    { seq: 2, text: "[2025-12-17T17:40:38Z] \u001b]0;owned\u0007\u001b[2Jtab\there", c: "c2" },
  ]);

  it("writes a .log that is safe to cat: escapes (tab kept)", async () => {
    const text = await exportBlob(store, [0, 1], "log").text();
    expect(text).toBe(
      "[2025-12-17T17:40:37Z] user=\\u202eadmin\\u202c\n[2025-12-17T17:40:38Z] \\x1b]0;owned\\x07\\x1b[2Jtab\there\n",
    );
  });

  it("writes a .json with the exact text, no raw control or bidi character in the file", async () => {
    const raw = await exportBlob(store, [0, 1], "json").text();
    expect(raw).not.toMatch(
      anyOf("\\u0000-\\u0009\\u000b-\\u001f\\u007f-\\u009f\\u202a-\\u202e\\u2066-\\u2069"),
    );
    const entries = JSON.parse(raw) as { text: string }[];
    expect(entries.map((e) => e.text)).toEqual([store.text(0), store.text(1)]);
  });
});
