import { createHash } from "node:crypto";

/**
 * The framing of the sidecar's `checkpoints` file: signed checkpoint notes, one record each, appended in order.
 * A record is a header line `LTCP <length> <check>\n` and then exactly `length` bytes of note, where `check` is
 * the first 16 hex digits of SHA-256 over the note. A crash mid-append leaves a record whose header or body is
 * short: that is a torn tail, cut off when the sidecar is next opened for sealing. A record of full length whose
 * check fails was changed after it was written (the check is for tears, not for attackers: the note's signature
 * is what an attacker cannot redo). `cat` shows the notes readably.
 */

const MAGIC = "LTCP ";
/** A note is a few hundred bytes; anything claiming more than this is not one of our records. */
const MAX_NOTE_BYTES = 64 * 1024;

export interface CheckpointRecord {
  /** 0-based position among the file's records. */
  index: number;
  /** Byte offset of the record's header in the file. */
  offset: number;
  /** The note's text. */
  note: string;
}

export interface DamagedRecord {
  offset: number;
  /** Bytes skipped until the next record that parses (or the end). */
  length: number;
  reason: string;
}

export interface CheckpointLog {
  records: CheckpointRecord[];
  /** Records that do not parse (changed or overwritten), skipped to the next one that does. */
  damaged: DamagedRecord[];
  /** Length of the file up to the end of the last good record. */
  goodLength: number;
  /** Bytes after goodLength that are an incomplete last record (a torn write), 0 when none. */
  tornBytes: number;
}

export function frameRecord(note: string): Buffer {
  const body = Buffer.from(note, "utf8");
  return Buffer.concat([Buffer.from(`${MAGIC}${body.length} ${check(body)}\n`, "latin1"), body]);
}

/** Splits a checkpoints file into its records; never throws on bad content, it reports it. */
export function parseCheckpointLog(data: Buffer): CheckpointLog {
  const records: CheckpointRecord[] = [];
  const damaged: DamagedRecord[] = [];
  let at = 0;
  let goodLength = 0;
  while (at < data.length) {
    const got = readRecord(data, at);
    if (got.kind === "ok") {
      records.push({ index: records.length, offset: at, note: got.note });
      at = got.end;
      goodLength = at;
      continue;
    }
    const next = nextRecordStart(data, at + 1);
    // A short record with nothing parseable after it is the tail a crash left; with records after it, damage.
    if (got.kind === "short" && next === data.length) {
      return { records, damaged, goodLength, tornBytes: data.length - at };
    }
    const reason = got.kind === "short" ? "record runs past the end of the file" : got.reason;
    damaged.push({ offset: at, length: next - at, reason });
    at = next;
  }
  return { records, damaged, goodLength, tornBytes: 0 };
}

type ReadResult =
  | { kind: "ok"; note: string; end: number }
  | { kind: "short" }
  | { kind: "bad"; reason: string };

function readRecord(data: Buffer, at: number): ReadResult {
  const available = data.length - at;
  if (available < MAGIC.length) {
    return MAGIC.startsWith(data.toString("latin1", at))
      ? { kind: "short" }
      : { kind: "bad", reason: "not a record header" };
  }
  if (data.toString("latin1", at, at + MAGIC.length) !== MAGIC)
    return { kind: "bad", reason: "not a record header" };
  const newline = data.indexOf(0x0a, at);
  if (newline === -1) return available < 64 ? { kind: "short" } : { kind: "bad", reason: "header too long" };
  const m = /^LTCP (\d{1,6}) ([0-9a-f]{16})$/.exec(data.toString("latin1", at, newline));
  if (!m) return { kind: "bad", reason: "malformed record header" };
  const length = Number(m[1]);
  if (length > MAX_NOTE_BYTES) return { kind: "bad", reason: `record length ${length} is too long` };
  const bodyStart = newline + 1;
  if (bodyStart + length > data.length) return { kind: "short" };
  const body = data.subarray(bodyStart, bodyStart + length);
  if (check(body) !== m[2]) return { kind: "bad", reason: "record check failed (its bytes were changed)" };
  return { kind: "ok", note: body.toString("utf8"), end: bodyStart + length };
}

/** Where the next record header that parses starts, at or after `from` (the end when none does). */
function nextRecordStart(data: Buffer, from: number): number {
  for (let i = data.indexOf(MAGIC, from, "latin1"); i !== -1; i = data.indexOf(MAGIC, i + 1, "latin1")) {
    if (readRecord(data, i).kind === "ok") return i;
  }
  return data.length;
}

function check(body: Buffer): string {
  return createHash("sha256").update(body).digest("hex").slice(0, 16);
}
