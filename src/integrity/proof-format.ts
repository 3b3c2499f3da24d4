/**
 * Proofs as text, in the C2SP shapes:
 *
 * - inclusion: c2sp.org/tlog-proof@v1 — header, optional `extra <base64>`, `index <n>`, the audit path (one
 *   base64 hash a line), a blank line, then the signed checkpoint verbatim;
 * - consistency: the body of tlog-witness's add-checkpoint — `old <m>`, the consistency proof from m to the
 *   checkpoint's size (one base64 hash a line, at most 63), a blank line, then the signed checkpoint.
 *
 * Parsing is strict (one spelling per proof); verifying opens the checkpoint with the log's keys first.
 */
import { decodeBase64, encodeBase64 } from "./base64.js";
import { type OpenedCheckpoint, openCheckpoint, parseCheckpoint } from "./checkpoint.js";
import { IntegrityError } from "./integrity-error.js";
import { EMPTY_ROOT } from "./merkle.js";
import { MAX_NOTE_BYTES, type NoteVerifier, parseNote } from "./note.js";
import { verifyConsistency, verifyInclusion } from "./proofs.js";
import { HASH_SIZE } from "./tiles.js";

export const TLOG_PROOF_HEADER = "c2sp.org/tlog-proof@v1";
/** A tree of at most 2^63 leaves needs at most 63 hashes in either kind of proof. */
export const MAX_PROOF_HASHES = 63;
const MAX_PROOF_BYTES = MAX_NOTE_BYTES + 8 * 1024;
const DECIMAL = /^(0|[1-9]\d{0,15})$/;

export interface InclusionProofText {
  /** Opaque, unauthenticated data (absent when empty). */
  extra?: Buffer;
  index: number;
  /** Audit path, the leaf's sibling first. */
  hashes: Buffer[];
  /** The signed checkpoint note, verbatim. */
  checkpoint: string;
}

export interface ConsistencyProofText {
  /** Size of the older tree the proof starts from. */
  oldSize: number;
  hashes: Buffer[];
  /** The signed checkpoint of the newer tree, verbatim. */
  checkpoint: string;
}

function bad(why: string): never {
  throw new IntegrityError("malformed-proof", `malformed proof: ${why}`);
}

function decimal(text: string | undefined, prefix: string): number {
  const digits = text?.startsWith(prefix) ? text.slice(prefix.length) : undefined;
  const n = digits !== undefined && DECIMAL.test(digits) ? Number(digits) : Number.NaN;
  if (!Number.isSafeInteger(n)) bad(`expected "${prefix}<decimal>"`);
  return n;
}

function hashLines(hashes: readonly Buffer[]): string {
  if (hashes.length > MAX_PROOF_HASHES) bad(`more than ${MAX_PROOF_HASHES} hashes`);
  return hashes
    .map((h) => {
      if (h.length !== HASH_SIZE) bad("a proof hash is 32 bytes");
      return `${encodeBase64(h)}\n`;
    })
    .join("");
}

/** The checkpoint part must be a signed note whose text is a checkpoint (not yet verified). */
function checkNote(checkpoint: string): void {
  parseCheckpoint(parseNote(checkpoint).text);
}

/** Splits `text` into its head lines (up to the first blank line) and the checkpoint note after it. */
function split(text: string): { head: string[]; checkpoint: string } {
  if (typeof text !== "string") bad("not text");
  if (Buffer.byteLength(text) > MAX_PROOF_BYTES) throw new IntegrityError("too-large", "proof too large");
  const blank = text.indexOf("\n\n");
  if (blank < 0) bad("no blank line before the checkpoint");
  const checkpoint = text.slice(blank + 2);
  try {
    checkNote(checkpoint);
  } catch (e) {
    if (e instanceof IntegrityError && e.code === "too-large") throw e;
    bad(`the checkpoint is not a signed checkpoint (${e instanceof Error ? e.message : e})`);
  }
  return { head: text.slice(0, blank).split("\n"), checkpoint };
}

