import { StringDecoder } from "node:string_decoder";
import { parseEntry } from "../../core/entry.js";

/**
 * The one codec of a Redis stream entry: the ship agent (src/ship/) and the HTTP append route write with it, the
 * Redis backend reads with it. Everything that depends on the layout of a key, an entry ID or a field is here.
 *
 * Keys
 *   livetrail:{<name>}:lines   one Redis stream per log; the hash tag keeps it in one cluster slot
 *   livetrail:streams          a hash, stream name -> host label, written with each batch: servers discover here
 *
 * Entry IDs are chosen by the writer, never `*`: every entry's ID is `<P>-0`, where P is the stream's position
 * after it: the sum of every line's bytes plus one for its newline, and one for each gap marker, since the stream
 * began. So the ID *is* the cursor position (redis-cursor.ts): any replica finds the entry a cursor names with one
 * XRANGE, positions are identical everywhere, a gap marker has a cursor of its own (delivery goes on after it),
 * and byte budgets and lines frames (protocol/lines-frame.ts derives each line's cursor from the last one and the
 * sizes) work as for a file. Since Redis refuses an ID at or below the stream's top, a writer that retries a batch
 * after a lost reply cannot add an entry twice.
 */

/** Prefix of every livetrail key; other applications' keys in the same Redis are never read. */
const KEY_PREFIX = "livetrail:";
/** The registry hash: stream name -> host label of the agent that writes it. */
export const REGISTRY_KEY = `${KEY_PREFIX}streams`;
/** Longest stream name (it becomes part of a key and appears in URLs). */
export const MAX_STREAM_NAME = 64;
/** The server's rule for stream names (server/options.ts): no braces, so the hash tag is the whole name. */
const STREAM_NAME = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

/** Field names (one byte each: the per-entry overhead matters at millions of entries). */
export const FIELD = {
  /**
   * The line's exact bytes without its LF (a CR before the LF stays; binary-safe; shown as UTF-8 without a final
   * CR, invalid sequences as U+FFFD). Only its first bytes when `c` is present; its decoded text when `d` is.
   */
  line: "l",
  /** Present when `l` holds only the line's first bytes (it was longer than the writer's bound): its real length. */
  cut: "c",
  /**
   * Present (`1`) when `l` holds the line's decoded text as UTF-8 (invalid bytes as U+FFFD), not its bytes: the
   * writer could no longer read them from the source (the file was replaced or truncated first).
   */
  decoded: "d",
  /**
   * Per-stream sequence number of the line, decimal; consecutive (the first line is 1). A gap marker takes no
   * number of its own: it carries the one of the line before it (0 when none), so a writer resumes from either.
   */
  seq: "q",
  /** The line's own timestamp in ms since the epoch, decimal; present only when the line has one (core/entry.ts). */
  time: "t",
  /** Host label of the writer (the agent's --host-label, or the server's for HTTP appends). */
  host: "h",
  /** Identity of the source file the line was read from (the agent's own string; opaque to readers). */
  file: "f",
  /**
   * Byte offset just after the line's LF in that file: where the agent resumes (decimal). A gap marker carries
   * the file and offset where the writer went on after the gap, so the newest entry is always a resume point.
   */
  offset: "o",
  /** Entry kind; absent for a line, `gap` for a gap marker. */
  kind: "k",
  /** Gap marker: why lines were lost (a StaleReason-like word: file-changed, truncated, file-gone, …). */
  reason: "r",
  /** Gap marker: how many lines were lost, decimal, when known. */
  skipped: "n",
} as const;

/** Longest value kept from a gap reason (foreign writers may put anything there). */
const MAX_REASON_CHARS = 40;

export function streamKey(name: string): string {
  return `${KEY_PREFIX}{${name}}:lines`;
}

/** Why a name cannot be a Redis stream's, or null when it can: the server's stream names (URLs, no braces). */
export function streamNameProblem(name: string): string | null {
  if (!STREAM_NAME.test(name)) {
    return `invalid stream name "${name.slice(0, 80)}": use letters, digits, ".", "_" or "-" (max ${MAX_STREAM_NAME})`;
  }
  return null;
}

/** The newest entry of a stream, as a writer needs it to go on: resume an agent, append after it. */
export interface StreamTop {
  /** Position after the newest entry, the first part of its ID (0: no entry yet). */
  position: number;
  /** Sequence number of the last line (0: none yet). */
  seq: number;
}

export const EMPTY_TOP: StreamTop = { position: 0, seq: 0 };

/** A line to write. */
export interface LineInput {
  /** The line's bytes without its LF. */
  bytes: Buffer;
  host?: string;
  file?: string;
  /** Offset after the line's LF in `file`. */
  offset?: number;
  /** Its timestamp in ms; by default parsed from the text (core/entry.ts), absent when it has none. */
  timeMs?: number;
  /** `bytes` are only the line's first bytes: its real length. */
  cutFrom?: number;
  /** `bytes` are the line's decoded text, not its own bytes (they could not be read). */
  decoded?: true;
}

