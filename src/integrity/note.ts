/**
 * C2SP signed-note: a text ending in a newline, a blank line, then signature lines `— <name> base64(keyID ‖ sig)`.
 * Keys are Ed25519 through node:crypto. Key strings: verifier `<name>+<hex keyID>+base64(type ‖ public key)`,
 * signer `PRIVATE+KEY+<name>+<hex keyID>+base64(type ‖ 32-byte seed)` (the golang.org/x/mod/sumdb/note form).
 * Parsing is strict: one spelling per note, every deviation an IntegrityError.
 */
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  randomBytes,
  sign,
  verify,
} from "node:crypto";
import { decodeBase64, encodeBase64 } from "./base64.js";
import { IntegrityError } from "./integrity-error.js";

/** Signature type bytes (signed-note §Signature types) that this module's keys may carry. */
export const SIG_ED25519 = 0x01;
export const SIG_COSIGNATURE_V1 = 0x04;

/** A note larger than this is refused unread: the spec's 16 post-quantum signatures (~5 kB each) fit. */
export const MAX_NOTE_BYTES = 128 * 1024;
/** More signature lines than this are refused (the spec asks verifiers to accept at least 16). */
export const MAX_SIGNATURES = 100;
/** Key strings longer than this are refused. */
export const MAX_KEY_CHARS = 4096;

export interface NoteSigner {
  readonly name: string;
  readonly keyId: number;
  /** The signature over the note text (without the key ID). */
  sign(text: Buffer): Buffer;
}

export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  /** The verifier key string it was parsed from, when it was (a worker thread builds its own from it). */
  readonly vkey?: string;
  /** Whether `signature` (without the key ID) is this key's over the note text. */
  verify(text: Buffer, signature: Buffer): boolean;
}

export interface NoteSignature {
  name: string;
  keyId: number;
  /** The signature bytes after the 4-byte key ID. */
  signature: Buffer;
}

export interface Note {
  /** The text, ending in a newline. */
  text: string;
  signatures: NoteSignature[];
}

export interface OpenedNote {
  text: string;
  /** Signatures by the given keys, each verified (one per key). */
  verified: NoteSignature[];
  /** Signatures by other keys, ignored as the spec says (exact repeats dropped). */
  unverified: NoteSignature[];
}

/** A key string's parts, its key ID checked against its name, type and key. */
export interface DecodedKey {
  name: string;
  keyId: number;
  type: number;
  /** Public key (verifier key) or 32-byte seed (signer key). */
  key: Buffer;
}

// U+0085 is a Unicode space that JavaScript's \s leaves out.
const NOT_IN_NAME = /[\s+\u0085]/u;
/** An ASCII control character other than newline (signed-note allows none). */
export function hasControl(s: string): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x20 && c !== 0x0a) return true;
  }
  return false;
}
const SIG_PREFIX = "— ";

/** signed-note key names: non-empty, no Unicode spaces, no `+`, no control characters. */
export function isValidKeyName(name: string): boolean {
  return name.length > 0 && !NOT_IN_NAME.test(name) && !hasControl(name) && isWellFormed(name);
}

/** SHA-256(name ‖ 0x0A ‖ type ‖ public key)[:4], big-endian. */
export function keyId(name: string, type: number, publicKey: Uint8Array): number {
  const h = createHash("sha256").update(name).update(Buffer.of(0x0a, type)).update(publicKey).digest();
  return h.readUInt32BE(0);
}

// DER wrappers that turn raw Ed25519 bytes into the key objects node:crypto takes.
const PKCS8_ED25519 = Buffer.from("302e020100300506032b657004220420", "hex");
const SPKI_ED25519 = Buffer.from("302a300506032b6570032100", "hex");

function privateKeyOf(seed: Uint8Array): KeyObject {
  return createPrivateKey({ key: Buffer.concat([PKCS8_ED25519, seed]), format: "der", type: "pkcs8" });
}