function hashesOf(lines: string[]): Buffer[] {
  if (lines.length > MAX_PROOF_HASHES) bad(`more than ${MAX_PROOF_HASHES} hashes`);
  return lines.map((line) => {
    const h = decodeBase64(line);
    if (h?.length !== HASH_SIZE) bad("a proof line is not a base64 SHA-256 hash");
    return h;
  });
}

export function encodeInclusionProof(p: InclusionProofText): string {
  if (!Number.isSafeInteger(p.index) || p.index < 0) bad("index is not a leaf index");
  checkNote(p.checkpoint);
  const extra = p.extra && p.extra.length > 0 ? `extra ${encodeBase64(p.extra)}\n` : "";
  return `${TLOG_PROOF_HEADER}\n${extra}index ${p.index}\n${hashLines(p.hashes)}\n${p.checkpoint}`;
}

export function parseInclusionProof(text: string): InclusionProofText {
  const { head, checkpoint } = split(text);
  if (head[0] !== TLOG_PROOF_HEADER) bad(`first line must be ${TLOG_PROOF_HEADER}`);
  let at = 1;
  let extra: Buffer | undefined;
  if (head[at]?.startsWith("extra ")) {
    extra = decodeBase64((head[at] as string).slice("extra ".length));
    if (extra === undefined || extra.length === 0) bad("extra is not non-empty base64");
    at++;
  }
  const index = decimal(head[at], "index ");
  const proof: InclusionProofText = { index, hashes: hashesOf(head.slice(at + 1)), checkpoint };
  if (extra) proof.extra = extra;
  return proof;
}

export function encodeConsistencyProof(p: ConsistencyProofText): string {
  if (!Number.isSafeInteger(p.oldSize) || p.oldSize < 0) bad("old size is not a tree size");
  checkNote(p.checkpoint);
  return `old ${p.oldSize}\n${hashLines(p.hashes)}\n${p.checkpoint}`;
}

export function parseConsistencyProof(text: string): ConsistencyProofText {
  const { head, checkpoint } = split(text);
  return { oldSize: decimal(head[0], "old "), hashes: hashesOf(head.slice(1)), checkpoint };
}

/**
 * tlog-proof verification (steps 2-4): the checkpoint is the log's (`origin`, signed by a `logKeys` key, every
 * known cosignature valid) and the path puts `leaf` (the leaf hash, step 1) at the index in its tree.
 */
export function verifyInclusionProof(
  p: InclusionProofText,
  leaf: Uint8Array,
  origin: string,
  logKeys: readonly NoteVerifier[],
  cosignerKeys: readonly NoteVerifier[] = [],
): OpenedCheckpoint {
  const opened = openCheckpoint(p.checkpoint, origin, logKeys, cosignerKeys);
  const { size, rootHash } = opened.checkpoint;
  if (!verifyInclusion(leaf, p.index, size, p.hashes, rootHash)) {
    throw new IntegrityError(
      "invalid-proof",
      `the path does not put the leaf at ${p.index} in the tree of ${size}`,
    );
  }
  return opened;
}

/**
 * The checks tlog-witness makes of an add-checkpoint body, given the old tree the verifier already trusts: the
 * new checkpoint is the log's, not smaller, an empty tree has the empty root, and the proof shows the old tree
 * is its prefix.
 */
export function verifyConsistencyProof(
  p: ConsistencyProofText,
  old: { size: number; rootHash: Uint8Array },
  origin: string,
  logKeys: readonly NoteVerifier[],
): OpenedCheckpoint {
  if (p.oldSize !== old.size)
    throw new IntegrityError("invalid-proof", `proof from ${p.oldSize}, trusted tree is ${old.size}`);
  const opened = openCheckpoint(p.checkpoint, origin, logKeys);
  const { size, rootHash } = opened.checkpoint;
  if (size === 0 && !rootHash.equals(EMPTY_ROOT))
    throw new IntegrityError("invalid-proof", "empty tree with a non-empty root");
  if (!verifyConsistency(old.size, size, p.hashes, old.rootHash, rootHash)) {
    throw new IntegrityError(
      "invalid-proof",
      `the tree of ${old.size} is not a prefix of the tree of ${size}`,
    );
  }
  return opened;
}
