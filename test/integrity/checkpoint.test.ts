import { describe, expect, it } from "vitest";
import {
  type Checkpoint,
  formatCheckpoint,
  openCheckpoint,
  parseCheckpoint,
  signCheckpoint,
} from "../../src/integrity/checkpoint.js";
import { IntegrityError } from "../../src/integrity/integrity-error.js";
import { leafHash, TreeBuilder } from "../../src/integrity/merkle.js";
import { generateKey, parseNote, parseSignerKey, parseVerifierKey } from "../../src/integrity/note.js";

// c2sp.org/tlog-checkpoint's example.
const SPEC_TEXT = "example.com/behind-the-sofa\n20852163\nCsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=\n";
const SPEC_NOTE = `${SPEC_TEXT}\n— example.com/behind-the-sofa Az3grlgtzPICa5OS8npVmf1Myq/5IZniMp+ZJurmRDeOoRDe4URYN7u5/Zhcyv2q1gGzGku9nTo+zyWE+xeMcTOAYQ8=\n`;

function code(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    if (e instanceof IntegrityError) return e.code;
    throw e;
  }
  return "accepted";
}

const root = (() => {
  const b = TreeBuilder.empty();
  b.append([leafHash(Buffer.from("a")), leafHash(Buffer.from("b"))]);
  return b.root();
})();

describe("tlog-checkpoint", () => {
  it("parses and re-formats the spec's example exactly", () => {
    const cp = parseCheckpoint(SPEC_TEXT);
    expect(cp.origin).toBe("example.com/behind-the-sofa");
    expect(cp.size).toBe(20852163);
    expect(cp.rootHash.toString("base64")).toBe("CsUYapGGPo4dkMgIAUqom/Xajj7h2fB2MPA3j2jxq2I=");
    expect(cp.extensions).toEqual([]);
    expect(formatCheckpoint(cp)).toBe(SPEC_TEXT);
    const note = parseNote(SPEC_NOTE);
    expect(note.text).toBe(SPEC_TEXT);
    expect(note.signatures[0]?.name).toBe(cp.origin);
  });

  it("formats livetrail's extension lines first, then others, and reads them back", () => {
    const cp: Checkpoint = {
      origin: "livetrail.example/audit",
      size: 2,
      rootHash: root,
      file: { identity: "1.3f2a9c0d11e4.256", bytes: 4096 },
      prev: { size: 70000, rootHash: Buffer.alloc(32, 9) },
      extensions: ["other-extension value"],
    };
    const text = formatCheckpoint(cp);
    expect(text).toBe(
      `livetrail.example/audit\n2\n${root.toString("base64")}\nlivetrail-file 1.3f2a9c0d11e4.256 4096\n` +
        `livetrail-prev 70000 ${Buffer.alloc(32, 9).toString("base64")}\nother-extension value\n`,
    );
    expect(parseCheckpoint(text)).toEqual(cp);
    const onlyPrev = { ...cp, file: undefined, extensions: [] };
    expect(parseCheckpoint(formatCheckpoint(onlyPrev))).toEqual({
      ...cp,
      file: undefined,
      extensions: [],
    } as Checkpoint);
    const empty: Checkpoint = { origin: "o", size: 0, rootHash: Buffer.alloc(32), extensions: [] };
    expect(formatCheckpoint(empty)).toBe(`o\n0\n${Buffer.alloc(32).toString("base64")}\n`);
  });

  it("refuses every other spelling", () => {
    const r = root.toString("base64");
    const bad = [
      "",
      "o\n1\n",
      `o\n1\n${r}`,
      `\n1\n${r}\n`,
      `o\n01\n${r}\n`,
      `o\n-1\n${r}\n`,
      `o\n1.0\n${r}\n`,
      `o\n 1\n${r}\n`,
      `o\n9007199254740993\n${r}\n`,
      `o\n1\n${r.slice(0, -1)}\n`,
      `o\n1\n${Buffer.alloc(31).toString("base64")}\n`,
      `o\n1\n${r}\n\n`,
      `o\n1\n${r}\next\n\n`,
      `o\n1\n${r}\r\n`,
      `o\n1\n${r}\nlivetrail-file id\n`,
      `o\n1\n${r}\nlivetrail-file id 01\n`,
      `o\n1\n${r}\nlivetrail-file id 1 2\n`,
      `o\n1\n${r}\nlivetrail-file  1\n`,
      `o\n1\n${r}\nlivetrail-prev 1\n`,
      `o\n1\n${r}\nlivetrail-prev 1 ${r} x\n`,
      `o\n1\n${r}\nlivetrail-prev 1 ${r}\nlivetrail-file id 1\n`,
      `o\n1\n${r}\nother\nlivetrail-file id 1\n`,
      `o\n1\n${r}\nlivetrail-file id 1\nlivetrail-file id 1\n`,
    ];
    for (const text of bad)
      expect(
        code(() => parseCheckpoint(text)),
        JSON.stringify(text),
      ).toBe("malformed-checkpoint");
    expect(code(() => parseCheckpoint(`o\n1\n${r}\n${"x".repeat(20_000)}\n`))).toBe("too-large");
  });

  it("refuses to format what it could not parse back", () => {
    const base: Checkpoint = { origin: "o", size: 1, rootHash: root, extensions: [] };
    for (const cp of [
      { ...base, origin: "" },
      { ...base, origin: "a\nb" },
      { ...base, size: -1 },
      { ...base, size: 1.5 },
      { ...base, rootHash: Buffer.alloc(31) },
      { ...base, file: { identity: "has space", bytes: 1 } },
      { ...base, file: { identity: "", bytes: 1 } },
      { ...base, file: { identity: "id", bytes: -1 } },
      { ...base, prev: { size: 1, rootHash: Buffer.alloc(1) } },
      { ...base, extensions: [""] },
      { ...base, extensions: ["livetrail-file x 1"] },
    ]) {
      expect(
        code(() => formatCheckpoint(cp)),
        JSON.stringify(cp),
      ).toBe("malformed-checkpoint");
    }
  });
});

