import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { signCheckpoint } from "../../src/integrity/checkpoint.js";
import { IntegrityError } from "../../src/integrity/integrity-error.js";
import { EMPTY_ROOT, leafHash, TreeBuilder } from "../../src/integrity/merkle.js";
import { generateKey, parseNote, parseSignerKey, parseVerifierKey } from "../../src/integrity/note.js";
import {
  encodeConsistencyProof,
  encodeInclusionProof,
  parseConsistencyProof,
  parseInclusionProof,
  verifyConsistencyProof,
  verifyInclusionProof,
} from "../../src/integrity/proof-format.js";
import {
  consistencyProof,
  inclusionProof,
  verifyConsistency,
  verifyInclusion,
} from "../../src/integrity/proofs.js";
import { TILE_WIDTH } from "../../src/integrity/tiles.js";
import { MemoryHashStore } from "./memory-hash-store.js";
import { Rfc6962Tree } from "./rfc6962-reference.js";

function tree(n: number, seed: string) {
  const entries = Array.from({ length: n }, (_, i) => Buffer.from(`${seed} entry ${i}`));
  const builder = TreeBuilder.empty();
  const store = new MemoryHashStore();
  store.add(builder.append(entries.map((e) => leafHash(e))));
  return { entries, store, ref: new Rfc6962Tree(entries) };
}

/** Every one-hash change of a proof: a flipped bit, a hash dropped, one added, two swapped. */
function mutations(proof: Buffer[]): Buffer[][] {
  const out: Buffer[][] = [];
  proof.forEach((h, i) => {
    const flipped = Buffer.from(h);
    flipped[i % 32] = (flipped[i % 32] as number) ^ 0x01;
    out.push(proof.map((p, j) => (j === i ? flipped : p)));
    out.push(proof.filter((_, j) => j !== i));
    if (i + 1 < proof.length) {
      const swapped = [...proof];
      [swapped[i], swapped[i + 1]] = [swapped[i + 1] as Buffer, swapped[i] as Buffer];
      if (!swapped[i]?.equals(swapped[i + 1] as Buffer)) out.push(swapped);
    }
  });
  out.push([...proof, Buffer.alloc(32, 7)]);
  return out;
}

const SMALL = 70;

describe("inclusion proofs", () => {
  it("equal RFC 6962 PATH for every leaf of every tree up to 70 leaves, and verify", async () => {
    const { entries, store, ref } = tree(SMALL, "small");
    for (let n = 1; n <= SMALL; n++) {
      const root = ref.mth(0, n);
      for (let i = 0; i < n; i++) {
        const proof = await inclusionProof(store, i, n);
        expect(proof, `PATH(${i}, D[${n}])`).toEqual(ref.path(i, 0, n));
        const leaf = leafHash(entries[i] as Buffer);
        expect(verifyInclusion(leaf, i, n, proof, root), `verify ${i} in ${n}`).toBe(true);
      }
    }
  });

  it("reject a changed proof, leaf, index, size or root", async () => {
    const { entries, store, ref } = tree(SMALL + 1, "mut");
    for (let n = 1; n <= SMALL; n++) {
      const root = ref.mth(0, n);
      for (let i = 0; i < n; i++) {
        const proof = await inclusionProof(store, i, n);
        const leaf = leafHash(entries[i] as Buffer);
        for (const bad of mutations(proof)) expect(verifyInclusion(leaf, i, n, bad, root)).toBe(false);
        expect(verifyInclusion(leafHash(Buffer.from("other")), i, n, proof, root)).toBe(false);
        if (i + 1 < n) expect(verifyInclusion(leaf, i + 1, n, proof, root)).toBe(false);
        if (i > 0) expect(verifyInclusion(leaf, i - 1, n, proof, root)).toBe(false);
        expect(verifyInclusion(leaf, i, n + 1, proof, ref.mth(0, n + 1))).toBe(false);
        expect(verifyInclusion(leaf, i, n, proof, ref.mth(0, n === 1 ? 2 : n - 1))).toBe(false);
      }
    }
  });

  it("are refused for an index outside the tree", async () => {
    const { store, entries } = tree(5, "range");
    await expect(inclusionProof(store, 5, 5)).rejects.toThrow(IntegrityError);
    await expect(inclusionProof(store, -1, 5)).rejects.toThrow(IntegrityError);
    await expect(inclusionProof(store, 0, 0)).rejects.toThrow(IntegrityError);
    await expect(inclusionProof(store, 0.5, 5)).rejects.toThrow(IntegrityError);
    const leaf = leafHash(entries[0] as Buffer);
    expect(verifyInclusion(leaf, 0, 0, [], EMPTY_ROOT)).toBe(false);
    expect(verifyInclusion(leaf, 5, 5, [], EMPTY_ROOT)).toBe(false);
    expect(verifyInclusion(leaf, -1, 5, [], EMPTY_ROOT)).toBe(false);
    expect(verifyInclusion(leaf, 0, 1, [Buffer.alloc(31)], leaf)).toBe(false);
    expect(verifyInclusion(leaf, 0, 1, [], leaf)).toBe(true);
  });
});

