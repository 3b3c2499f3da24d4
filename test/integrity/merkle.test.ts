import { createHash, randomBytes } from "node:crypto";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { IntegrityError } from "../../src/integrity/integrity-error.js";
import { EMPTY_ROOT, hashRun, leafHash, nodeHash, rootAt, TreeBuilder } from "../../src/integrity/merkle.js";
import { parseTilePath, storedRun, tilePath, tilesForSize } from "../../src/integrity/tiles.js";
import { MemoryHashStore } from "./memory-hash-store.js";
import { Rfc6962Tree } from "./rfc6962-reference.js";

// The RFC 6962 test tree of the certificate-transparency project: its eight leaves and the root at each size.
const CT_LEAVES = [
  "",
  "00",
  "10",
  "2021",
  "3031",
  "40414243",
  "5051525354555657",
  "606162636465666768696a6b6c6d6e6f",
];
const CT_ROOTS = [
  "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
  "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
  "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
  "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
  "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
  "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
  "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
  "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
];

function lines(n: number, seed = 0): Buffer[] {
  return Array.from({ length: n }, (_, i) => Buffer.from(`[2025-12-17T17:40:37Z] line ${seed}:${i}`));
}

function build(entries: readonly Buffer[]): { builder: TreeBuilder; store: MemoryHashStore } {
  const builder = TreeBuilder.empty();
  const store = new MemoryHashStore();
  store.add(builder.append(entries.map((e) => leafHash(e))));
  return { builder, store };
}