export interface GapInput {
  reason: string;
  skipped?: number;
  host?: string;
  /** Where the writer goes on after the gap (a gap marker is a resume point as a line is). */
  file?: string;
  offset?: number;
}

/** An entry ready for `XADD key <id> ...fields`, and the stream's top after it. */
export interface EncodedEntry {
  id: string;
  fields: (string | Buffer)[];
  top: StreamTop;
}

export function encodeLine(top: StreamTop, input: LineInput): EncodedEntry {
  const position = top.position + input.bytes.length + 1;
  const seq = top.seq + 1;
  if (!Number.isSafeInteger(position))
    throw new RangeError(`stream position ${position} is not a safe integer`);
  const fields: (string | Buffer)[] = [FIELD.line, input.bytes, FIELD.seq, String(seq)];
  const timeMs = input.timeMs ?? parseEntry(input.bytes.toString("utf8")).tsMs;
  if (timeMs !== undefined && Number.isFinite(timeMs)) fields.push(FIELD.time, String(Math.trunc(timeMs)));
  if (input.host !== undefined) fields.push(FIELD.host, input.host);
  if (input.file !== undefined) fields.push(FIELD.file, input.file);
  if (input.offset !== undefined) fields.push(FIELD.offset, String(input.offset));
  if (input.cutFrom !== undefined) fields.push(FIELD.cut, String(input.cutFrom));
  if (input.decoded) fields.push(FIELD.decoded, "1");
  return { id: `${position}-0`, fields, top: { position, seq } };
}

export function encodeGap(top: StreamTop, input: GapInput): EncodedEntry {
  const position = top.position + 1;
  const fields: (string | Buffer)[] = [
    FIELD.kind,
    "gap",
    FIELD.reason,
    input.reason,
    FIELD.seq,
    String(top.seq),
  ];
  if (input.skipped !== undefined) fields.push(FIELD.skipped, String(input.skipped));
  if (input.host !== undefined) fields.push(FIELD.host, input.host);
  if (input.file !== undefined) fields.push(FIELD.file, input.file);
  if (input.offset !== undefined) fields.push(FIELD.offset, String(input.offset));
  return { id: `${position}-0`, fields, top: { position, seq: top.seq } };
}

/** What an entry read from Redis is. Decoding never throws: whatever is in Redis gets one of these. */
export type StreamRecord = LineRecord | GapRecord | ForeignRecord;

export interface LineRecord {
  kind: "line";
  id: string;
  /** Byte position after the line (the ID's first part). */
  position: number;
  seq: number;
  bytes: Buffer;
  timeMs?: number;
  host?: string;
  file?: string;
  offset?: number;
  /** `bytes` are only the line's first bytes: its real length. */
  cutFrom?: number;
  /** `bytes` are the line's decoded text, not its own bytes. */
  decoded?: true;
}

export interface GapRecord {
  kind: "gap";
  id: string;
  /** Position after the marker (the ID's first part): one more than after the entry before it. */
  position: number;
  /** Sequence number of the line before the marker (0: none), when the entry carries it. */
  seq?: number;
  reason: string;
  skipped?: number;
  host?: string;
  file?: string;
  offset?: number;
}

/** Not an entry this codec wrote (another writer, a hand-made XADD): readers skip it and say why. */
export interface ForeignRecord {
  kind: "foreign";
  id: string;
  /** The ID's first part, when it is a safe integer (where the entry sits among the others). */
  position?: number;
  problem: string;
}

export interface ParsedId {
  position: number;
  sub: number;
}

const ID_SHAPE = /^(\d{1,20})-(\d{1,20})$/;

/** The two parts of an entry ID, null when either is beyond a safe integer (IDs are 2 × 64 bits in Redis). */
export function parseId(id: string): ParsedId | null {
  const match = ID_SHAPE.exec(id);
  if (match === null) return null;
  const position = Number(match[1]);
  const sub = Number(match[2]);
  return Number.isSafeInteger(position) && Number.isSafeInteger(sub) ? { position, sub } : null;
}

/** The ID of the entry that ends at a position (lines and gap markers alike). */
export function entryId(position: number): string {
  return `${position}-0`;
}

/** A non-negative decimal safe integer, or undefined (hostile values are ignored, never trusted). */
function decimal(value: Buffer | undefined): number | undefined {
  if (value === undefined || value.length === 0 || value.length > 16) return undefined;
  for (const byte of value) if (byte < 0x30 || byte > 0x39) return undefined;
  const n = Number(value.toString("latin1"));
  return Number.isSafeInteger(n) ? n : undefined;
}

/** A short printable field value, or undefined. */
function label(value: Buffer | undefined, max: number): string | undefined {
  if (value === undefined) return undefined;
  const text = value.subarray(0, max * 4).toString("utf8");
  return text.slice(0, max).replace(/\p{Cc}/gu, "?");
}

const MAX_LABEL_CHARS = 200;
const MAX_FILE_BYTES = 4096;

/**
 * Decodes one entry as XRANGE/XREAD return it with ioredis's Buffer commands: the ID and a flat list of field
 * names and values. Unknown fields are ignored; a repeated field keeps its first value.
 */