describe("consistency proofs", () => {
  it("equal RFC 6962 PROOF for every (m, n) up to 70 leaves, and verify", async () => {
    const { store, ref } = tree(SMALL, "cons");
    for (let n = 0; n <= SMALL; n++) {
      for (let m = 0; m <= n; m++) {
        const proof = await consistencyProof(store, m, n);
        const expected = m === 0 || m === n ? [] : ref.proof(m, n);
        expect(proof, `PROOF(${m}, D[${n}])`).toEqual(expected);
        expect(verifyConsistency(m, n, proof, ref.mth(0, m), ref.mth(0, n)), `verify ${m}→${n}`).toBe(true);
      }
    }
  });

  it("reject a changed proof, size or root", async () => {
    const { store, ref } = tree(SMALL, "cmut");
    for (let n = 2; n <= SMALL; n++) {
      for (let m = 1; m < n; m++) {
        const proof = await consistencyProof(store, m, n);
        const [r1, r2] = [ref.mth(0, m), ref.mth(0, n)];
        for (const bad of mutations(proof))
          expect(verifyConsistency(m, n, bad, r1, r2), `${m}→${n}`).toBe(false);
        expect(verifyConsistency(m, n, proof, ref.mth(0, m - 1), r2)).toBe(false);
        expect(verifyConsistency(m, n, proof, r1, ref.mth(0, n - 1))).toBe(false);
        expect(verifyConsistency(m, n, proof, r2, r1)).toBe(false);
        if (n + 1 <= SMALL) expect(verifyConsistency(m, n + 1, proof, r1, ref.mth(0, n + 1))).toBe(false);
        if (m + 1 < n) expect(verifyConsistency(m + 1, n, proof, ref.mth(0, m + 1), r2)).toBe(false);
      }
    }
  });

  it("handle the equal and empty cases", async () => {
    const { ref } = tree(4, "edge");
    const r = ref.mth(0, 4);
    expect(verifyConsistency(4, 4, [], r, r)).toBe(true);
    expect(verifyConsistency(4, 4, [], r, ref.mth(0, 3))).toBe(false);
    expect(verifyConsistency(4, 4, [r], r, r)).toBe(false);
    expect(verifyConsistency(0, 4, [], EMPTY_ROOT, r)).toBe(true);
    expect(verifyConsistency(0, 4, [r], EMPTY_ROOT, r)).toBe(false);
    expect(verifyConsistency(5, 4, [], r, r)).toBe(false);
    expect(verifyConsistency(2, 4, [], ref.mth(0, 2), r)).toBe(false);
  });

  it("are refused for sizes the tree does not have", async () => {
    const { store } = tree(5, "range");
    await expect(consistencyProof(store, 4, 3)).rejects.toThrow(IntegrityError);
    await expect(consistencyProof(store, -1, 3)).rejects.toThrow(IntegrityError);
    // the store has no hashes past 5 leaves: the read fails rather than inventing a tree
    await expect(consistencyProof(store, 3, 9)).rejects.toThrow();
  });
});

