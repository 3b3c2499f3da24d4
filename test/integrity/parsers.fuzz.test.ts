/**
 * The parsers against hostile input: whatever comes in, they return or throw IntegrityError (never another
 * error, never a crash), and no changed byte is ever accepted as the original.
 */
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { formatCheckpoint, parseCheckpoint, signCheckpoint } from "../../src/integrity/checkpoint.js";
import { cosign, parseCosignerKey, parseCosignerVerifierKey } from "../../src/integrity/cosignature.js";
import { IntegrityError } from "../../src/integrity/integrity-error.js";
import { leafHash, TreeBuilder } from "../../src/integrity/merkle.js";
import {
  decodeSignerKey,
  decodeVerifierKey,
  generateKey,
  openNote,
  parseNote,
  parseSignerKey,
  parseVerifierKey,
  SIG_COSIGNATURE_V1,
} from "../../src/integrity/note.js";
import {
  encodeConsistencyProof,
  encodeInclusionProof,
  parseConsistencyProof,
  parseInclusionProof,
  verifyInclusionProof,
} from "../../src/integrity/proof-format.js";
import { consistencyProof, inclusionProof } from "../../src/integrity/proofs.js";
import { parseTilePath, tilePath } from "../../src/integrity/tiles.js";
import { MemoryHashStore } from "./memory-hash-store.js";

const ORIGIN = "livetrail.example/audit";
const log = generateKey(ORIGIN);
const witness = generateKey("witness.example/w1", SIG_COSIGNATURE_V1);
const logKey = parseVerifierKey(log.verifierKey);
const witnessKey = parseCosignerVerifierKey(witness.verifierKey);

const entries = Array.from({ length: 300 }, (_, i) => Buffer.from(`[2025-12-17T17:40:37Z] entry ${i}`));
const store = new MemoryHashStore();
const builder = TreeBuilder.empty();
store.add(builder.append(entries.map((e) => leafHash(e))));

const CHECKPOINT_TEXT = formatCheckpoint({
  origin: ORIGIN,
  size: 300,
  rootHash: builder.root(),
  file: { identity: "1.3f2a9c0d11e4.256", bytes: 9876 },
  prev: { size: 12, rootHash: Buffer.alloc(32, 5) },
  extensions: ["x-other value"],
});
const SIGNED = signCheckpoint(parseCheckpoint(CHECKPOINT_TEXT), [parseSignerKey(log.signerKey)]);
const COSIGNED = cosign(
  SIGNED,
  parseCosignerKey(witness.signerKey, () => 1_700_000_000_000),
);

/** Run `f`; an IntegrityError is an answer, any other throw fails the test. */
function outcome<T>(f: () => T): T | IntegrityError {
  try {
    return f();
  } catch (e) {
    if (e instanceof IntegrityError) return e;
    throw e;
  }
}

/** One byte replaced, deleted or inserted. */
const byteChange = (length: number) =>
  fc.oneof(
    fc.record({
      kind: fc.constant("set" as const),
      at: fc.nat({ max: length - 1 }),
      byte: fc.integer({ min: 0, max: 255 }),
    }),
    fc.record({
      kind: fc.constant("delete" as const),
      at: fc.nat({ max: length - 1 }),
      byte: fc.constant(0),
    }),
    fc.record({
      kind: fc.constant("insert" as const),
      at: fc.nat({ max: length }),
      byte: fc.integer({ min: 0, max: 255 }),
    }),
  );

function change(
  bytes: Buffer,
  c: { kind: "set" | "delete" | "insert"; at: number; byte: number },
): Buffer | undefined {
  if (c.kind === "set") {
    if (bytes[c.at] === c.byte) return undefined;
    const out = Buffer.from(bytes);
    out[c.at] = c.byte;
    return out;
  }
  if (c.kind === "delete") return Buffer.concat([bytes.subarray(0, c.at), bytes.subarray(c.at + 1)]);
  return Buffer.concat([bytes.subarray(0, c.at), Buffer.of(c.byte), bytes.subarray(c.at)]);
}

// Strings built from the formats' own pieces find deeper paths than uniform noise.
const pieces = fc.constantFrom(
  "\n",
  "\n\n",
  "— ",
  " ",
  "+",
  "=",
  "index ",
  "old ",
  "extra ",
  "c2sp.org/tlog-proof@v1\n",
  "livetrail-file ",
  "livetrail-prev ",
  "PRIVATE+KEY+",
  "0",
  "300",
  "AAAA",
  "\u00e9",
  "\ud800",
  "\u0000",
  "\r",
  ORIGIN,
  builder.root().toString("base64"),
  log.verifierKey,
  SIGNED,
  CHECKPOINT_TEXT,
);
const hostile = fc.oneof(
  fc.string({ unit: "binary", maxLength: 400 }),
  fc.array(pieces, { maxLength: 12 }).map((p) => p.join("")),
);

describe("parsers never throw anything but IntegrityError", () => {
  it("on hostile strings", () => {
    const parsers: ((s: string) => unknown)[] = [
      parseNote,
      (s) => openNote(s, [logKey, witnessKey]),
      decodeVerifierKey,
      decodeSignerKey,
      parseVerifierKey,
      parseSignerKey,
      (s) => parseCosignerVerifierKey(s),
      (s) => parseCosignerKey(s),
      parseCheckpoint,
      parseInclusionProof,
      parseConsistencyProof,
      parseTilePath,
    ];
    fc.assert(
      fc.property(hostile, (s) => {
        for (const parse of parsers) outcome(() => parse(s));
      }),
      { numRuns: 3000 },
    );
  });

  it("on hostile bytes", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 400 }), (bytes) => {
        outcome(() => parseNote(bytes));
        outcome(() => openNote(bytes, [logKey]));
      }),
      { numRuns: 2000 },
    );
  });
});