export function decodeEntry(rawId: Buffer | string, flat: readonly (Buffer | string)[]): StreamRecord {
  const id = typeof rawId === "string" ? rawId : rawId.toString("latin1");
  const parsed = parseId(id);
  if (parsed === null) return { kind: "foreign", id, problem: `entry ID ${id} is beyond a safe integer` };
  const { position, sub } = parsed;
  // Only `*` or a foreign writer makes a second part: livetrail's positions are the whole ID.
  if (sub !== 0) return { kind: "foreign", id, position, problem: `entry ID ${id} is not livetrail's` };
  const fields = gather(flat);
  if (fields.k !== undefined) {
    if (fields.k.toString("latin1") !== "gap")
      return { kind: "foreign", id, position, problem: `entry ${id} has unknown kind` };
    const record: GapRecord = {
      kind: "gap",
      id,
      position,
      reason: label(fields.r, MAX_REASON_CHARS) || "unknown",
    };
    const skipped = decimal(fields.n);
    if (skipped !== undefined) record.skipped = skipped;
    const seq = decimal(fields.q);
    if (seq !== undefined) record.seq = seq;
    const host = label(fields.h, MAX_LABEL_CHARS);
    if (host !== undefined) record.host = host;
    return withFilePosition(record, fields);
  }
  const bytes = fields.l;
  if (bytes === undefined) return { kind: "foreign", id, position, problem: `entry ${id} has no line field` };
  if (bytes.length + 1 > position)
    return { kind: "foreign", id, position, problem: `line entry ${id} is longer than its position` };
  const seq = decimal(fields.q);
  if (seq === undefined || seq < 1)
    return { kind: "foreign", id, position, problem: `line entry ${id} has no valid sequence number` };
  const record: LineRecord = { kind: "line", id, position, seq, bytes };
  const timeMs = decimal(fields.t);
  if (timeMs !== undefined) record.timeMs = timeMs;
  const host = label(fields.h, MAX_LABEL_CHARS);
  if (host !== undefined) record.host = host;
  const cutFrom = decimal(fields.c);
  if (cutFrom !== undefined && cutFrom > bytes.length) record.cutFrom = cutFrom;
  if (fields.d !== undefined) record.decoded = true;
  return withFilePosition(record, fields);
}

/** The codec's fields of one entry, by their one-byte names; the first of a repeated field wins. */
type Fields = Partial<Record<(typeof FIELD)[keyof typeof FIELD], Buffer>>;

// A switch over one-byte names instead of a Map per entry: a search or a history page decodes thousands.
function gather(flat: readonly (Buffer | string)[]): Fields {
  const fields: Fields = {};
  for (let i = 0; i + 1 < flat.length; i += 2) {
    const name = flat[i] as Buffer | string;
    if (name.length !== 1) continue;
    const key = (typeof name === "string" ? name : String.fromCharCode(name[0] as number)) as keyof Fields;
    if (!KNOWN.has(key) || fields[key] !== undefined) continue;
    const value = flat[i + 1] as Buffer | string;
    fields[key] = typeof value === "string" ? Buffer.from(value, "utf8") : value;
  }
  return fields;
}

const KNOWN = new Set<string>(Object.values(FIELD));

/** Adds `f` and `o` when valid. The file identity is kept exact (the agent compares it to resume), but bounded. */
function withFilePosition<T extends { file?: string; offset?: number }>(record: T, fields: Fields): T {
  if (fields.f !== undefined && fields.f.length <= MAX_FILE_BYTES) record.file = fields.f.toString("utf8");
  const offset = decimal(fields.o);
  if (offset !== undefined) record.offset = offset;
  return record;
}

/** Where a writer goes on after the newest entry (`XREVRANGE key + - COUNT 1`), given as decoded. */
export function topAfter(record: StreamRecord | null): StreamTop {
  if (record === null) return EMPTY_TOP;
  if (record.kind === "line") return { position: record.position, seq: record.seq };
  if (record.kind === "gap" && record.seq !== undefined)
    return { position: record.position, seq: record.seq };
  throw new Error(
    `the newest entry of the stream is not livetrail's: ${record.kind === "foreign" ? record.problem : "a gap marker without q"}`,
  );
}

/**
 * The line's text for display, as the file backend shows the line: a final CR (of a CRLF) dropped, UTF-8 with
 * invalid sequences as U+FFFD, cut at `maxBytes` (on a character boundary, the cut sequence dropped) with its real
 * length (`cutFrom` when the entry holds only its head).
 */
export function lineText(
  bytes: Buffer,
  maxBytes: number,
  cutFrom?: number,
): { text: string; truncatedFrom?: number } {
  const content = bytes.length > 0 && bytes[bytes.length - 1] === CR ? bytes.subarray(0, -1) : bytes;
  if (content.length <= maxBytes) {
    const text = content.toString("utf8");
    return cutFrom === undefined ? { text } : { text, truncatedFrom: cutFrom };
  }
  const decoder = new StringDecoder("utf8");
  return { text: decoder.write(content.subarray(0, maxBytes)), truncatedFrom: cutFrom ?? content.length };
}

const CR = 0x0d;