/** The Ed25519 public key of a 32-byte seed. */
export function ed25519PublicKey(seed: Uint8Array): Buffer {
  return createPublicKey(privateKeyOf(seed))
    .export({ format: "der", type: "spki" })
    .subarray(SPKI_ED25519.length);
}

/** An Ed25519 signing function for a seed; the key object is built once. */
export function ed25519Signer(seed: Uint8Array): (message: Buffer) => Buffer {
  const key = privateKeyOf(seed);
  return (message) => sign(null, message, key);
}

/** An Ed25519 verifying function for a 32-byte public key; never throws on a bad signature. */
export function ed25519Verifier(publicKey: Uint8Array): (message: Buffer, signature: Buffer) => boolean {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.concat([SPKI_ED25519, publicKey]), format: "der", type: "spki" });
  } catch {
    throw new IntegrityError("malformed-key", "not an Ed25519 public key");
  }
  return (message, signature) => {
    if (signature.length !== 64) return false;
    try {
      return verify(null, message, key, signature);
    } catch {
      return false;
    }
  };
}

function hex8(id: number): string {
  return id.toString(16).padStart(8, "0");
}

export function encodeVerifierKey(name: string, type: number, publicKey: Uint8Array): string {
  if (!isValidKeyName(name))
    throw new IntegrityError("malformed-key", `not a key name: ${JSON.stringify(name)}`);
  return `${name}+${hex8(keyId(name, type, publicKey))}+${encodeBase64(Buffer.concat([Buffer.of(type), publicKey]))}`;
}

/** A new Ed25519 key pair for `name`, as signer and verifier key strings (type 0x01, or 0x04 for a cosigner). */
export function generateKey(
  name: string,
  type: number = SIG_ED25519,
): { signerKey: string; verifierKey: string } {
  checkType(type);
  const seed = randomBytes(32);
  const publicKey = ed25519PublicKey(seed);
  const verifierKey = encodeVerifierKey(name, type, publicKey);
  const id = hex8(keyId(name, type, publicKey));
  return {
    signerKey: `PRIVATE+KEY+${name}+${id}+${encodeBase64(Buffer.concat([Buffer.of(type), seed]))}`,
    verifierKey,
  };
}

function typeName(type: number): string {
  return `0x${type.toString(16).padStart(2, "0")}`;
}

function checkType(type: number): void {
  if (type !== SIG_ED25519 && type !== SIG_COSIGNATURE_V1) {
    throw new IntegrityError("malformed-key", `unsupported signature type ${typeName(type)}`);
  }
}

function decodeKeyParts(
  what: string,
  name: string,
  id: string,
  data: string,
): { name: string; id: number; type: number; key: Buffer } {
  const bytes = decodeBase64(data);
  if (!isValidKeyName(name) || !/^[0-9a-f]{8}$/.test(id) || bytes === undefined || bytes.length !== 33) {
    throw new IntegrityError("malformed-key", `malformed ${what}`);
  }
  const type = bytes[0] as number;
  checkType(type);
  return { name, id: Number.parseInt(id, 16), type, key: bytes.subarray(1) };
}

/** Split at the first `parts - 1` plus signs: names hold none, the base64 key data may. */
function cutPlus(s: string, parts: number): string[] {
  const out: string[] = [];
  let rest = s;
  while (out.length < parts - 1) {
    const i = rest.indexOf("+");
    if (i < 0) return [];
    out.push(rest.slice(0, i));
    rest = rest.slice(i + 1);
  }
  return [...out, rest];
}

/** `<name>+<hex8>+base64(type ‖ public key)`; the key ID must be the one the name, type and key give. */
export function decodeVerifierKey(vkey: string): DecodedKey {
  const parts = typeof vkey === "string" && vkey.length <= MAX_KEY_CHARS ? cutPlus(vkey, 3) : [];
  if (parts.length !== 3) throw new IntegrityError("malformed-key", "malformed verifier key");
  const { name, id, type, key } = decodeKeyParts(
    "verifier key",
    parts[0] as string,
    parts[1] as string,
    parts[2] as string,
  );
  if (keyId(name, type, key) !== id)
    throw new IntegrityError("malformed-key", "verifier key ID does not match its key");
  return { name, keyId: id, type, key };
}

