import { IntegrityError } from "./integrity-error.js";
import { type NoteSigner, type NoteVerifier, openNote, parseNote, signNote } from "./note.js";

/**
 * One sealed state of a log, as its signed checkpoint says it: the tlog-checkpoint body (origin, size, root)
 * with livetrail's extension lines binding the source (`livetrail-file <identity> <bytes>`), the rotation link
 * (`livetrail-prev <size> <root>`), and the checkpoint's number and time (`livetrail-seq`, `livetrail-time`), so
 * a removed, reordered or replayed checkpoint shows and `verify` can say when the log was last sealed.
 */
export interface SealPoint {
  origin: string;
  size: number;
  root: Buffer;
  /** The source's identity when sealed (for files `<fileId>.<fpLen>`, see backend/file/file-identity.ts). */
  identity: string;
  /** Source bytes the `size` lines take, terminators included. */
  bytes: number;
  /** The final size and root of the file this one replaced by rotation; null for the first file. */
  prev: { size: number; root: Buffer } | null;
  /** 1 for the first checkpoint of a sidecar, +1 for each after. */
  seq: number;
  /** UTC, to the second. */
  time: string;
}

export function sealPointText(p: SealPoint): string {
  let text = `${p.origin}\n${p.size}\n${p.root.toString("base64")}\n`;
  text += `livetrail-file ${p.identity} ${p.bytes}\n`;
  if (p.prev !== null) text += `livetrail-prev ${p.prev.size} ${p.prev.root.toString("base64")}\n`;
  text += `livetrail-seq ${p.seq}\nlivetrail-time ${p.time}\n`;
  return text;
}

export function sealPointNote(p: SealPoint, signer: NoteSigner): string {
  return signNote(sealPointText(p), [signer]);
}

/** Opens a checkpoint note with the given keys and reads its seal point; IntegrityError on anything wrong. */
export function readSealPoint(note: string, verifiers: readonly NoteVerifier[]): SealPoint {
  return parseSealPoint(openNote(note, verifiers).text);
}

/** The seal point of a note's text, without checking signatures. */
export function parseSealPointNote(note: string): SealPoint {
  return parseSealPoint(parseNote(note).text);
}

const DECIMAL = /^(0|[1-9]\d{0,15})$/;
const ROOT = /^[A-Za-z0-9+/]{43}=$/;
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

function malformed(why: string): never {
  throw new IntegrityError("malformed-checkpoint", `malformed checkpoint: ${why}`);
}

function decimal(s: string | undefined, what: string): number {
  if (s === undefined || !DECIMAL.test(s)) malformed(`bad ${what}`);
  const n = Number(s);
  if (!Number.isSafeInteger(n)) malformed(`${what} too large`);
  return n;
}

function root(s: string | undefined): Buffer {
  if (s === undefined || !ROOT.test(s)) malformed("bad root hash");
  return Buffer.from(s, "base64");
}

export function parseSealPoint(text: string): SealPoint {
  if (!text.endsWith("\n")) malformed("text must end in a newline");
  const lines = text.slice(0, -1).split("\n");
  const [origin, size, rootLine, ...extensions] = lines;
  if (origin === undefined || origin === "") malformed("no origin");
  const point: Partial<SealPoint> = { origin, size: decimal(size, "size"), root: root(rootLine), prev: null };
  for (const line of extensions) {
    const [key, a, b, ...rest] = line.split(" ");
    if (rest.length > 0) malformed(`extension line "${line.slice(0, 80)}"`);
    if (key === "livetrail-file" && point.identity === undefined && a && b !== undefined) {
      point.identity = a;
      point.bytes = decimal(b, "byte length");
    } else if (key === "livetrail-prev" && point.prev === null && b !== undefined) {
      point.prev = { size: decimal(a, "previous size"), root: root(b) };
    } else if (key === "livetrail-seq" && point.seq === undefined && b === undefined) {
      point.seq = decimal(a, "sequence number");
    } else if (key === "livetrail-time" && point.time === undefined && b === undefined && a && TIME.test(a)) {
      point.time = a;
    }
    // Other extension lines are allowed by tlog-checkpoint and ignored.
  }
  if (point.identity === undefined || point.seq === undefined || point.time === undefined) {
    malformed("livetrail-file, livetrail-seq and livetrail-time lines are required");
  }
  return point as SealPoint;
}
