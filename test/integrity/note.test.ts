import { describe, expect, it } from "vitest";
import { IntegrityError } from "../../src/integrity/integrity-error.js";
import {
  decodeSignerKey,
  decodeVerifierKey,
  generateKey,
  isValidKeyName,
  keyId,
  MAX_NOTE_BYTES,
  MAX_SIGNATURES,
  type NoteVerifier,
  openNote,
  parseNote,
  parseSignerKey,
  parseVerifierKey,
  SIG_COSIGNATURE_V1,
  signNote,
} from "../../src/integrity/note.js";

// c2sp.org/signed-note §Verifier keys, Example.
const SPEC_VKEY = "example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k";
const SPEC_NOTE =
  "This is an example message.\n\n— example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n";
// c2sp.org/signed-note's opening example (no key given): a text with a blank line of its own.
const SPEC_POEM =
  "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n\n— quasimodo.example/salvatore NnugSzTjtVAewIS+Z/iJhUPeFDkO/5QQ2i5ddnGITLlC+EhfLW9oJKONrMouFSQU0xMcXxj99ihAQwaqP3ZekRwNtIc=\n";
// golang.org/x/mod/sumdb/note's test keys and signed message (Ed25519 is deterministic: exact bytes).
const PETER_SKEY = "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const PETER_VKEY = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const PETER_TEXT =
  "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER_NOTE = `${PETER_TEXT}\n— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n`;

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof IntegrityError) return e.code;
    throw e;
  }
  return "accepted";
}

describe("the spec's examples", () => {
  it("the signed-note example verifies with its verifier key", () => {
    const opened = openNote(SPEC_NOTE, [parseVerifierKey(SPEC_VKEY)]);
    expect(opened.text).toBe("This is an example message.\n");
    expect(opened.verified.map((s) => [s.name, s.keyId])).toEqual([["example.com/foo", 0x530d903a]]);
    expect(opened.unverified).toEqual([]);
  });

  it("a note's text is everything before the last blank line", () => {
    const note = parseNote(SPEC_POEM);
    expect(note.text).toBe(
      "Ognuno sta solo sul cuor della terra\ntrafitto da un raggio di sole:\n\ned è subito sera.\n",
    );
    expect(note.signatures).toHaveLength(1);
    expect(note.signatures[0]?.name).toBe("quasimodo.example/salvatore");
    expect(note.signatures[0]?.keyId).toBe(0x367ba04b);
    expect(note.signatures[0]?.signature).toHaveLength(64);
    expect(code(() => openNote(SPEC_POEM, [parseVerifierKey(SPEC_VKEY)]))).toBe("unverified-note");
  });

  it("signing the sumdb test text gives its exact bytes, and opening them verifies", () => {
    const signer = parseSignerKey(PETER_SKEY);
    expect([signer.name, signer.keyId]).toEqual(["PeterNeumann", 0xc74f20a3]);
    expect(signNote(PETER_TEXT, [signer])).toBe(PETER_NOTE);
    expect(openNote(PETER_NOTE, [parseVerifierKey(PETER_VKEY)]).text).toBe(PETER_TEXT);
    // Bytes in, the same: a Buffer is read as UTF-8.
    expect(openNote(Buffer.from(PETER_NOTE), [parseVerifierKey(PETER_VKEY)]).text).toBe(PETER_TEXT);
  });

  it("key IDs are SHA-256(name ‖ LF ‖ type ‖ key)[:4]", () => {
    const vkey = decodeVerifierKey(PETER_VKEY);
    expect(keyId("PeterNeumann", 0x01, vkey.key)).toBe(0xc74f20a3);
    expect(decodeSignerKey(PETER_SKEY)).toMatchObject({ name: "PeterNeumann", keyId: 0xc74f20a3, type: 1 });
  });
});

