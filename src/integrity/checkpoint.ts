/**
 * C2SP tlog-checkpoint: the note text `<origin>\n<size>\n<base64 root>\n` and optional extension lines, with
 * livetrail's two extension lines (docs/integrity.md, "Formats"):
 *
 *   livetrail-file <identity> <bytes>   the source file the tree covers and its byte length at this size
 *   livetrail-prev <size> <base64 root> the final checkpoint of the file rotated away before this one
 *
 * They come first, in that order; any other extension line is kept as it is, in order.
 */
import { decodeBase64, encodeBase64 } from "./base64.js";
import { IntegrityError } from "./integrity-error.js";
import {
  hasControl,
  type NoteSignature,
  type NoteSigner,
  type NoteVerifier,
  type OpenedNote,
  openNote,
  signNote,
} from "./note.js";
import { HASH_SIZE } from "./tiles.js";

export interface FileBinding {
  /** The source's identity: 1-256 printable ASCII characters, no spaces (the sealer's choice of spelling). */
  identity: string;
  /** Bytes of the source the tree's lines cover. */
  bytes: number;
}

export interface PreviousTree {
  size: number;
  rootHash: Buffer;
}

export interface Checkpoint {
  origin: string;
  size: number;
  rootHash: Buffer;
  file?: FileBinding;
  prev?: PreviousTree;
  /** Other extension lines (non-empty, no newline), in order. */
  extensions: string[];
}

const FILE_TAG = "livetrail-file ";
const PREV_TAG = "livetrail-prev ";
/** A checkpoint text larger than this is refused: checkpoints are a few lines. */
export const MAX_CHECKPOINT_BYTES = 16 * 1024;
const IDENTITY = /^[\x21-\x7e]{1,256}$/;
const DECIMAL = /^(0|[1-9]\d{0,15})$/;

function bad(why: string): never {
  throw new IntegrityError("malformed-checkpoint", `malformed checkpoint: ${why}`);
}

function decimal(text: string | undefined, what: string): number {
  const n = text !== undefined && DECIMAL.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(n)) bad(`${what} is not a decimal number without leading zeros`);
  return n;
}

function hash(text: string | undefined, what: string): Buffer {
  const h = text === undefined ? undefined : decodeBase64(text);
  if (h?.length !== HASH_SIZE) bad(`${what} is not a base64 SHA-256 hash`);
  return h;
}

function checkLine(line: string, what: string): void {
  if (line.length === 0 || line.includes("\n") || hasControl(line)) bad(`${what} must be one non-empty line`);
}

/** The note text of a checkpoint. */
export function formatCheckpoint(cp: Checkpoint): string {
  checkLine(cp.origin, "origin");
  if (!Number.isSafeInteger(cp.size) || cp.size < 0) bad("size is not a tree size");
  if (cp.rootHash.length !== HASH_SIZE) bad("root hash is not 32 bytes");
  const lines = [cp.origin, String(cp.size), encodeBase64(cp.rootHash)];
  if (cp.file) {
    if (!IDENTITY.test(cp.file.identity))
      bad("file identity must be 1-256 printable ASCII characters, no spaces");
    if (!Number.isSafeInteger(cp.file.bytes) || cp.file.bytes < 0) bad("file bytes is not a byte count");
    lines.push(`${FILE_TAG}${cp.file.identity} ${cp.file.bytes}`);
  }
  if (cp.prev) {
    if (!Number.isSafeInteger(cp.prev.size) || cp.prev.size < 0) bad("previous size is not a tree size");
    if (cp.prev.rootHash.length !== HASH_SIZE) bad("previous root hash is not 32 bytes");
    lines.push(`${PREV_TAG}${cp.prev.size} ${encodeBase64(cp.prev.rootHash)}`);
  }
  for (const ext of cp.extensions) {
    checkLine(ext, "an extension line");
    if (ext.startsWith(FILE_TAG) || ext.startsWith(PREV_TAG))
      bad("livetrail extension lines go in file and prev");
    lines.push(ext);
  }
  const text = `${lines.join("\n")}\n`;
  if (Buffer.byteLength(text) > MAX_CHECKPOINT_BYTES)
    throw new IntegrityError("too-large", "checkpoint too large");
  return text;
}

