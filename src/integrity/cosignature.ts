/**
 * C2SP tlog-cosignature, the Ed25519 kind (cosignature/v1, signature type 0x04): a witness's note signature on a
 * checkpoint, `timestamp (u64 BE) ‖ Ed25519 signature` over
 *
 *   cosignature/v1\ntime <timestamp>\n<checkpoint note text>
 *
 * It states that at that time this was the largest consistent tree the witness had seen for the origin; the
 * witness must check consistency before cosigning (the caller's job, with proofs.ts).
 */
import { IntegrityError } from "./integrity-error.js";
import {
  decodeSignerKey,
  decodeVerifierKey,
  ed25519Signer,
  ed25519Verifier,
  type NoteSigner,
  type NoteVerifier,
  parseNote,
  SIG_COSIGNATURE_V1,
  signNote,
} from "./note.js";

const MAX_TIMESTAMP = 2n ** 63n - 1n;

/** The message a v1 cosignature signs: header, time line, then the checkpoint's note text. */
export function cosignedMessage(text: string | Uint8Array, timestamp: bigint | number): Buffer {
  return Buffer.concat([Buffer.from(`cosignature/v1\ntime ${BigInt(timestamp)}\n`), Buffer.from(text)]);
}

/** The POSIX timestamp (seconds) a cosignature (the bytes after the key ID) carries. */
export function cosignatureTimestamp(signature: Uint8Array): number {
  const ts = signature.length === 72 ? Buffer.from(signature).readBigUInt64BE(0) : -1n;
  if (ts < 0n || ts > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new IntegrityError(
      "malformed-note",
      "not a cosignature/v1 signature: 8-byte timestamp and 64 bytes",
    );
  }
  return Number(ts);
}

/** Clocks in milliseconds since the epoch, as Date.now. */
export type Clock = () => number;

/** A cosigner from a signer key of type 0x04: each signature carries the clock's time in whole seconds. */
export function parseCosignerKey(skey: string, now: Clock = Date.now): NoteSigner {
  const key = decodeSignerKey(skey);
  if (key.type !== SIG_COSIGNATURE_V1)
    throw new IntegrityError("malformed-key", `${key.name} is not a cosigner key (0x04)`);
  const signBytes = ed25519Signer(key.key);
  return {
    name: key.name,
    keyId: key.keyId,
    sign(text) {
      const seconds = BigInt(Math.floor(now() / 1000));
      const ts = Buffer.alloc(8);
      ts.writeBigUInt64BE(seconds);
      return Buffer.concat([ts, signBytes(cosignedMessage(text, seconds))]);
    },
  };
}

export interface CosignatureCheck {
  /** When given, a cosignature stamped more than `maxFutureSeconds` after `now` is refused. */
  now?: Clock;
  maxFutureSeconds?: number;
}

/** A verifier for a witness's cosignatures, from its verifier key of type 0x04. */
export function parseCosignerVerifierKey(vkey: string, check: CosignatureCheck = {}): NoteVerifier {
  const key = decodeVerifierKey(vkey);
  if (key.type !== SIG_COSIGNATURE_V1)
    throw new IntegrityError("malformed-key", `${key.name} is not a cosigner key (0x04)`);
  const verifyBytes = ed25519Verifier(key.key);
  return {
    name: key.name,
    keyId: key.keyId,
    verify(text, signature) {
      if (signature.length !== 72) return false;
      const ts = signature.readBigUInt64BE(0);
      if (ts > MAX_TIMESTAMP) return false;
      if (check.now && ts > BigInt(Math.floor(check.now() / 1000) + (check.maxFutureSeconds ?? 0)))
        return false;
      return verifyBytes(cosignedMessage(text, ts), signature.subarray(8));
    },
  };
}

/** Add (or replace) the cosigner's signature on a signed checkpoint note, keeping the others. */
export function cosign(signedNote: string | Uint8Array, cosigner: NoteSigner): string {
  const note = parseNote(signedNote);
  return signNote(note.text, [cosigner], note.signatures);
}