describe("key strings", () => {
  it("reject every substring and every changed byte (as sumdb's tests do)", () => {
    for (const [key, parse] of [
      [PETER_VKEY, parseVerifierKey],
      [PETER_SKEY, parseSignerKey],
    ] as const) {
      for (let i = 0; i <= key.length; i++) {
        for (let j = i + 1; j <= key.length; j++) {
          if (i !== 0 || j !== key.length)
            expect(
              code(() => parse(key.slice(i, j))),
              key.slice(i, j),
            ).toBe("malformed-key");
        }
      }
      const b = Buffer.from(key);
      for (let i = 0; i < b.length; i++) {
        b[i] = (b[i] as number) + 1;
        expect(
          code(() => parse(b.toString("latin1"))),
          `byte ${i}`,
        ).toBe("malformed-key");
        b[i] = (b[i] as number) - 1;
      }
    }
  });

  it("reject a wrong-length key and an unknown type, even with a matching key ID", () => {
    const key = Buffer.concat([Buffer.of(1), decodeVerifierKey(PETER_VKEY).key, Buffer.of(0)]);
    const longId = keyId("PeterNeumann", 1, key.subarray(1)).toString(16).padStart(8, "0");
    expect(code(() => parseVerifierKey(`PeterNeumann+${longId}+${key.toString("base64")}`))).toBe(
      "malformed-key",
    );
    const other = Buffer.concat([Buffer.of(0x65), decodeVerifierKey(PETER_VKEY).key]);
    const otherId = keyId("PeterNeumann", 0x65, other.subarray(1)).toString(16).padStart(8, "0");
    expect(code(() => decodeVerifierKey(`PeterNeumann+${otherId}+${other.toString("base64")}`))).toBe(
      "malformed-key",
    );
    expect(code(() => parseVerifierKey("x".repeat(5000)))).toBe("malformed-key");
    expect(code(() => parseVerifierKey(PETER_VKEY.replace("c74f20a3", "C74F20A3")))).toBe("malformed-key");
  });

  it("a generated pair works together and a cosigner pair is not a note key", () => {
    const { signerKey, verifierKey } = generateKey("log.example/stream");
    const note = signNote("hello\n", [parseSignerKey(signerKey)]);
    expect(openNote(note, [parseVerifierKey(verifierKey)]).verified).toHaveLength(1);
    const cosigner = generateKey("witness.example/w1", SIG_COSIGNATURE_V1);
    expect(decodeVerifierKey(cosigner.verifierKey).type).toBe(SIG_COSIGNATURE_V1);
    expect(code(() => parseVerifierKey(cosigner.verifierKey))).toBe("malformed-key");
    expect(code(() => parseSignerKey(cosigner.signerKey))).toBe("malformed-key");
    expect(code(() => generateKey("a b"))).toBe("malformed-key");
    expect(code(() => generateKey("x", 0x02))).toBe("malformed-key");
  });

  it("name rules: non-empty, no Unicode space, no plus", () => {
    for (const ok of ["example.com/log", "é", "a-b_c.d/e:f"]) expect(isValidKeyName(ok), ok).toBe(true);
    for (const bad of [
      "",
      "a b",
      "a+b",
      "a\tb",
      "a\u00a0b",
      "a\u2003b",
      "a\u3000b",
      "a\u0085b",
      "a\nb",
      "\ud800",
    ]) {
      expect(isValidKeyName(bad), JSON.stringify(bad)).toBe(false);
    }
  });
});