describe("proofs in large trees, from tiles", () => {
  const N = 100_000;
  const big = tree(N, "big");

  it("match the RFC at random indexes and sizes up to 100k leaves", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: N }), fc.nat(), fc.nat(), async (n, a, b) => {
        const i = a % n;
        const m = b % (n + 1);
        const root = big.ref.mth(0, n);
        const path = await inclusionProof(big.store, i, n);
        expect(path).toEqual(big.ref.path(i, 0, n));
        expect(verifyInclusion(leafHash(big.entries[i] as Buffer), i, n, path, root)).toBe(true);
        const proof = await consistencyProof(big.store, m, n);
        expect(proof).toEqual(m === 0 || m === n ? [] : big.ref.proof(m, n));
        expect(verifyConsistency(m, n, proof, big.ref.mth(0, m), root)).toBe(true);
      }),
      { numRuns: 60 },
    );
  });

  it("around tile boundaries", async () => {
    const sizes = [255, 256, 257, 65535, 65536, 65537, 99_999, N];
    for (const n of sizes) {
      for (const i of [0, 254, 255, 256, n - 257, n - 256, n - 1].filter((x) => x >= 0 && x < n)) {
        expect(await inclusionProof(big.store, i, n), `${i} in ${n}`).toEqual(big.ref.path(i, 0, n));
      }
      for (const m of sizes.filter((s) => s < n)) {
        expect(await consistencyProof(big.store, m, n), `${m}→${n}`).toEqual(big.ref.proof(m, n));
      }
    }
  });

  it("read whole tiles, at most two per level", async () => {
    await fc.assert(
      fc.asyncProperty(fc.integer({ min: 1, max: N }), fc.nat(), fc.nat(), async (n, a, b) => {
        for (const make of [
          () => inclusionProof(big.store, a % n, n),
          () => consistencyProof(big.store, b % n, n),
        ]) {
          big.store.reads.length = 0;
          await make();
          const perLevel = new Map<number, number>();
          for (const r of big.store.reads) {
            expect(r.count).toBeLessThanOrEqual(TILE_WIDTH);
            expect(r.start % TILE_WIDTH).toBe(0);
            perLevel.set(r.level, (perLevel.get(r.level) ?? 0) + 1);
          }
          for (const count of perLevel.values()) expect(count).toBeLessThanOrEqual(2);
        }
      }),
      { numRuns: 100 },
    );
  });
});

// Proof texts: c2sp.org/tlog-proof for inclusion, tlog-witness's add-checkpoint body for consistency.
const SPEC_CHECKPOINT =
  "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n" +
  "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n";
// c2sp.org/tlog-witness's example add-checkpoint request body, exactly.
const SPEC_ADD_CHECKPOINT =
  "old 20852014\nPlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\njrJZDmY8Y7SyJE0MWLpLozkIVMSMZcD5kvuKxPC3swk=\n" +
  "5+pKlUdi2LeF/BcMHBn+Ku6yhPGNCswZZD1X/6QgPd8=\n/6WVhPs2CwSsb5rYBH5cjHV/wSmA79abXAwhXw3Kj/0=\n\n" +
  "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n\n" +
  "— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n" +
  "— example.com/behind-the-sofa opLqBQsREYCgu6xQkYQwJr9fo45a62DN9EdmHXnZdXNqlcVGlCum2Wks+49/V6267UEjw6QUXTS5Rovnzv++qbSzm9Q=\n";