describe("leaf and node hashes", () => {
  it("are SHA-256 with the RFC 6962 domain prefixes", () => {
    const line = Buffer.from("hello");
    expect(leafHash(line)).toEqual(createHash("sha256").update(Buffer.of(0)).update(line).digest());
    const [a, b] = [randomBytes(32), randomBytes(32)];
    expect(nodeHash(a, b)).toEqual(createHash("sha256").update(Buffer.of(1)).update(a).update(b).digest());
    expect(EMPTY_ROOT.toString("hex")).toBe(
      "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    );
  });

  it("hash a line longer than the scratch buffer the same way", () => {
    const long = randomBytes(40_000);
    expect(leafHash(long)).toEqual(createHash("sha256").update(Buffer.of(0)).update(long).digest());
    // and a following short line is not polluted by the long one
    expect(leafHash(Buffer.from("x"))).toEqual(
      createHash("sha256")
        .update(Buffer.from([0, 0x78]))
        .digest(),
    );
  });

  it("return fresh buffers: a later hash does not change an earlier result", () => {
    const first = nodeHash(Buffer.alloc(32, 1), Buffer.alloc(32, 2));
    const copy = Buffer.from(first);
    nodeHash(Buffer.alloc(32, 3), Buffer.alloc(32, 4));
    leafHash(Buffer.from("other"));
    expect(first).toEqual(copy);
  });
});

describe("TreeBuilder", () => {
  it("gives the certificate-transparency test roots", () => {
    const builder = TreeBuilder.empty();
    expect(builder.root()).toEqual(EMPTY_ROOT);
    CT_LEAVES.forEach((hex, i) => {
      builder.append([leafHash(Buffer.from(hex, "hex"))]);
      expect(builder.root().toString("hex"), `size ${i + 1}`).toBe(CT_ROOTS[i]);
    });
  });

  it("agrees with the recursive RFC 6962 MTH at every size up to 600, whatever the batching", () => {
    const entries = lines(600);
    const ref = new Rfc6962Tree(entries);
    const builder = TreeBuilder.empty();
    let n = 0;
    let batch = 1;
    while (n < entries.length) {
      const next = entries.slice(n, n + batch).map((e) => leafHash(e));
      builder.append(next);
      n += next.length;
      expect(builder.size).toBe(n);
      expect(builder.root(), `size ${n}`).toEqual(ref.mth(0, n));
      batch = (batch * 7) % 13 || 1;
    }
  });

  it("reports the stored hashes of every level in the tlog-tiles layout", () => {
    const n = 256 * 256 + 300;
    const entries = lines(n);
    const ref = new Rfc6962Tree(entries);
    const { store } = build(entries);
    expect(store.levels.length).toBe(3);
    expect(store.levels[0]?.length).toBe(n);
    expect(store.levels[1]?.length).toBe(257);
    expect(store.levels[2]?.length).toBe(1);
    // level L index i = MTH of leaves [i·256^L, (i+1)·256^L)
    for (const i of [0, 1, 100, 255, 256]) expect(store.levels[1]?.[i]).toEqual(ref.mth(i * 256, 256));
    expect(store.levels[2]?.[0]).toEqual(ref.mth(0, 65536));
    expect(store.levels[0]?.[12345]).toEqual(leafHash(entries[12345] as Buffer));
  });

  it("reports each append's gains with the index they start at", () => {
    const builder = TreeBuilder.empty();
    expect(builder.append([])).toEqual([]);
    const first = builder.append(lines(255).map((l) => leafHash(l)));
    expect(first.map((g) => [g.level, g.start, g.hashes.length / 32])).toEqual([[0, 0, 255]]);
    const second = builder.append(lines(258, 1).map((l) => leafHash(l)));
    expect(second.map((g) => [g.level, g.start, g.hashes.length / 32])).toEqual([
      [0, 255, 258],
      [1, 0, 2],
    ]);
    expect(() => builder.append([Buffer.alloc(31)])).toThrow(RangeError);
  });

  it("resumes from a store at any size with the same frontier", async () => {
    const entries = lines(70_000, 2);
    const ref = new Rfc6962Tree(entries);
    const { store } = build(entries);
    for (const size of [0, 1, 2, 255, 256, 257, 511, 65535, 65536, 65537, 69_999]) {
      const resumed = await TreeBuilder.fromStore(store, size);
      expect(resumed.root(), `root at ${size}`).toEqual(ref.mth(0, size));
      expect(await rootAt(store, size), `rootAt ${size}`).toEqual(ref.mth(0, size));
      resumed.append(entries.slice(size, size + 300).map((e) => leafHash(e)));
      expect(resumed.root(), `root after resuming at ${size}`).toEqual(
        ref.mth(0, Math.min(size + 300, 70_000)),
      );
    }
  });

  it("reads a root of any size with at most one tile per level and set bit", async () => {
    const { store } = build(lines(70_000, 3));
    store.reads.length = 0;
    await rootAt(store, 69_999);
    expect(store.reads.every((r) => r.count <= 256)).toBe(true);
    // 69_999 = 1·65536 + 17·256 + 111: one run each at levels 2, 1 and 0
    expect(store.reads.map((r) => r.level).sort()).toEqual([0, 1, 2]);
  });
});

describe("hashRun", () => {
  it("hashes a power-of-two run of hashes as the subtree they form", () => {
    const leaves = lines(8).map((l) => leafHash(l));
    expect(hashRun(Buffer.concat(leaves))).toEqual(new Rfc6962Tree(lines(8)).mth());
    expect(() => hashRun(Buffer.concat(leaves.slice(0, 3)))).toThrow(RangeError);
  });
});

describe("tiles", () => {
  it("spells tile paths as tlog-tiles does", () => {
    expect(tilePath({ level: 0, index: 1234067, width: 256 })).toBe("tile/0/x001/x234/067");
    expect(tilePath({ level: 1, index: 0, width: 17 })).toBe("tile/1/000.p/17");
    expect(tilePath({ level: 2, index: 999, width: 256 })).toBe("tile/2/999");
    expect(tilePath({ level: 0, index: 1000, width: 1 })).toBe("tile/0/x001/000.p/1");
    expect(() => tilePath({ level: 0, index: 0, width: 0 })).toThrow(RangeError);
  });

  it("parses exactly the paths it spells", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 63 }),
        fc.maxSafeNat(),
        fc.integer({ min: 1, max: 256 }),
        (level, index, width) => {
          const tile = { level, index, width };
          expect(parseTilePath(tilePath(tile))).toEqual(tile);
        },
      ),
    );
    for (const bad of [
      "tile/0/1",
      "tile/0/x001/x234/67",
      "tile/0/001/234",
      "tile/00/001",
      "tile/64/001",
      "tile/0/x000/001",
      "tile/0/001.p/0",
      "tile/0/001.p/256",
      "tile/0/001.p/017",
      "tile/entries/001",
      "/tile/0/001",
    ]) {
      expect(() => parseTilePath(bad), bad).toThrow(IntegrityError);
    }
  });

  it("lists the tiles of the spec's example tree of 70,000 leaves", () => {
    const tiles = tilesForSize(70_000);
    const level0 = tiles.filter((t) => t.level === 0);
    expect(level0.filter((t) => t.width === 256).length).toBe(273);
    expect(level0.at(-1)).toEqual({ level: 0, index: 273, width: 112 });
    expect(tiles.filter((t) => t.level === 1)).toEqual([
      { level: 1, index: 0, width: 256 },
      { level: 1, index: 1, width: 17 },
    ]);
    expect(tiles.filter((t) => t.level === 2)).toEqual([{ level: 2, index: 0, width: 1 }]);
    expect(tilesForSize(256)).toEqual([
      { level: 0, index: 0, width: 256 },
      { level: 1, index: 0, width: 1 },
    ]);
    expect(tilesForSize(0)).toEqual([]);
  });

  it("maps an aligned subtree to one run of stored hashes", () => {
    expect(storedRun(512, 256)).toEqual({ level: 1, start: 2, count: 1 });
    expect(storedRun(1024, 512)).toEqual({ level: 1, start: 4, count: 2 });
    expect(storedRun(96, 32)).toEqual({ level: 0, start: 96, count: 32 });
    expect(storedRun(0, 2 ** 40)).toEqual({ level: 5, start: 0, count: 1 });
    expect(() => storedRun(3, 2)).toThrow(RangeError);
    expect(() => storedRun(0, 3)).toThrow(RangeError);
  });
});

describe("bad sizes", () => {
  it("are refused before any read", async () => {
    const { store } = build(lines(10));
    for (const size of [-1, 2.5, Number.NaN, 2 ** 53]) {
      await expect(rootAt(store, size), String(size)).rejects.toThrow(IntegrityError);
      await expect(TreeBuilder.fromStore(store, size), String(size)).rejects.toThrow(IntegrityError);
    }
    expect(store.reads).toEqual([]);
  });

  it("a reused leaf buffer does not change the tree", () => {
    const reused = Buffer.alloc(32);
    const a = TreeBuilder.empty();
    const b = TreeBuilder.empty();
    for (let i = 0; i < 5; i++) {
      const h = leafHash(Buffer.from(`line ${i}`));
      h.copy(reused);
      a.append([reused]);
      b.append([h]);
    }
    reused.fill(0);
    expect(a.root()).toEqual(b.root());
  });
});
