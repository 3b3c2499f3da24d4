/**
 * RFC 6962 §2.1 written as the RFC writes it: recursive MTH, PATH and PROOF over an in-memory list of entries.
 * Independent of src/integrity (its own hashing), so the tests compare two readings of the RFC.
 */
import { createHash } from "node:crypto";

function sha256(...parts: Uint8Array[]): Buffer {
  const h = createHash("sha256");
  for (const p of parts) h.update(p);
  return h.digest();
}

export class Rfc6962Tree {
  readonly #memo = new Map<string, Buffer>();
  constructor(readonly entries: readonly Uint8Array[]) {}

  /** MTH(D[start : start+n]) */
  mth(start = 0, n = this.entries.length): Buffer {
    const key = `${start}+${n}`;
    const hit = this.#memo.get(key);
    if (hit) return hit;
    let out: Buffer;
    if (n === 0) out = sha256();
    else if (n === 1) out = sha256(Buffer.of(0), this.entries[start] as Uint8Array);
    else {
      const k = largestPowerOfTwoBelow(n);
      out = sha256(Buffer.of(1), this.mth(start, k), this.mth(start + k, n - k));
    }
    this.#memo.set(key, out);
    return out;
  }

  /** PATH(m, D[start : start+n]) */
  path(m: number, start = 0, n = this.entries.length): Buffer[] {
    if (n <= 1) return [];
    const k = largestPowerOfTwoBelow(n);
    if (m < k) return [...this.path(m, start, k), this.mth(start + k, n - k)];
    return [...this.path(m - k, start + k, n - k), this.mth(start, k)];
  }

  /** PROOF(m, D[n]) = SUBPROOF(m, D[n], true) */
  proof(m: number, n: number): Buffer[] {
    return this.#subproof(m, 0, n, true);
  }

  #subproof(m: number, start: number, n: number, b: boolean): Buffer[] {
    if (m === n) return b ? [] : [this.mth(start, n)];
    const k = largestPowerOfTwoBelow(n);
    if (m <= k) return [...this.#subproof(m, start, k, b), this.mth(start + k, n - k)];
    return [...this.#subproof(m - k, start + k, n - k, false), this.mth(start, k)];
  }
}

function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}
