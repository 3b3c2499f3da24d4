import { describe, expect, it } from "vitest";
import { type Checkpoint, openCheckpoint, signCheckpoint } from "../../src/integrity/checkpoint.js";
import {
  cosign,
  cosignatureTimestamp,
  cosignedMessage,
  parseCosignerKey,
  parseCosignerVerifierKey,
} from "../../src/integrity/cosignature.js";
import { IntegrityError } from "../../src/integrity/integrity-error.js";
import {
  decodeVerifierKey,
  ed25519Verifier,
  encodeVerifierKey,
  formatNote,
  generateKey,
  openNote,
  parseNote,
  parseSignerKey,
  parseVerifierKey,
  SIG_COSIGNATURE_V1,
} from "../../src/integrity/note.js";

// c2sp.org/tlog-cosignature's example: a checkpoint with the log's signature and a witness's cosignature.
const SPEC_TEXT = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
const SPEC_NOTE =
  `${SPEC_TEXT}\n— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n` +
  "— witness.example.com/w1 jWbPPwAAAABkGFDLEZMHwSRaJNiIDoe9DYn/zXcrtPHeolMI5OWXEhZCB9dlrDJsX3b2oyin1nPZqhf5nNo0xUe+mbIUBkBIfZ+qnA==\n";
// The signed message the spec shows for that cosignature.
const SPEC_MESSAGE =
  "cosignature/v1\ntime 1679315147\nexample.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof IntegrityError) return e.code;
    throw e;
  }
  return "accepted";
}

describe("cosignature/v1", () => {
  it("reads the spec example's timestamp and builds its signed message", () => {
    const witness = parseNote(SPEC_NOTE).signatures[1];
    if (!witness) throw new Error("no cosignature");
    expect(witness.name).toBe("witness.example.com/w1");
    expect(witness.signature).toHaveLength(72);
    expect(cosignatureTimestamp(witness.signature)).toBe(1679315147);
    expect(cosignedMessage(SPEC_TEXT, 1679315147).toString()).toBe(SPEC_MESSAGE);
    expect(code(() => cosignatureTimestamp(Buffer.alloc(64)))).toBe("malformed-note");
  });

  const log = generateKey("livetrail.example/audit");
  const witness = generateKey("witness.example/w1", SIG_COSIGNATURE_V1);
  const cp: Checkpoint = {
    origin: "livetrail.example/audit",
    size: 5,
    rootHash: Buffer.alloc(32, 3),
    extensions: [],
  };
  const clock = () => 1_700_000_000_123;

  it("signs the cosigned message with the clock's time in seconds", () => {
    const logged = signCheckpoint(cp, [parseSignerKey(log.signerKey)]);
    const cosigned = cosign(logged, parseCosignerKey(witness.signerKey, clock));
    const sig = parseNote(cosigned).signatures[1];
    if (!sig) throw new Error("no cosignature");
    expect(cosignatureTimestamp(sig.signature)).toBe(1_700_000_000);
    // Independently: an Ed25519 signature over exactly the spec's message layout.
    const publicKey = decodeVerifierKey(witness.verifierKey).key;
    const message = Buffer.from(`cosignature/v1\ntime 1700000000\n${parseNote(logged).text}`);
    expect(ed25519Verifier(publicKey)(message, sig.signature.subarray(8))).toBe(true);
    // The log's signature stays; cosigning again replaces the old cosignature.
    expect(parseNote(cosigned).signatures[0]).toEqual(parseNote(logged).signatures[0]);
    expect(
      parseNote(
        cosign(
          cosigned,
          parseCosignerKey(witness.signerKey, () => 1_800_000_000_000),
        ),
      ).signatures,
    ).toHaveLength(2);
  });

  it("verifies through a checkpoint's cosigners, and refuses changes", () => {
    const logged = signCheckpoint(cp, [parseSignerKey(log.signerKey)]);
    const cosigned = cosign(logged, parseCosignerKey(witness.signerKey, clock));
    const logKey = parseVerifierKey(log.verifierKey);
    const witnessKey = parseCosignerVerifierKey(witness.verifierKey);
    expect(openCheckpoint(cosigned, cp.origin, [logKey], [witnessKey]).cosigners).toEqual([
      "witness.example/w1",
    ]);
    // A changed timestamp breaks the signature: the time is signed.
    expect(code(() => openNote(retimed(cosigned, 1_700_000_001n), [logKey, witnessKey]))).toBe(
      "invalid-signature",
    );
    // A timestamp over 2^63-1 is refused.
    expect(code(() => openNote(retimed(cosigned, 2n ** 63n), [logKey, witnessKey]))).toBe(
      "invalid-signature",
    );
  });

  it("can refuse cosignatures from the future", () => {
    const logged = signCheckpoint(cp, [parseSignerKey(log.signerKey)]);
    const cosigned = cosign(logged, parseCosignerKey(witness.signerKey, clock));
    const strict = (nowMs: number) =>
      parseCosignerVerifierKey(witness.verifierKey, { now: () => nowMs, maxFutureSeconds: 60 });
    expect(openNote(cosigned, [strict(1_700_000_000_000 - 59_000)]).verified).toHaveLength(1);
    expect(code(() => openNote(cosigned, [strict(1_700_000_000_000 - 61_000)]))).toBe("invalid-signature");
  });

  it("keeps the two key kinds apart", () => {
    expect(code(() => parseCosignerKey(log.signerKey))).toBe("malformed-key");
    expect(code(() => parseCosignerVerifierKey(log.verifierKey))).toBe("malformed-key");
    // The same public key as a plain note key (type 0x01) has another key ID: it does not match a cosignature.
    const publicKey = decodeVerifierKey(witness.verifierKey).key;
    const asNoteKey = parseVerifierKey(encodeVerifierKey("witness.example/w1", 0x01, publicKey));
    const cosigned = cosign(
      signCheckpoint(cp, [parseSignerKey(log.signerKey)]),
      parseCosignerKey(witness.signerKey, clock),
    );
    expect(code(() => openNote(cosigned, [asNoteKey]))).toBe("unverified-note");
  });
});

/** The note with its last signature's timestamp replaced (the signature bytes otherwise kept). */
function retimed(signed: string, timestamp: bigint): string {
  const note = parseNote(signed);
  const last = note.signatures.at(-1);
  if (!last) throw new Error("no signature");
  const signature = Buffer.from(last.signature);
  signature.writeBigUInt64BE(timestamp);
  return formatNote({
    text: note.text,
    signatures: [...note.signatures.slice(0, -1), { ...last, signature }],
  });
}