/** `PRIVATE+KEY+<name>+<hex8>+base64(type ‖ seed)`; the key ID must be the one of the seed's public key. */
export function decodeSignerKey(skey: string): DecodedKey {
  const parts = typeof skey === "string" && skey.length <= MAX_KEY_CHARS ? cutPlus(skey, 5) : [];
  if (parts.length !== 5 || parts[0] !== "PRIVATE" || parts[1] !== "KEY") {
    throw new IntegrityError("malformed-key", "malformed signer key");
  }
  const { name, id, type, key } = decodeKeyParts(
    "signer key",
    parts[2] as string,
    parts[3] as string,
    parts[4] as string,
  );
  if (keyId(name, type, ed25519PublicKey(key)) !== id) {
    throw new IntegrityError("malformed-key", "signer key ID does not match its key");
  }
  return { name, keyId: id, type, key };
}

function requireType(key: DecodedKey, type: number): DecodedKey {
  if (key.type !== type) {
    throw new IntegrityError(
      "malformed-key",
      `key ${key.name} has signature type ${typeName(key.type)}, want ${typeName(type)}`,
    );
  }
  return key;
}

/** A signer for Ed25519 note signatures (type 0x01). */
export function parseSignerKey(skey: string): NoteSigner {
  const { name, keyId, key } = requireType(decodeSignerKey(skey), SIG_ED25519);
  const signBytes = ed25519Signer(key);
  return { name, keyId, sign: (text) => signBytes(text) };
}

/** A verifier for Ed25519 note signatures (type 0x01). */
export function parseVerifierKey(vkey: string): NoteVerifier {
  const { name, keyId, key } = requireType(decodeVerifierKey(vkey), SIG_ED25519);
  const check = ed25519Verifier(key);
  return { name, keyId, vkey, verify: (text, signature) => check(text, signature) };
}

function isWellFormed(s: string): boolean {
  // A lone surrogate would become U+FFFD on the way to bytes; ES2023 has no String#isWellFormed.
  return !/\p{Surrogate}/u.test(s);
}

function malformed(why: string): never {
  throw new IntegrityError("malformed-note", `malformed note: ${why}`);
}

// ignoreBOM keeps a leading U+FEFF in the text: the signature covers the bytes as sent.
const UTF8 = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

function noteString(note: string | Uint8Array): string {
  const size = typeof note === "string" ? Buffer.byteLength(note) : note.length;
  if (size > MAX_NOTE_BYTES)
    throw new IntegrityError("too-large", `note of ${size} bytes exceeds ${MAX_NOTE_BYTES}`);
  if (typeof note === "string") {
    if (!isWellFormed(note)) malformed("not valid UTF-8");
    return note;
  }
  try {
    return UTF8.decode(note);
  } catch {
    return malformed("not valid UTF-8");
  }
}

/** The text and signature lines of a signed note, without verifying anything. */
export function parseNote(note: string | Uint8Array): Note {
  const s = noteString(note);
  if (hasControl(s)) malformed("control character");
  const split = s.lastIndexOf("\n\n");
  if (split < 0) malformed("no blank line before the signatures");
  const text = s.slice(0, split + 1);
  const block = s.slice(split + 2);
  if (block.length === 0 || !block.endsWith("\n")) malformed("signature lines must end in a newline");
  const lines = block.slice(0, -1).split("\n");
  if (lines.length > MAX_SIGNATURES)
    throw new IntegrityError("too-large", `more than ${MAX_SIGNATURES} signatures`);
  const signatures = lines.map((line) => {
    if (!line.startsWith(SIG_PREFIX)) malformed("a signature line must start with an em dash and a space");
    const rest = line.slice(SIG_PREFIX.length);
    const space = rest.indexOf(" ");
    const name = rest.slice(0, space);
    const bytes = space < 0 ? undefined : decodeBase64(rest.slice(space + 1));
    if (!isValidKeyName(name) || bytes === undefined || bytes.length < 5) malformed("bad signature line");
    return { name, keyId: bytes.readUInt32BE(0), signature: bytes.subarray(4) };
  });
  return { text, signatures };
}

