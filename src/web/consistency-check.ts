/**
 * The browser's side of RFC 9162 consistency: the proof text the server sends (tlog-witness's add-checkpoint
 * body: `old <m>`, base64 hashes, a blank line, the signed checkpoint) and §2.1.4.2's verification, over WebCrypto's
 * SHA-256 (src/integrity uses node:crypto, which the page cannot load; this is the same algorithm, checked against
 * the server's proofs by the dashboard's browser test). Signatures are not checked here: rollback detection needs
 * only the hashes against what this browser remembers, and the attacker it guards against holds the log's key.
 */

export type Sha256 = (data: Uint8Array) => Promise<Uint8Array>;

export const webSha256: Sha256 = async (data) =>
  new Uint8Array(await crypto.subtle.digest("SHA-256", data as Uint8Array<ArrayBuffer>));

export interface ConsistencyBody {
  oldSize: number;
  hashes: Uint8Array[];
  /** The newer checkpoint's size and root, from its note text (origin, size, root lines). */
  size: number;
  root: Uint8Array;
}

const DECIMAL = /^(0|[1-9]\d{0,15})$/;

export function fromBase64(text: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text) || text.length % 4 !== 0) return null;
  const bin = atob(text);
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/** Parses the consistency proof body; null when it is not one. */
export function parseConsistencyBody(text: string): ConsistencyBody | null {
  const blank = text.indexOf("\n\n");
  if (blank < 0) return null;
  const head = text.slice(0, blank).split("\n");
  const note = text.slice(blank + 2).split("\n");
  const old = /^old (\d+)$/.exec(head[0] ?? "")?.[1];
  if (old === undefined || !DECIMAL.test(old) || !DECIMAL.test(note[1] ?? "")) return null;
  const hashes = head.slice(1).map(fromBase64);
  const root = fromBase64(note[2] ?? "");
  if (hashes.some((h) => h?.length !== 32) || root?.length !== 32 || hashes.length > 63) return null;
  return { oldSize: Number(old), hashes: hashes as Uint8Array[], size: Number(note[1]), root };
}

async function nodeHash(sha: Sha256, left: Uint8Array, right: Uint8Array): Promise<Uint8Array> {
  const buf = new Uint8Array(65);
  buf[0] = 1;
  buf.set(left, 1);
  buf.set(right, 33);
  return sha(buf);
}

export function equalBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** RFC 9162 §2.1.4.2: does `proof` show the tree of m leaves (root rootM) is a prefix of the one of n (rootN)? */
export async function verifyConsistency(
  sha: Sha256,
  m: number,
  n: number,
  proof: readonly Uint8Array[],
  rootM: Uint8Array,
  rootN: Uint8Array,
): Promise<boolean> {
  if (m > n || m < 0) return false;
  if (m === n) return proof.length === 0 && equalBytes(rootM, rootN);
  if (m === 0) return proof.length === 0;
  if (proof.length === 0) return false;
  const path = Number.isInteger(Math.log2(m)) ? [rootM, ...proof] : [...proof];
  let fn = m - 1;
  let sn = n - 1;
  while (fn % 2 === 1) {
    fn = (fn - 1) / 2;
    sn = Math.floor(sn / 2);
  }
  let fr = path[0] as Uint8Array;
  let sr = fr;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = await nodeHash(sha, c, fr);
      sr = await nodeHash(sha, c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = await nodeHash(sha, sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return equalBytes(fr, rootM) && equalBytes(sr, rootN) && sn === 0;
}
