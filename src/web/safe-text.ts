import { escapeChar } from "../core/escape.js";

/**
 * Characters a log line must not be able to use on a viewer: they are shown as visible escapes in rows, the
 * detail panel and copies, in the notation `livetrail log` writes and `livetrail tail` prints on a terminal
 * (src/append/entry-format.ts): `\n`, `\r`, `\t`; `\xHH` for other C0 controls and DEL (`\x1b`); `\uHHHH` for
 * C1 controls, U+2028/U+2029 and the bidirectional controls (`\u202e`). Beyond what the entry format escapes,
 * the implicit direction marks U+200E, U+200F and U+061C are shown too: they reorder neighbouring text as well.
 *
 * The escaping is for display only: the store, the filter and the search keep the original text. Backslashes are
 * shown as they are, so a line may also contain the characters `\u202e` literally; in rows and the detail panel
 * an escape is its own element (class `esc`), styled apart from the text around it.
 */

// Character classes as strings: DEL, C1, ALM, LRM/RLM, LS/PS, bidi embeddings/overrides and isolates, then with
// the C0 controls (all of them, or all but tab; a line never holds LF).
const BEYOND_C0 = "\\u007f-\\u009f\\u061c\\u200e\\u200f\\u2028\\u2029\\u202a-\\u202e\\u2066-\\u2069";
const UNSAFE = new RegExp(`[\\u0000-\\u001f${BEYOND_C0}]`);
const UNSAFE_ALL = new RegExp(`[\\u0000-\\u001f${BEYOND_C0}]`, "g");
const UNSAFE_BUT_TAB = new RegExp(`[\\u0000-\\u0008\\u000a-\\u001f${BEYOND_C0}]`, "g");
// In JSON text, C0 controls are already escaped by JSON.stringify; these are not.
const JSON_UNSAFE = new RegExp(`[${BEYOND_C0}]`, "g");

/** Does the text hold a character that must be shown escaped? */
export function hasUnsafe(text: string): boolean {
  return UNSAFE.test(text);
}

/** The text as shown and copied: every unsafe character (tab included) as its escape. */
export function safeText(text: string): string {
  return UNSAFE.test(text) ? text.replace(UNSAFE_ALL, escapeChar) : text;
}

/** A line for a `.log` export, safe to `cat` on a terminal: like safeText, but tabs stay tabs. */
export function terminalSafe(text: string): string {
  return UNSAFE.test(text) ? text.replace(UNSAFE_BUT_TAB, escapeChar) : text;
}

/**
 * JSON text (from JSON.stringify) with DEL, C1 and bidi controls written as `\uHHHH` JSON escapes: the file is
 * safe to `cat`, and parsing it still gives the exact original strings. (These characters only occur inside
 * strings, where a JSON escape means the same character.)
 */
export function jsonSafe(json: string): string {
  return json.replace(JSON_UNSAFE, (ch) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`);
}

/**
 * Calls `plain` with each run of safe text and `escaped` with each unsafe character's escape, in order: for
 * building DOM where the escapes get their own element.
 */
export function forEachPart(
  text: string,
  plain: (part: string) => void,
  escaped: (esc: string, code: number) => void,
): void {
  if (!UNSAFE.test(text)) {
    if (text !== "") plain(text);
    return;
  }
  UNSAFE_ALL.lastIndex = 0;
  let pos = 0;
  for (let m = UNSAFE_ALL.exec(text); m !== null; m = UNSAFE_ALL.exec(text)) {
    if (m.index > pos) plain(text.slice(pos, m.index));
    escaped(escapeChar(m[0]), m[0].charCodeAt(0));
    pos = m.index + 1;
  }
  if (pos < text.length) plain(text.slice(pos));
}