describe("signed checkpoints", () => {
  const log = generateKey("livetrail.example/audit");
  const stranger = generateKey("stranger.example/x");
  const cp: Checkpoint = { origin: "livetrail.example/audit", size: 2, rootHash: root, extensions: [] };

  it("open with the log's key and origin", () => {
    const note = signCheckpoint(cp, [parseSignerKey(log.signerKey)]);
    const opened = openCheckpoint(note, cp.origin, [parseVerifierKey(log.verifierKey)]);
    expect(opened.checkpoint).toEqual(cp);
    expect(opened.cosigners).toEqual([]);
  });

  it("refuse another origin, another key, or a note only a cosigner signed", () => {
    const note = signCheckpoint(cp, [parseSignerKey(log.signerKey)]);
    expect(
      code(() => openCheckpoint(note, "livetrail.example/other", [parseVerifierKey(log.verifierKey)])),
    ).toBe("wrong-origin");
    expect(code(() => openCheckpoint(note, cp.origin, [parseVerifierKey(stranger.verifierKey)]))).toBe(
      "unverified-note",
    );
    const byStranger = signCheckpoint(cp, [parseSignerKey(stranger.signerKey)]);
    expect(
      code(() =>
        openCheckpoint(
          byStranger,
          cp.origin,
          [parseVerifierKey(log.verifierKey)],
          [parseVerifierKey(stranger.verifierKey)],
        ),
      ),
    ).toBe("unverified-note");
    const unparsable = signCheckpoint(cp, [parseSignerKey(log.signerKey)]).replace("\n2\n", "\n02\n");
    expect(code(() => openCheckpoint(unparsable, cp.origin, [parseVerifierKey(log.verifierKey)]))).toBe(
      "invalid-signature",
    );
  });
});
