/**
 * One record of Docker's `json-file` log driver, one per line of `<id>-json.log`:
 *
 *   {"log":"text\n","stream":"stdout","time":"2026-12-04T21:48:34.123456789Z"}
 *
 * The daemon appends "\n" to `log` unless the record is a partial one: a line longer than 16 KiB reaches the
 * driver as several messages, and all but the last are written without it (moby daemon/logger/copier.go,
 * jsonfilelog.go). All parts of one line carry the first part's time.
 */
export interface LogRecord {
  /** `log` without its trailing "\n" (or "\r\n"); the raw line for a record that is not one. */
  text: string;
  stderr: boolean;
  /** `time` as written (RFC 3339 with nanoseconds), when the record has a valid one. */
  time: string | undefined;
  /** A part of a longer line: the next record of the same stream continues it. */
  partial: boolean;
  /** The line is not a json-file record (shown as its raw text). */
  malformed: boolean;
}

/** Decodes one line of a json-file log. Never throws: anything that is not a record is returned as raw text. */
export function decodeRecord(raw: string): LogRecord {
  let value: unknown;
  try {
    value = raw.charCodeAt(0) === 0x7b ? JSON.parse(raw) : undefined;
  } catch {
    value = undefined;
  }
  const record = value as { log?: unknown; stream?: unknown; time?: unknown } | undefined;
  if (typeof record !== "object" || record === null || typeof record.log !== "string") {
    return { text: raw, stderr: false, time: undefined, partial: false, malformed: true };
  }
  const log = record.log;
  const partial = !log.endsWith("\n");
  const cut = partial ? log.length : log.endsWith("\r\n") ? log.length - 2 : log.length - 1;
  const time = typeof record.time === "string" && timeMs(record.time) !== undefined ? record.time : undefined;
  return { text: log.slice(0, cut), stderr: record.stream === "stderr", time, partial, malformed: false };
}

/** A record's time in ms since epoch (Date.parse reads RFC 3339 with any number of fraction digits). */
export function timeMs(time: string): number | undefined {
  const ms = Date.parse(time);
  return Number.isFinite(ms) ? ms : undefined;
}

const TIME_KEY = Buffer.from('"time":"');
const QUOTE = 0x22;

/**
 * A record's time from its bytes, for the binary search of seek(): the daemon writes `time` last, so it is read
 * from the record's end without parsing the (possibly 16 KiB) text before it.
 */
export function recordTimeMs(line: Buffer): number | undefined {
  const at = line.lastIndexOf(TIME_KEY);
  if (at < 0) return undefined;
  const from = at + TIME_KEY.length;
  const to = line.indexOf(QUOTE, from);
  if (to < 0 || to - from > 64) return undefined;
  return timeMs(line.toString("latin1", from, to));
}
