/**
 * Entries: what a line says, for display. Parsing never changes the line; a line that does not match the seed
 * format `[2025-12-17T17:40:37Z] message` is still an entry, with no timestamp and the whole text as message.
 */
export type EntryLevel = "error" | "warn" | "ok" | "info";

export interface Entry {
  /** The timestamp as written between the brackets (ISO-8601), when the line has one. */
  ts?: string;
  /** The timestamp in epoch milliseconds. */
  tsMs?: number;
  /** The text after `] ` (or the whole line when there is no timestamp). */
  message: string;
  level: EntryLevel;
}

// Whole seconds as the seed writes them; also fractional seconds and numeric offsets from other writers.
const STAMPED =
  /^\[(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})\](?: |$)/;

// An explicit level label written by the appender (`ERROR: ...`) wins over guessing from words.
const LABEL = /^(ERROR|WARN|WARNING|OK|INFO):/;
const LABELS: Readonly<Record<string, EntryLevel>> = {
  ERROR: "error",
  WARN: "warn",
  WARNING: "warn",
  OK: "ok",
  INFO: "info",
};

// Matched against the lower-cased message: one cheap lower-casing beats three case-insensitive scans (hot path:
// every line the server sends).
const ERROR_WORDS = /\b(?:error|errors|fail|fails|failed|failure|exception|critical|fatal)\b/;
const WARN_WORDS = /\b(?:warn|warning|warnings)\b/;
const OK_WORDS = /\b(?:ok|passed|success|successful|succeeded|restored|healthy)\b/;
// Any of the words above in any case, or one of the only two characters that lower-case to ASCII (U+0130 -> "i",
// KELVIN SIGN -> "k"), which a case-insensitive regex would not match as such: text that passes takes the exact
// path, text that fails cannot match any of the three.
const MAYBE_WORD =
  /[\u0130\u212a]|\b(?:errors?|fail(?:s|ed|ure)?|exception|critical|fatal|warn(?:ings?)?|ok|passed|success(?:ful)?|succeeded|restored|healthy)\b/i;
const LABEL_FIRST = new Set([..."EWOI"].map((c) => c.charCodeAt(0)));
const SPACE = 0x20;

// The last valid stamp seen ("[...]") and its parse: consecutive lines mostly share their second, so the regex
// and the range checks run once per distinct stamp rather than once per line (hot path: every line sent).
let lastStamp = "";
let lastTs = "";
let lastTsMs = 0;

export function parseEntry(text: string): Entry {
  const n = stampLength(text);
  if (n === 0) return { message: text, level: guessLevel(text) };
  const message = text.slice(n + 1);
  return { ts: lastTs, tsMs: lastTsMs, message, level: guessLevel(message) };
}

/** Length of the valid `[timestamp]` that starts text (0 when none); leaves its parse in lastTs and lastTsMs. */
function stampLength(text: string): number {
  if (lastStamp !== "" && text.startsWith(lastStamp)) {
    // Same bracket text followed by a space or the end: STAMPED would match it exactly as before.
    const n = lastStamp.length;
    if (text.length === n || text.charCodeAt(n) === SPACE) return n;
  }
  const match = STAMPED.exec(text);
  if (match === null) return 0;
  const tsMs = timestampMs(match);
  if (tsMs === undefined) return 0;
  const close = text.indexOf("]");
  lastStamp = text.slice(0, close + 1);
  lastTs = text.slice(1, close);
  lastTsMs = tsMs;
  return close + 1;
}

/** Level from an explicit label, else from words (error before warn before ok), else info. */
export function guessLevel(message: string): EntryLevel {
  if (LABEL_FIRST.has(message.charCodeAt(0))) {
    const label = LABEL.exec(message);
    if (label) return LABELS[label[1] as string] ?? "info";
  }
  // Most lines name no level word: one scan says so, without lower-casing a copy of the line.
  if (!MAYBE_WORD.test(message)) return "info";
  const lower = message.toLowerCase();
  if (ERROR_WORDS.test(lower)) return "error";
  if (WARN_WORDS.test(lower)) return "warn";
  if (OK_WORDS.test(lower)) return "ok";
  return "info";
}

/** Epoch ms of a matched timestamp, or undefined when a field is out of range (month 13, Feb 30, 24:00). */
function timestampMs(m: RegExpExecArray): number | undefined {
  // Plain range checks instead of a Date round trip: this runs for every line the server sends.
  const year = Number(m[1]);
  const month = Number(m[2]);
  const day = Number(m[3]);
  const hour = Number(m[4]);
  const minute = Number(m[5]);
  const second = Number(m[6]);
  // Date.UTC maps years 0-99 to 1900-1999: such a stamp would not mean what it says.
  if (year < 100 || month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  if (hour > 23 || minute > 59 || second > 59) return undefined;
  const fraction = m[7] ?? "";
  const zone = m[8] as string;
  const ms = fraction === "" ? 0 : Number(fraction.padEnd(3, "0").slice(0, 3));
  const local = Date.UTC(year, month - 1, day, hour, minute, second, ms);
  if (zone === "Z") return local;
  const sign = zone.startsWith("-") ? -1 : 1;
  const offHours = Number(zone.slice(1, 3));
  const offMinutes = Number(zone.slice(4, 6));
  if (offHours > 23 || offMinutes > 59) return undefined;
  return local - sign * (offHours * 60 + offMinutes) * 60_000;
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function daysInMonth(year: number, month: number): number {
  if (month === 2 && year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0)) return 29;
  return DAYS_IN_MONTH[month - 1] as number;
}
