import { open, readFile } from "node:fs/promises";
import { IntegrityError } from "./integrity-error.js";
import {
  decodeSignerKey,
  ed25519PublicKey,
  encodeVerifierKey,
  generateKey,
  type NoteSigner,
  type NoteVerifier,
  parseSignerKey,
  parseVerifierKey,
  SIG_ED25519,
} from "./note.js";

/**
 * The key files of `livetrail keygen`: `PREFIX` holds the signer key (`PRIVATE+KEY+…`, mode 0600), `PREFIX.pub`
 * the verifier key (`<name>+<id>+…`), each one line, in the signed-note key format. A sealer needs the signer; it
 * derives its own verifier from it (to read back its checkpoints). Verifying needs only the `.pub`.
 */

export interface SealKey {
  signer: NoteSigner;
  verifier: NoteVerifier;
  /** The verifier key string, as the `.pub` file holds it. */
  verifierKey: string;
  /** The signer key string itself (secret), so a worker thread can build its own signer from it. */
  signerKey: string;
}

export function sealKeyFromString(signerKey: string): SealKey {
  const signer = parseSignerKey(signerKey);
  const { name, key } = decodeSignerKey(signerKey);
  const verifierKey = encodeVerifierKey(name, SIG_ED25519, ed25519PublicKey(key));
  return { signer, verifier: parseVerifierKey(verifierKey), verifierKey, signerKey };
}

/** Reads a signer key file; IntegrityError (malformed-key) when it does not hold one. */
export async function loadSealKey(path: string): Promise<SealKey> {
  const text = (await readFile(path, "utf8")).trim();
  if (text.startsWith("PRIVATE+KEY+")) return sealKeyFromString(text);
  throw new IntegrityError(
    "malformed-key",
    text.includes("+") && !text.startsWith("PRIVATE")
      ? `${path} holds a verifier (public) key; sealing needs the signer key (the file without .pub)`
      : `${path} does not hold a signer key (PRIVATE+KEY+...)`,
  );
}

/** Reads a verifier key file (or takes the key string itself). */
export async function loadVerifierKey(pathOrKey: string): Promise<NoteVerifier> {
  let text = pathOrKey;
  if (!/^[^+\s]+\+[0-9a-f]{8}\+[A-Za-z0-9+/=]+$/.test(pathOrKey))
    text = (await readFile(pathOrKey, "utf8")).trim();
  if (text.startsWith("PRIVATE+KEY+")) return sealKeyFromString(text).verifier;
  return parseVerifierKey(text);
}

/** Writes a new key pair: the signer key at `prefix` (0600, never overwritten), the verifier key at `prefix.pub`. */
export async function writeKeyPair(
  name: string,
  prefix: string,
): Promise<{ signerPath: string; verifierPath: string; verifierKey: string }> {
  const { signerKey, verifierKey } = generateKey(name);
  const verifierPath = `${prefix}.pub`;
  // "wx": an existing key is never replaced (that would orphan every checkpoint signed with it).
  const signer = await open(prefix, "wx", 0o600);
  try {
    await signer.writeFile(`${signerKey}\n`);
  } finally {
    await signer.close();
  }
  const verifier = await open(verifierPath, "wx", 0o644);
  try {
    await verifier.writeFile(`${verifierKey}\n`);
  } finally {
    await verifier.close();
  }
  return { signerPath: prefix, verifierPath, verifierKey };
}