describe("opening notes", () => {
  const log = generateKey("log.example/a");
  const other = generateKey("other.example/b");
  const logSigner = parseSignerKey(log.signerKey);
  const logVerifier = parseVerifierKey(log.verifierKey);
  const otherSigner = parseSignerKey(other.signerKey);

  it("ignores signatures by unknown keys, even one sharing the name or the key ID", () => {
    const sameName: NoteVerifier = {
      name: logVerifier.name,
      keyId: logVerifier.keyId ^ 1,
      verify: () => true,
    };
    const note = signNote("text\n", [otherSigner, logSigner]);
    const opened = openNote(note, [logVerifier]);
    expect(opened.verified.map((s) => s.name)).toEqual(["log.example/a"]);
    expect(opened.unverified.map((s) => s.name)).toEqual(["other.example/b"]);
    expect(code(() => openNote(signNote("text\n", [otherSigner]), [sameName]))).toBe("unverified-note");
  });

  it("rejects a note whose known signature does not verify", () => {
    const forged = signNote("text\n", [otherSigner]).replace("other.example/b", "log.example/a");
    // The key ID still names the other key: unknown, so unverified rather than invalid.
    expect(code(() => openNote(forged, [logVerifier]))).toBe("unverified-note");
    const good = signNote("text\n", [logSigner]);
    const changedText = good.replace("text", "test");
    expect(code(() => openNote(changedText, [logVerifier]))).toBe("invalid-signature");
    // A repeat by the same key is checked too.
    const sig = parseNote(good).signatures[0];
    if (!sig) throw new Error("no signature");
    const bad = { ...sig, signature: Buffer.from(sig.signature).fill(0, 0, 8) };
    const repeated = signNote("text\n", [logSigner], [bad]);
    expect(parseNote(repeated).signatures).toHaveLength(1);
    const doubled = `${good}${good.slice(good.indexOf("— "))}`;
    expect(openNote(doubled, [logVerifier]).verified).toHaveLength(1);
  });

  it("adds a signature to a signed note, replacing one by the same key", () => {
    const first = signNote("text\n", [logSigner]);
    const both = signNote("text\n", [otherSigner], parseNote(first).signatures);
    expect(parseNote(both).signatures.map((s) => s.name)).toEqual(["log.example/a", "other.example/b"]);
    expect(signNote("text\n", [logSigner], parseNote(first).signatures)).toBe(first);
  });

  it("refuses malformed notes with a clear error", () => {
    const good = signNote("text\n", [logSigner]);
    const sigLine = good.slice(good.indexOf("— "));
    const cases: [string, string][] = [
      ["", "malformed-note"],
      ["text\n", "malformed-note"],
      [good.slice(0, -1), "malformed-note"],
      [good.replace("\n\n", "\n"), "malformed-note"],
      [`text\n\n${sigLine}\n`, "malformed-note"],
      [good.replace("— ", "- "), "malformed-note"],
      [good.replace("— ", "—  "), "malformed-note"],
      [good.replace("text", "te\rxt"), "malformed-note"],
      [good.replace("text", "te\u0000xt"), "malformed-note"],
      [good.replace(/=\n$/, "\n"), "malformed-note"],
      [`text\n\n— log.example/a AAAA\n`, "malformed-note"],
      [`text\n\n— log.example/a\n`, "malformed-note"],
      [`text\n\n— a+b ${sigLine.split(" ")[2]}`, "malformed-note"],
      [`text\n\n${sigLine.repeat(MAX_SIGNATURES + 1)}`, "too-large"],
      [`${"x".repeat(MAX_NOTE_BYTES)}\n\n${sigLine}`, "too-large"],
      [`te\ud800xt\n\n${sigLine}`, "malformed-note"],
    ];
    for (const [note, want] of cases)
      expect(
        code(() => openNote(note, [logVerifier])),
        JSON.stringify(note),
      ).toBe(want);
    expect(
      code(() =>
        openNote(Buffer.concat([Buffer.from("te"), Buffer.of(0xff), Buffer.from(good.slice(2))]), []),
      ),
    ).toBe("malformed-note");
    // A byte-order mark is part of the text, so the signature no longer covers it.
    expect(
      code(() =>
        openNote(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(good)]), [logVerifier]),
      ),
    ).toBe("invalid-signature");
    expect(MAX_SIGNATURES).toBeGreaterThanOrEqual(16);
  });

  it("refuses to sign a text that is not a note text", () => {
    for (const text of ["", "no newline", "a\rb\n", "a\u0001\n"])
      expect(code(() => signNote(text, [logSigner]))).toBe("malformed-note");
    expect(code(() => signNote("text\n", []))).toBe("malformed-note");
  });

  it("refuses two verifier keys with the same name and ID", () => {
    expect(code(() => openNote(signNote("t\n", [logSigner]), [logVerifier, logVerifier]))).toBe(
      "malformed-key",
    );
  });
});