/** A checkpoint from its note text (as `openNote` returns it); exactly one spelling per checkpoint. */
export function parseCheckpoint(text: string): Checkpoint {
  if (typeof text !== "string") bad("not text");
  if (Buffer.byteLength(text) > MAX_CHECKPOINT_BYTES)
    throw new IntegrityError("too-large", "checkpoint too large");
  if (!text.endsWith("\n") || hasControl(text)) bad("text must be lines ending in newlines");
  const lines = text.slice(0, -1).split("\n");
  if (lines.length < 3) bad("needs origin, size and root hash lines");
  const [origin, size, root, ...rest] = lines as [string, string, string, ...string[]];
  if (origin.length === 0) bad("empty origin");
  const cp: Checkpoint = {
    origin,
    size: decimal(size, "size"),
    rootHash: hash(root, "root hash"),
    extensions: [],
  };
  let at = 0;
  if (rest[at]?.startsWith(FILE_TAG)) {
    const [identity, bytes, extra] = (rest[at] as string).slice(FILE_TAG.length).split(" ");
    if (identity === undefined || !IDENTITY.test(identity) || extra !== undefined) bad("livetrail-file line");
    cp.file = { identity, bytes: decimal(bytes, "livetrail-file bytes") };
    at++;
  }
  if (rest[at]?.startsWith(PREV_TAG)) {
    const [size, root, extra] = (rest[at] as string).slice(PREV_TAG.length).split(" ");
    if (extra !== undefined) bad("livetrail-prev line");
    cp.prev = {
      size: decimal(size, "livetrail-prev size"),
      rootHash: hash(root, "livetrail-prev root hash"),
    };
    at++;
  }
  for (const ext of rest.slice(at)) {
    if (ext.length === 0) bad("empty extension line");
    if (ext.startsWith(FILE_TAG) || ext.startsWith(PREV_TAG)) bad("livetrail extension line out of place");
    cp.extensions.push(ext);
  }
  return cp;
}

/** A signed checkpoint note; `existing` signatures (say, cosignatures) are kept unless re-signed. */
export function signCheckpoint(
  cp: Checkpoint,
  signers: readonly NoteSigner[],
  existing: readonly NoteSignature[] = [],
): string {
  return signNote(formatCheckpoint(cp), signers, existing);
}

export interface OpenedCheckpoint {
  checkpoint: Checkpoint;
  /** The note's text, and its signatures: by the log and the cosigners in `verified`, the rest in `unverified`. */
  note: OpenedNote;
  /** Names of the cosigners whose cosignatures verified. */
  cosigners: string[];
}

/**
 * Open a signed checkpoint of the log `origin`: some key of `logKeys` must have signed it, every signature by a
 * key of `logKeys` or `cosignerKeys` must verify, and its origin line must be `origin`.
 */
export function openCheckpoint(
  note: string | Uint8Array,
  origin: string,
  logKeys: readonly NoteVerifier[],
  cosignerKeys: readonly NoteVerifier[] = [],
): OpenedCheckpoint {
  const opened = openNote(note, [...logKeys, ...cosignerKeys]);
  const by = (keys: readonly NoteVerifier[], s: NoteSignature) =>
    keys.some((k) => k.name === s.name && k.keyId === s.keyId);
  if (!opened.verified.some((s) => by(logKeys, s))) {
    throw new IntegrityError("unverified-note", "checkpoint not signed by the log's key");
  }
  const checkpoint = parseCheckpoint(opened.text);
  if (checkpoint.origin !== origin) {
    throw new IntegrityError(
      "wrong-origin",
      `checkpoint of ${JSON.stringify(checkpoint.origin)}, want ${JSON.stringify(origin)}`,
    );
  }
  const cosigners = opened.verified.filter((s) => by(cosignerKeys, s) && !by(logKeys, s)).map((s) => s.name);
  return { checkpoint, note: opened, cosigners };
}
