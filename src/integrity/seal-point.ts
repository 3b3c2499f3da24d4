import { formatCheckpoint, parseCheckpoint } from "./checkpoint.js";
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
  return formatCheckpoint({
    origin: p.origin,
    size: p.size,
    rootHash: p.root,
    file: { identity: p.identity, bytes: p.bytes },
    ...(p.prev === null ? {} : { prev: { size: p.prev.size, rootHash: p.prev.root } }),
    extensions: [`${SEQ_TAG}${p.seq}`, `${TIME_TAG}${p.time}`],
  });
}

export function sealPointNote(p: SealPoint, signer: NoteSigner): string {
  return signNote(sealPointText(p), [signer]);
}

/** Opens a checkpoint note with the given keys and reads its seal point; IntegrityError on anything wrong. */
export function readSealPoint(note: string, verifiers: readonly NoteVerifier[]): SealPoint {
  return parseSealPoint(openNote(note, verifiers).text);
}

/** The seal point of a note, without checking its signatures (for display, and for `verify` without a key). */
export function parseSealPointNote(note: string): SealPoint {
  return parseSealPoint(parseNote(note).text);
}

const SEQ_TAG = "livetrail-seq ";
const TIME_TAG = "livetrail-time ";
const DECIMAL = /^[1-9]\d{0,15}$/;
const TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/;

function malformed(why: string): never {
  throw new IntegrityError("malformed-checkpoint", `malformed checkpoint: ${why}`);
}

/** The seal point of a checkpoint text (tlog-checkpoint, parsed by checkpoint.ts), without checking signatures. */
export function parseSealPoint(text: string): SealPoint {
  const cp = parseCheckpoint(text);
  if (cp.file === undefined) malformed("no livetrail-file line");
  const seqs = cp.extensions.filter((e) => e.startsWith(SEQ_TAG)).map((e) => e.slice(SEQ_TAG.length));
  const times = cp.extensions.filter((e) => e.startsWith(TIME_TAG)).map((e) => e.slice(TIME_TAG.length));
  const seq = seqs[0];
  const time = times[0];
  if (seqs.length !== 1 || seq === undefined || !DECIMAL.test(seq) || !Number.isSafeInteger(Number(seq))) {
    malformed("needs one livetrail-seq line");
  }
  if (times.length !== 1 || time === undefined || !TIME.test(time))
    malformed("needs one livetrail-time line");
  return {
    origin: cp.origin,
    size: cp.size,
    root: cp.rootHash,
    identity: cp.file.identity,
    bytes: cp.file.bytes,
    prev: cp.prev === undefined ? null : { size: cp.prev.size, root: cp.prev.rootHash },
    seq: Number(seq),
    time,
  };
}
