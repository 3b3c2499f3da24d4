/**
 * The one error the integrity formats and proofs raise, so a caller (and the fuzz tests) can tell bad input
 * from a bug: every parser and verifier throws this or nothing.
 */
export type IntegrityErrorCode =
  | "malformed-key" // a signer or verifier key string that does not follow signed-note
  | "malformed-note" // a signed note that does not follow signed-note
  | "malformed-checkpoint" // a note text that does not follow tlog-checkpoint (or livetrail's extension lines)
  | "malformed-proof" // a proof text that does not follow tlog-proof (or livetrail's consistency proof)
  | "malformed-path" // a tile path that does not follow tlog-tiles
  | "too-large" // input over a size limit
  | "unverified-note" // no signature by a known key
  | "invalid-signature" // a signature by a known key that does not verify
  | "invalid-proof" // a well-formed proof that does not prove what it claims
  | "wrong-origin" // a checkpoint of another log
  | "out-of-range"; // a proof asked for an index or size the tree does not have

export class IntegrityError extends Error {
  override readonly name = "IntegrityError";
  constructor(
    readonly code: IntegrityErrorCode,
    message: string,
  ) {
    super(message);
  }
}
