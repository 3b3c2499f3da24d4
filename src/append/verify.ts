import { createReadStream } from "node:fs";
import { MAX_ENTRY_BYTES } from "./entry-format.js";
import { type ByteLine, readLines } from "./line-reader.js";

/**
 * Checks an audit file line by line, streaming it with bounded memory: valid UTF-8, the entry format
 * `[<ISO-8601 time>] message`, real timestamps in non-decreasing order, no control characters, and a final
 * newline. Used by `livetrail verify`.
 */

export type ProblemKind =
  | "too-long"
  | "invalid-utf8"
  | "empty-line"
  | "control-char"
  | "bad-format"
  | "bad-timestamp"
  | "empty-message"
  | "time-went-back"
  | "no-final-newline";

export interface Problem {
  /** 1-based line number. */
  line: number;
  kind: ProblemKind;
  detail: string;
}

export interface VerifyOptions {
  /**
   * Backward steps in time up to this many milliseconds are tolerated (and counted as `reordered`):
   * concurrent writers take their timestamps before their writes land, so neighbours can swap by a second.
   * Default 1000; 0 is strict.
   */
  maxSkewMs?: number;
  /** Longest allowed line in bytes, newline included. Default MAX_ENTRY_BYTES (64 KiB). */
  maxLineBytes?: number;
  /** How many problems to keep in the report (all are counted). Default 100. */
  maxProblems?: number;
}

export interface VerifyReport {
  file: string;
  bytes: number;
  lines: number;
  /** Lines with a valid timestamp (they may still have other problems, such as a control character). */
  entries: number;
  /** Timestamps of the first and last entries, as written. */
  firstTime: string | null;
  lastTime: string | null;
  /** Entries earlier than their predecessor but within maxSkewMs. */
  reordered: number;
  problemCount: number;
  counts: Partial<Record<ProblemKind, number>>;
  /** The first maxProblems problems, in file order. */
  problems: Problem[];
  ok: boolean;
}

const ENTRY = /^\[(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:\d{2})\] (.*)$/s;
// Anything the appender escapes (see escapeMessage) must not appear raw in the file.
// biome-ignore lint/suspicious/noControlCharactersInRegex: finding control characters is the point.
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const CONTROL_NAMES: Record<number, string> = { 0: "NUL", 9: "TAB", 13: "CR", 27: "ESC", 127: "DEL" };

export async function verifyAuditFile(file: string, options: VerifyOptions = {}): Promise<VerifyReport> {
  const maxSkewMs = options.maxSkewMs ?? 1000;
  const maxLineBytes = options.maxLineBytes ?? MAX_ENTRY_BYTES;
  const maxProblems = options.maxProblems ?? 100;
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  const report: VerifyReport = {
    file,
    bytes: 0,
    lines: 0,
    entries: 0,
    firstTime: null,
    lastTime: null,
    reordered: 0,
    problemCount: 0,
    counts: {},
    problems: [],
    ok: true,
  };
  const problem = (line: number, kind: ProblemKind, detail: string): void => {
    report.problemCount++;
    report.counts[kind] = (report.counts[kind] ?? 0) + 1;
    if (report.problems.length < maxProblems) report.problems.push({ line, kind, detail });
  };
  let previousMs: number | null = null;

  const check = (line: ByteLine): void => {
    report.lines++;
    report.bytes += line.length + (line.terminated ? 1 : 0);
    if (!line.terminated) problem(line.number, "no-final-newline", "the file does not end with a newline");
    if (line.length + 1 > maxLineBytes) {
      problem(line.number, "too-long", `${line.length + 1} bytes; the limit is ${maxLineBytes}`);
      return;
    }
    let text: string;
    try {
      text = decoder.decode(line.bytes);
    } catch {
      problem(line.number, "invalid-utf8", `invalid UTF-8 at byte ${firstInvalidByte(line.bytes) + 1}`);
      return;
    }
    if (text.trim() === "") {
      problem(line.number, "empty-line", text === "" ? "empty line" : "line holds only whitespace");
      return;
    }
    const control = CONTROL.exec(text);
    if (control) problem(line.number, "control-char", describeControl(text, control.index));

    const m = ENTRY.exec(text);
    if (!m) {
      problem(line.number, "bad-format", 'does not start with "[YYYY-MM-DDTHH:MM:SSZ] "');
      return;
    }
    const ms = parseTime(m);
    if (ms === null) {
      problem(line.number, "bad-timestamp", `"${text.slice(1, text.indexOf("]"))}" is not a real UTC time`);
      return;
    }
    if ((m[9] ?? "").trim() === "")
      problem(line.number, "empty-message", "entry has a timestamp but no message");
    report.entries++;
    const stamp = text.slice(1, text.indexOf("]"));
    report.firstTime ??= stamp;
    report.lastTime = stamp;
    if (previousMs !== null && ms < previousMs) {
      if (previousMs - ms <= maxSkewMs) report.reordered++;
      else {
        const seconds = (previousMs - ms) / 1000;
        problem(line.number, "time-went-back", `timestamp is ${seconds} s earlier than the previous entry's`);
      }
    }
    previousMs = ms;
  };

  for await (const batch of readLines(createReadStream(file, { highWaterMark: 256 * 1024 }), maxLineBytes)) {
    for (const line of batch) check(line);
  }
  report.ok = report.problemCount === 0;
  return report;
}

/** Epoch milliseconds of a matched timestamp, or null when a field is out of range (Date.parse is lenient). */
function parseTime(m: RegExpExecArray): number | null {
  const [year, month, day, hour, minute, second] = m.slice(1, 7).map(Number) as [
    number,
    number,
    number,
    number,
    number,
    number,
  ];
  const fraction = m[7] ? Number(`0${m[7]}`) * 1000 : 0;
  const zone = m[8] ?? "Z";
  let offsetMinutes = 0;
  if (zone !== "Z") {
    const oh = Number(zone.slice(1, 3));
    const om = Number(zone.slice(4, 6));
    if (oh > 23 || om > 59) return null;
    offsetMinutes = (zone[0] === "-" ? -1 : 1) * (oh * 60 + om);
  }
  if (month < 1 || month > 12 || hour > 23 || minute > 59 || second > 59) return null;
  const utc = Date.UTC(year, month - 1, day, hour, minute, second);
  const date = new Date(utc);
  if (date.getUTCDate() !== day || date.getUTCMonth() !== month - 1) return null;
  return utc + Math.floor(fraction) - offsetMinutes * 60_000;
}

function describeControl(text: string, index: number): string {
  const code = text.charCodeAt(index);
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, "0")}`;
  const name = CONTROL_NAMES[code];
  const hint = code === 13 ? " (a CRLF line ending?)" : "";
  return `${name ? `${name} (${hex})` : hex} at column ${index + 1}${hint}`;
}

/** Offset of the first byte where UTF-8 breaks, for the report (only computed for bad lines). */
function firstInvalidByte(bytes: Buffer): number {
  // Bisect for the longest prefix that decodes; in stream mode an unfinished character at its end is fine.
  let lo = 0;
  let hi = bytes.length;
  while (lo < hi) {
    const mid = (lo + hi + 1) >> 1;
    try {
      new TextDecoder("utf-8", { fatal: true }).decode(bytes.subarray(0, mid), { stream: true });
      lo = mid;
    } catch {
      hi = mid - 1;
    }
  }
  // The whole line decodes in stream mode: it ends inside a character.
  return lo === bytes.length ? Math.max(0, lo - 1) : lo;
}
