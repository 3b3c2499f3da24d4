import { openCheckpoint, parseCheckpoint } from "../integrity/checkpoint.js";
import { formatNote, type NoteSigner, type NoteVerifier, parseNote, signNote } from "../integrity/note.js";
import { parseConsistencyProof, verifyConsistencyProof } from "../integrity/proof-format.js";

/**
 * One witness step for one stream (C2SP tlog-witness's checks, over livetrail's API): the newest checkpoint must
 * be signed by the log's key and be consistent with the newest one this witness saw before, proven by an RFC 9162
 * consistency proof; then the witness cosigns it. A smaller tree, another root at the same size, or a proof that
 * fails is a rollback (the history was rewritten): the caller raises the alarm and must not forget the old one.
 */

/** What a witness remembers per stream: the newest checkpoint it verified. */
export interface Remembered {
  origin: string;
  size: number;
  /** base64 root hash. */
  root: string;
  /** The signed checkpoint note, as served. */
  note: string;
  /** When this witness saw it (ISO). */
  seenAt: string;
}

export type WitnessOutcome =
  | { kind: "first" | "same" | "grew" | "rotated"; remembered: Remembered; cosigned: string }
  /** rollback: a smaller, forked or rewritten history; invalid: a checkpoint the log's key did not sign. */
  | { kind: "rollback" | "invalid"; message: string };

/** Reads a text body from the stream's API (`path` relative to `/api/streams/NAME/`); throws on HTTP errors. */
export type FetchText = (path: string) => Promise<string>;

export class WitnessError extends Error {
  override name = "WitnessError";
}

/**
 * `recall` gives what this witness remembers of a log by its origin (the log's name in every checkpoint, so a
 * server that moved keeps its history); `pinned` is the origin this URL served before, if any.
 */
export async function witnessStep(
  fetchText: FetchText,
  recall: (origin: string) => Remembered | undefined,
  pinned: string | undefined,
  logKeys: readonly NoteVerifier[],
  cosigner: NoteSigner,
  now: () => Date = () => new Date(),
): Promise<WitnessOutcome> {
  const note = await fetchText("checkpoint");
  const origin = pinned ?? parseCheckpoint(parseNote(note).text).origin;
  const previous = recall(origin);
  let opened: ReturnType<typeof openCheckpoint>;
  try {
    opened = openCheckpoint(note, origin, logKeys);
  } catch (error) {
    // A checkpoint the log's key did not sign is not the log's: refused, and worth an alarm of its own.
    return { kind: "invalid", message: `the newest checkpoint does not verify: ${(error as Error).message}` };
  }
  const { size, rootHash } = opened.checkpoint;
  const root = rootHash.toString("base64");
  const seen =
    previous === undefined ? "" : `${previous.size} lines (root ${previous.root}, seen ${previous.seenAt})`;
  let kind: "first" | "same" | "grew" | "rotated" = "first";
  if (previous !== undefined) {
    const prev = opened.checkpoint.prev;
    const rotated =
      prev !== undefined && prev.size === previous.size && prev.rootHash.toString("base64") === previous.root;
    if (rotated) {
      // A rotation: this file's history starts at 0 and links to the final tree this witness saw.
      kind = "rotated";
    } else if (size < previous.size) {
      return {
        kind: "rollback",
        message: `history shrank: the log's newest checkpoint has ${size} lines (root ${root}); this witness saw ${seen}`,
      };
    } else if (size === previous.size) {
      if (root !== previous.root) {
        return {
          kind: "rollback",
          message: `history forked: a checkpoint of ${size} lines with root ${root}; this witness saw ${seen}`,
        };
      }
      kind = "same";
    } else {
      const body = await fetchText(`proof/consistency?from=${previous.size}&to=${size}`);
      try {
        const proof = parseConsistencyProof(body);
        if (parseNote(proof.checkpoint).text !== opened.note.text) {
          throw new WitnessError("the proof is for another checkpoint");
        }
        verifyConsistencyProof(
          proof,
          { size: previous.size, rootHash: Buffer.from(previous.root, "base64") },
          origin,
          logKeys,
        );
      } catch (error) {
        return {
          kind: "rollback",
          message:
            `history rewritten: the checkpoint of ${size} lines (root ${root}) is not an extension of the ` +
            `${seen}: ${(error as Error).message}`,
        };
      }
      kind = "grew";
    }
  }
  // Cosign the log's own signed note (other witnesses' cosignatures left out: they are theirs to post).
  const parsed = parseNote(note);
  const logOnly = formatNote({
    text: parsed.text,
    signatures: parsed.signatures.filter((s) =>
      logKeys.some((k) => k.name === s.name && k.keyId === s.keyId),
    ),
  });
  const cosigned = signNote(parsed.text, [cosigner], parseNote(logOnly).signatures);
  return {
    kind,
    remembered: { origin, size, root, note: logOnly, seenAt: now().toISOString() },
    cosigned,
  };
}