function checkText(text: string): void {
  if (!text.endsWith("\n") || hasControl(text) || !isWellFormed(text)) {
    malformed("text must end in a newline and hold no control characters but newlines");
  }
}

function signatureLine(sig: NoteSignature): string {
  const id = Buffer.alloc(4);
  id.writeUInt32BE(sig.keyId);
  return `${SIG_PREFIX}${sig.name} ${encodeBase64(Buffer.concat([id, sig.signature]))}\n`;
}

/** A note as bytes-exact text: text, blank line, one line per signature. */
export function formatNote(note: Note): string {
  checkText(note.text);
  if (note.signatures.length === 0) malformed("a note needs a signature");
  for (const sig of note.signatures) {
    if (!isValidKeyName(sig.name)) malformed(`bad key name ${JSON.stringify(sig.name)}`);
  }
  const out = `${note.text}\n${note.signatures.map(signatureLine).join("")}`;
  if (Buffer.byteLength(out) > MAX_NOTE_BYTES) throw new IntegrityError("too-large", "note too large");
  return out;
}

/**
 * Sign `text` with each signer; `existing` signatures are kept, except those by the same keys (replaced), so a
 * witness's cosignature can be added to a log's note.
 */
export function signNote(
  text: string,
  signers: readonly NoteSigner[],
  existing: readonly NoteSignature[] = [],
): string {
  checkText(text);
  const bytes = Buffer.from(text);
  const fresh = signers.map((s) => ({ name: s.name, keyId: s.keyId, signature: s.sign(bytes) }));
  const same = (a: NoteSignature) => fresh.some((f) => f.name === a.name && f.keyId === a.keyId);
  return formatNote({ text, signatures: [...existing.filter((e) => !same(e)), ...fresh] });
}

/**
 * Parse and verify a note with the known keys: signatures by other keys are ignored, a signature by a known key
 * that does not verify rejects the note, and so does a note no known key signed.
 */
export function openNote(note: string | Uint8Array, verifiers: readonly NoteVerifier[]): OpenedNote {
  const byKey = new Map<string, NoteVerifier>();
  for (const v of verifiers) {
    const k = `${v.name} ${v.keyId}`;
    if (byKey.has(k))
      throw new IntegrityError("malformed-key", `two verifier keys for ${v.name}+${hex8(v.keyId)}`);
    byKey.set(k, v);
  }
  const parsed = parseNote(note);
  const text = Buffer.from(parsed.text);
  const verified: NoteSignature[] = [];
  const unverified: NoteSignature[] = [];
  const seen = new Set<string>();
  for (const sig of parsed.signatures) {
    const k = `${sig.name} ${sig.keyId}`;
    const v = byKey.get(k);
    if (v === undefined) {
      const line = `${k} ${sig.signature.toString("base64")}`;
      if (!seen.has(line)) unverified.push(sig);
      seen.add(line);
      continue;
    }
    // Every signature by a known key is checked, repeats too: a note carries no bytes that go unchecked.
    if (!v.verify(text, sig.signature)) {
      throw new IntegrityError(
        "invalid-signature",
        `signature by ${sig.name}+${hex8(sig.keyId)} does not verify`,
      );
    }
    if (!seen.has(k)) verified.push(sig);
    seen.add(k);
  }
  if (verified.length === 0) throw new IntegrityError("unverified-note", "no signature by a known key");
  return { text: parsed.text, verified, unverified };
}
