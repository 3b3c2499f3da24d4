/**
 * RFC 9162 §2.1.3 / §2.1.4: inclusion and consistency proofs, generated from stored hashes and verified by the
 * RFC's iterative algorithms. Generation follows the RFC's recursive PATH and SUBPROOF definitions; every hash
 * it needs is an aligned subtree on the leaf's path or on the tree's right edge, so it reads at most two tiles
 * per level (see docs/integrity.md).
 */

import { IntegrityError } from "./integrity-error.js";
import { nodeHash, splitPoint, subtreeHash } from "./merkle.js";
import { HASH_SIZE, type HashStore, TileReader } from "./tiles.js";

/** A subtree [start, start+size) whose Merkle tree hash a proof carries. */
interface Span {
  start: number;
  size: number;
}

function checkSize(n: number, what: string): void {
  if (!Number.isSafeInteger(n) || n < 0)
    throw new IntegrityError("out-of-range", `${what} ${n} is not a size`);
}

/** PATH(m, D[start : start+n]) as subtree spans, leaf's sibling first. */
function pathSpans(m: number, start: number, n: number, out: Span[]): void {
  if (n <= 1) return;
  const k = splitPoint(n);
  if (m < k) {
    pathSpans(m, start, k, out);
    out.push({ start: start + k, size: n - k });
  } else {
    pathSpans(m - k, start + k, n - k, out);
    out.push({ start, size: k });
  }
}

/** SUBPROOF(m, D[start : start+n], b) as subtree spans, smallest first. */
function subproofSpans(m: number, start: number, n: number, b: boolean, out: Span[]): void {
  if (m === n) {
    if (!b) out.push({ start, size: n });
    return;
  }
  const k = splitPoint(n);
  if (m <= k) {
    subproofSpans(m, start, k, b, out);
    out.push({ start: start + k, size: n - k });
  } else {
    subproofSpans(m - k, start + k, n - k, false, out);
    out.push({ start, size: k });
  }
}

async function hashesOf(store: HashStore, size: number, spans: Span[]): Promise<Buffer[]> {
  const reader = new TileReader(store, size);
  const out: Buffer[] = [];
  for (const s of spans) out.push(await subtreeHash(reader, s.start, s.size));
  return out;
}

/** The audit path of leaf `index` in the tree of `size` leaves (RFC 9162 §2.1.3.1). */
export async function inclusionProof(store: HashStore, index: number, size: number): Promise<Buffer[]> {
  checkSize(size, "tree size");
  if (!Number.isSafeInteger(index) || index < 0 || index >= size) {
    throw new IntegrityError("out-of-range", `leaf ${index} is not in a tree of ${size}`);
  }
  const spans: Span[] = [];
  pathSpans(index, 0, size, spans);
  return hashesOf(store, size, spans);
}

/** The consistency proof from the tree of `m` leaves to that of `n` (RFC 9162 §2.1.4.1); empty when m is 0 or n. */
export async function consistencyProof(store: HashStore, m: number, n: number): Promise<Buffer[]> {
  checkSize(m, "old size");
  checkSize(n, "new size");
  if (m > n) throw new IntegrityError("out-of-range", `old size ${m} is beyond new size ${n}`);
  const spans: Span[] = [];
  if (m > 0 && m < n) subproofSpans(m, 0, n, true, spans);
  return hashesOf(store, n, spans);
}

function isHashList(proof: readonly Uint8Array[]): boolean {
  return proof.every((h) => h.length === HASH_SIZE);
}

/** RFC 9162 §2.1.3.2: does `proof` put leaf hash `leaf` at `index` in the tree of `size` with root `root`? */
export function verifyInclusion(
  leaf: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[],
  root: Uint8Array,
): boolean {
  if (!Number.isSafeInteger(index) || !Number.isSafeInteger(size) || index < 0 || index >= size) return false;
  if (leaf.length !== HASH_SIZE || root.length !== HASH_SIZE || !isHashList(proof)) return false;
  // fn and sn as the RFC's bit strings; halving instead of >> keeps sizes above 2^31 exact.
  let fn = index;
  let sn = size - 1;
  let r: Uint8Array = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && Buffer.from(r).equals(root);
}

/** RFC 9162 §2.1.4.2: does `proof` show the tree of `m` leaves (root `rootM`) is a prefix of that of `n`? */
export function verifyConsistency(
  m: number,
  n: number,
  proof: readonly Uint8Array[],
  rootM: Uint8Array,
  rootN: Uint8Array,
): boolean {
  if (!Number.isSafeInteger(m) || !Number.isSafeInteger(n) || m < 0 || m > n) return false;
  if (rootM.length !== HASH_SIZE || rootN.length !== HASH_SIZE || !isHashList(proof)) return false;
  if (m === n) return proof.length === 0 && Buffer.from(rootM).equals(rootN);
  // Every tree extends the empty one; there is nothing to prove.
  if (m === 0) return proof.length === 0;
  if (proof.length === 0) return false;
  const path = Number.isInteger(Math.log2(m)) ? [rootM, ...proof] : [...proof];
  let fn = m - 1;
  let sn = n - 1;
  while (fn % 2 === 1) {
    fn = (fn - 1) / 2;
    sn = Math.floor(sn / 2);
  }
  let fr: Uint8Array = path[0] as Uint8Array;
  let sr: Uint8Array = fr;
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return Buffer.from(fr).equals(rootM) && Buffer.from(sr).equals(rootN) && sn === 0;
}
