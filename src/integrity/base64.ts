/**
 * Strict standard base64 (RFC 4648 §4, padded). Node's decoder skips stray characters and ignores non-zero
 * trailing bits, so two spellings could mean the same bytes; a signed format must have exactly one.
 */
const ALPHABET = /^[A-Za-z0-9+/]*={0,2}$/;

/** The bytes `text` encodes, or undefined unless `text` is the one canonical encoding of them. */
export function decodeBase64(text: string): Buffer | undefined {
  if (text.length % 4 !== 0 || !ALPHABET.test(text)) return undefined;
  const bytes = Buffer.from(text, "base64");
  return bytes.toString("base64") === text ? bytes : undefined;
}

export function encodeBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("base64");
}
