/**
 * The audit entry format, as written by the appender and checked by `verify`:
 *
 *   [2025-12-17T17:40:37Z] message
 *   [2025-12-17T17:40:37Z] ERROR: message          (with a level)
 *   [2025-12-17T17:40:37Z] test: message           (with a category, the seed's `log test "…"` form)
 *   [2025-12-17T17:40:37Z] ERROR: test: message    (both)
 *
 * The timestamp is UTC to the second, as the seed wrote it. Level and category are plain text after the
 * timestamp, so every reader of the seed format (and the level guess in src/core/entry.ts) still understands it.
 * One entry is always one line: see escapeMessage.
 */

import { escapeChar } from "../core/escape.js";

export type EntryLevel = "error" | "warn" | "ok" | "info";

/** How a level is spelled in the entry text. Upper case words the core's level guess recognises. */
export const LEVEL_LABELS: Readonly<Record<EntryLevel, string>> = {
  error: "ERROR",
  warn: "WARN",
  ok: "OK",
  info: "INFO",
};

/** Largest entry line in bytes, timestamp and newline included: the follower's default line limit. */
export const MAX_ENTRY_BYTES = 65_536;

/** A category is one short word, so `log test "msg"` cannot be confused with two messages. */
const CATEGORY = /^[A-Za-z][A-Za-z0-9_.-]{0,31}$/;

export type EntryErrorCode = "empty-message" | "entry-too-large" | "bad-level" | "bad-category" | "bad-time";

/** A message that cannot become an entry. Nothing is written when any entry of a call is rejected. */
export class EntryError extends Error {
  override readonly name = "EntryError";
  constructor(
    readonly code: EntryErrorCode,
    message: string,
  ) {
    super(message);
  }
}

export interface EntryOptions {
  level?: EntryLevel | undefined;
  category?: string | undefined;
  /** The entry's time; default now. */
  time?: Date | undefined;
}

/** Accepts the level names users type (case-insensitive, `warning` for `warn`). */
export function parseLevel(text: string): EntryLevel {
  const t = text.trim().toLowerCase();
  if (t === "warning") return "warn";
  if (t === "error" || t === "warn" || t === "ok" || t === "info") return t;
  throw new EntryError("bad-level", `unknown level "${text}": use error, warn, ok or info`);
}

export function isCategory(text: string): boolean {
  return CATEGORY.test(text);
}

/** `[2025-12-17T17:40:37Z]`: UTC, whole seconds. */
export function formatTimestamp(time: Date): string {
  const ms = time.getTime();
  if (!Number.isFinite(ms)) throw new EntryError("bad-time", "invalid entry time");
  const iso = time.toISOString();
  // toISOString switches to a 6-digit signed year outside 0000-9999, which no reader of the format expects.
  if (iso.length !== 24) throw new EntryError("bad-time", `entry time ${iso} is outside the years 0000-9999`);
  return `${iso.slice(0, 19)}Z`;
}

/**
 * Makes a message safe to store as one line, visibly:
 * - LF, CR and TAB become the two characters `\n`, `\r`, `\t`;
 * - other C0 controls and DEL become `\xHH` (NUL is `\x00`, ESC is `\x1b`);
 * - C1 controls (U+0080-U+009F) become `\u0085`-style escapes;
 * - U+2028/U+2029 (line/paragraph separators, which some viewers break lines at) and the bidirectional
 *   overrides U+202A-U+202E, U+2066-U+2069 (which can make a line display as something else) become `\u2028`;
 * - lone UTF-16 surrogates (not encodable as UTF-8) become `\ud800`.
 * Backslashes are kept as they are: the escaping is for safe display, not reversible encoding.
 */
export function escapeMessage(message: string): string {
  return message.replace(NEEDS_ESCAPE, escapeChar);
}

const NEEDS_ESCAPE =
  // biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is the point.
  /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]|[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** The complete entry line, newline included. Throws EntryError for an empty, blank or oversized entry. */
export function formatEntry(message: string, options: EntryOptions = {}): string {
  if (message.trim() === "") throw new EntryError("empty-message", "empty message: an entry needs some text");
  const { level, category } = options;
  if (level !== undefined && !Object.hasOwn(LEVEL_LABELS, level)) {
    throw new EntryError("bad-level", `unknown level "${String(level)}": use error, warn, ok or info`);
  }
  if (category !== undefined && !isCategory(category)) {
    throw new EntryError(
      "bad-category",
      `bad category "${category}": one word of letters, digits, "_", "." or "-", at most 32 characters`,
    );
  }
  let line = `[${formatTimestamp(options.time ?? new Date())}] `;
  if (level !== undefined) line += `${LEVEL_LABELS[level]}: `;
  if (category !== undefined) line += `${category}: `;
  line += `${escapeMessage(message)}\n`;
  const bytes = Buffer.byteLength(line);
  if (bytes > MAX_ENTRY_BYTES) {
    throw new EntryError(
      "entry-too-large",
      `entry too large: ${bytes} bytes once escaped and timestamped; the limit is ${MAX_ENTRY_BYTES} bytes per line`,
    );
  }
  return line;
}