// The head of c2sp.org/tlog-proof's example (its checkpoint's signatures are elided there, so ours follows).
const SPEC_PROOF_HEAD =
  "c2sp.org/tlog-proof@v1\nextra YWdlLXYxLjIuMS1kYXJ3aW4tYXJtNjQudGFyLmd6kYXJ3aW4tYXJ\nindex 73894\n" +
  "gSKyXoYZUgZ6jduWYrkDOARinOMGJveXjgMkBTcdPlQ=\nB95lDa8R83lS8n0eG+o0buTxRKQTYFi//1U8anccXmA=\n" +
  "EKNzoDWG8LGC0Yp9o+sv3qllpMP9uHQ9B20KNL+Q1zs=\nRoopEkOdqkYqMB4MJXrbt/hMjOxsVn0IrWjpz1ZMMes=\n" +
  "AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=\n";

function errorCode(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof IntegrityError) return e.code;
    throw e;
  }
  return "accepted";
}

describe("proof texts", () => {
  it("read tlog-witness's add-checkpoint example and write it back byte for byte", () => {
    const p = parseConsistencyProof(SPEC_ADD_CHECKPOINT);
    expect(p.oldSize).toBe(20852014);
    expect(p.hashes.map((h) => h.toString("base64"))[0]).toBe("PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=");
    expect(p.hashes).toHaveLength(4);
    expect(parseNote(p.checkpoint).signatures).toHaveLength(2);
    expect(encodeConsistencyProof(p)).toBe(SPEC_ADD_CHECKPOINT);
  });

  it("read tlog-proof's example head and write it back byte for byte", () => {
    const text = `${SPEC_PROOF_HEAD}\n${SPEC_CHECKPOINT}`;
    const p = parseInclusionProof(text);
    expect(p.index).toBe(73894);
    expect(p.extra?.subarray(0, 23).toString()).toBe("age-v1.2.1-darwin-arm64");
    expect(p.hashes).toHaveLength(5);
    expect(p.checkpoint).toBe(SPEC_CHECKPOINT);
    expect(encodeInclusionProof(p)).toBe(text);
    const { extra: _, ...bare } = p;
    expect(encodeInclusionProof(bare)).toBe(text.replace(/extra \S+\n/, ""));
    expect(parseInclusionProof(encodeInclusionProof({ ...bare, hashes: [] }))).toEqual({
      ...bare,
      hashes: [],
    });
  });

  it("refuse other spellings", () => {
    const good = `${SPEC_PROOF_HEAD}\n${SPEC_CHECKPOINT}`;
    const cases = [
      good.replace("c2sp.org/tlog-proof@v1", "c2sp.org/tlog-proof@v2"),
      good.replace("index 73894", "index 073894"),
      good.replace("index 73894", "index  73894"),
      good.replace("index 73894\n", ""),
      good.replace("extra YWdl", "extra  YWdl"),
      good.replace(/extra \S+/, "extra "),
      good.replace(
        "AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=",
        "AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk",
      ),
      good.replace(
        "AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vk=",
        "AHCioX9nLjsrse6YhjRRmk1WUEirVOLLRoOQ6vfO5vl=",
      ),
      good.replace("\n\n", "\n"),
      good.slice(0, -1),
      `${SPEC_PROOF_HEAD}\n`,
      good.replace("AHCio", "\nAHCio"),
    ];
    for (const text of cases)
      expect(
        errorCode(() => parseInclusionProof(text)),
        JSON.stringify(text),
      ).toBe("malformed-proof");
    const many = `old 1\n${"PlRNCrwHpqhGrupue0L7gxbjbMiKA9temvuZZDDpkaw=\n".repeat(64)}\n${SPEC_CHECKPOINT}`;
    expect(errorCode(() => parseConsistencyProof(many))).toBe("malformed-proof");
    expect(errorCode(() => parseConsistencyProof(SPEC_ADD_CHECKPOINT.replace("old ", "new ")))).toBe(
      "malformed-proof",
    );
    expect(errorCode(() => parseConsistencyProof(`old 1\n\n${"x".repeat(200_000)}`))).toBe("too-large");
  });

  const log = generateKey("livetrail.example/audit");
  const logKeys = [parseVerifierKey(log.verifierKey)];
  const signer = parseSignerKey(log.signerKey);

  it("verify a livetrail inclusion proof end to end, and refuse a wrong leaf, key or origin", async () => {
    const { entries, store, ref } = tree(1000, "e2e");
    const checkpoint = signCheckpoint(
      { origin: "livetrail.example/audit", size: 1000, rootHash: ref.mth(), extensions: [] },
      [signer],
    );
    const text = encodeInclusionProof({
      index: 417,
      hashes: await inclusionProof(store, 417, 1000),
      checkpoint,
    });
    const p = parseInclusionProof(text);
    const leaf = leafHash(entries[417] as Buffer);
    expect(verifyInclusionProof(p, leaf, "livetrail.example/audit", logKeys).checkpoint.size).toBe(1000);
    expect(
      errorCode(() =>
        verifyInclusionProof(p, leafHash(Buffer.from("x")), "livetrail.example/audit", logKeys),
      ),
    ).toBe("invalid-proof");
    expect(
      errorCode(() => verifyInclusionProof({ ...p, index: 416 }, leaf, "livetrail.example/audit", logKeys)),
    ).toBe("invalid-proof");
    expect(errorCode(() => verifyInclusionProof(p, leaf, "livetrail.example/other", logKeys))).toBe(
      "wrong-origin",
    );
    const other = [parseVerifierKey(generateKey("livetrail.example/audit").verifierKey)];
    expect(errorCode(() => verifyInclusionProof(p, leaf, "livetrail.example/audit", other))).toBe(
      "unverified-note",
    );
  });

  it("verify a consistency proof as a witness would", async () => {
    const { store, ref } = tree(1000, "witness");
    const checkpoint = signCheckpoint(
      { origin: "livetrail.example/audit", size: 1000, rootHash: ref.mth(), extensions: [] },
      [signer],
    );
    const body = encodeConsistencyProof({
      oldSize: 300,
      hashes: await consistencyProof(store, 300, 1000),
      checkpoint,
    });
    const p = parseConsistencyProof(body);
    const old = { size: 300, rootHash: ref.mth(0, 300) };
    expect(verifyConsistencyProof(p, old, "livetrail.example/audit", logKeys).checkpoint.size).toBe(1000);
    expect(
      errorCode(() =>
        verifyConsistencyProof(
          p,
          { size: 300, rootHash: ref.mth(0, 299) },
          "livetrail.example/audit",
          logKeys,
        ),
      ),
    ).toBe("invalid-proof");
    expect(
      errorCode(() =>
        verifyConsistencyProof(
          p,
          { size: 301, rootHash: ref.mth(0, 301) },
          "livetrail.example/audit",
          logKeys,
        ),
      ),
    ).toBe("invalid-proof");
    // From the empty tree: no proof lines, any tree extends it.
    const fromEmpty = parseConsistencyProof(encodeConsistencyProof({ oldSize: 0, hashes: [], checkpoint }));
    expect(
      verifyConsistencyProof(fromEmpty, { size: 0, rootHash: EMPTY_ROOT }, "livetrail.example/audit", logKeys)
        .checkpoint.size,
    ).toBe(1000);
    // An empty tree must have the empty root.
    const badEmpty = signCheckpoint(
      { origin: "livetrail.example/audit", size: 0, rootHash: ref.mth(), extensions: [] },
      [signer],
    );
    const p0 = parseConsistencyProof(
      encodeConsistencyProof({ oldSize: 0, hashes: [], checkpoint: badEmpty }),
    );
    expect(
      errorCode(() =>
        verifyConsistencyProof(p0, { size: 0, rootHash: EMPTY_ROOT }, "livetrail.example/audit", logKeys),
      ),
    ).toBe("invalid-proof");
  });
});