describe("no changed byte is accepted", () => {
  it("a note signed once: every deletion and any replacement or insertion is refused", () => {
    const bytes = Buffer.from(SIGNED);
    expect(openNote(bytes, [logKey]).verified).toHaveLength(1);
    for (let at = 0; at < bytes.length; at++) {
      const changed = change(bytes, { kind: "delete", at, byte: 0 }) as Buffer;
      expect(
        outcome(() => openNote(changed, [logKey])),
        `delete ${at}`,
      ).toBeInstanceOf(IntegrityError);
    }
    fc.assert(
      fc.property(byteChange(bytes.length), (c) => {
        const changed = change(bytes, c);
        if (changed) expect(outcome(() => openNote(changed, [logKey]))).toBeInstanceOf(IntegrityError);
      }),
      { numRuns: 4000 },
    );
  });

  it("a cosigned note: refused, or opened with that signature no longer counted", () => {
    const bytes = Buffer.from(COSIGNED);
    expect(openNote(bytes, [logKey, witnessKey]).verified).toHaveLength(2);
    fc.assert(
      fc.property(byteChange(bytes.length), (c) => {
        const changed = change(bytes, c);
        if (!changed) return;
        const result = outcome(() => openNote(changed, [logKey, witnessKey]));
        // A changed name or key ID makes a line a stranger's, which the spec says to ignore: never counted.
        if (!(result instanceof IntegrityError)) expect(result.verified.length).toBeLessThan(2);
      }),
      { numRuns: 4000 },
    );
  });

  it("a checkpoint text: refused, or read as a different checkpoint that formats to exactly the changed text", () => {
    const bytes = Buffer.from(CHECKPOINT_TEXT);
    fc.assert(
      fc.property(byteChange(bytes.length), (c) => {
        const changed = change(bytes, c);
        if (!changed) return;
        const text = changed.toString();
        const result = outcome(() => parseCheckpoint(text));
        if (!(result instanceof IntegrityError)) {
          expect(formatCheckpoint(result)).toBe(text);
          expect(text).not.toBe(CHECKPOINT_TEXT);
        }
      }),
      { numRuns: 4000 },
    );
  });

  it("an inclusion proof: refused when parsed or when verified", async () => {
    const text = encodeInclusionProof({
      index: 137,
      hashes: await inclusionProof(store, 137, 300),
      checkpoint: SIGNED,
    });
    const leaf = leafHash(entries[137] as Buffer);
    expect(verifyInclusionProof(parseInclusionProof(text), leaf, ORIGIN, [logKey]).checkpoint.size).toBe(300);
    const bytes = Buffer.from(text);
    const check = (changed: Buffer) => {
      const result = outcome(() =>
        verifyInclusionProof(parseInclusionProof(changed.toString()), leaf, ORIGIN, [logKey]),
      );
      expect(result).toBeInstanceOf(IntegrityError);
    };
    for (let at = 0; at < bytes.length; at++) check(change(bytes, { kind: "delete", at, byte: 0 }) as Buffer);
    fc.assert(
      fc.property(byteChange(bytes.length), (c) => {
        const changed = change(bytes, c);
        if (changed) check(changed);
      }),
      { numRuns: 4000 },
    );
  });

  it("a consistency proof: refused, or read back to exactly the changed text", async () => {
    const text = encodeConsistencyProof({
      oldSize: 100,
      hashes: await consistencyProof(store, 100, 300),
      checkpoint: SIGNED,
    });
    const bytes = Buffer.from(text);
    fc.assert(
      fc.property(byteChange(bytes.length), (c) => {
        const changed = change(bytes, c);
        if (!changed) return;
        const s = changed.toString();
        const result = outcome(() => parseConsistencyProof(s));
        if (!(result instanceof IntegrityError)) expect(encodeConsistencyProof(result)).toBe(s);
      }),
      { numRuns: 3000 },
    );
  });

  it("a verifier or signer key: every changed byte is refused", () => {
    for (const [key, parse] of [
      [log.verifierKey, parseVerifierKey],
      [log.signerKey, parseSignerKey],
    ] as const) {
      fc.assert(
        fc.property(byteChange(key.length), (c) => {
          const changed = change(Buffer.from(key), c);
          if (!changed) return;
          expect(outcome(() => parse(changed.toString("latin1")))).toBeInstanceOf(IntegrityError);
        }),
        { numRuns: 1500 },
      );
    }
  });

  it("a tile path: refused, or the path of another tile spelled exactly so", () => {
    const path = tilePath({ level: 1, index: 1234067, width: 17 });
    fc.assert(
      fc.property(byteChange(path.length), (c) => {
        const changed = change(Buffer.from(path), c);
        if (!changed) return;
        const s = changed.toString("latin1");
        const result = outcome(() => parseTilePath(s));
        if (!(result instanceof IntegrityError)) expect(tilePath(result)).toBe(s);
      }),
      { numRuns: 2000 },
    );
  });
});
