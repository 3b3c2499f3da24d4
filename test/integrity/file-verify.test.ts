import { readFile, rename, truncate, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { frameRecord, parseCheckpointLog } from "../../src/integrity/checkpoint-log.js";
import { findSidecar, type IntegrityReport, verifyIntegrity } from "../../src/integrity/file-verify.js";
import { leafHash } from "../../src/integrity/merkle.js";
import { generateKey, parseNote, signNote } from "../../src/integrity/note.js";
import { sealFile } from "../../src/integrity/seal-file.js";
import { sealKeyFromString } from "../../src/integrity/seal-key.js";
import { useTempDirs } from "../helpers/temp-dir.js";

const tempDir = useTempDirs();
const key = sealKeyFromString(generateKey("audit-test").signerKey);
const otherKey = sealKeyFromString(generateKey("audit-test").signerKey);

/** 10,000 lines of varied length (some long, some CRLF), sealed with a checkpoint every 1,000 lines. */
async function sealedLog(lines = 10_000): Promise<{ log: string; text: string; offsets: number[] }> {
  const dir = await tempDir();
  const log = dir.file("audit.log");
  const parts: string[] = [];
  for (let i = 1; i <= lines; i++) {
    parts.push(`[2026-12-04T10:00:00Z] line ${i} ${"x".repeat((i * 37) % 180)}${i % 97 === 0 ? "\r" : ""}\n`);
  }
  const text = parts.join("");
  await writeFile(log, text);
  await sealFile(log, key, { everyLines: 1000, now: () => new Date("2026-12-04T10:00:01Z") });
  const offsets: number[] = [];
  let at = 0;
  for (const p of parts) {
    offsets.push(at);
    at += Buffer.byteLength(p);
  }
  return { log, text, offsets };
}

function check(log: string, k = key.verifier): Promise<IntegrityReport> {
  return verifyIntegrity(log, `${log}.seal`, { key: k, threads: 2 });
}

function linesOf(text: string): string[] {
  return text.split(/(?<=\n)/);
}

describe("verify: intact logs", () => {
  it("verifies an intact sealed log and names what is not sealed yet", async () => {
    const { log, text } = await sealedLog();
    await writeFile(log, `${text}[2026-12-04T10:00:02Z] after the last checkpoint\n`);
    const report = await check(log);
    expect(report.findings).toEqual([]);
    expect(report).toMatchObject({
      ok: true,
      lines: 10_001,
      checkpoints: 10,
      sealedLines: 10_000,
      sealedBytes: Buffer.byteLength(text),
      unsealedLines: 1,
      lastSealed: "2026-12-04T10:00:01Z",
      identity: "same-file",
      signatures: "checked",
    });
  });

  it("gives the same answer with one thread or many, and for sizes around tile edges", async () => {
    for (const lines of [1, 255, 256, 257, 511, 513, 65_537]) {
      const { log } = await sealedLog(lines);
      for (const threads of [1, 3]) {
        const report = await verifyIntegrity(log, `${log}.seal`, { key: key.verifier, threads });
        expect(report.findings, `${lines} lines, ${threads} threads`).toEqual([]);
        expect(report.sealedLines).toBe(lines);
      }
    }
  });
});

describe("verify: tampering is found and located", () => {
  it("one byte of line 500 changed", async () => {
    const { log, text, offsets } = await sealedLog();
    const bytes = Buffer.from(text);
    const at = (offsets[499] as number) + 30;
    bytes[at] = (bytes[at] as number) ^ 0x01;
    await writeFile(log, bytes);
    const report = await check(log);
    expect(report.ok).toBe(false);
    expect(report.findings).toHaveLength(1);
    expect(report.findings[0]).toMatchObject({
      kind: "line-changed",
      line: 500,
      offset: offsets[499],
      checkpoint: { seq: 1, size: 1000 },
    });
    expect(report.sealedLines).toBe(0);
  });

  it("a line deleted, a line inserted, two lines swapped", async () => {
    const { log, text, offsets } = await sealedLog();
    const lines = linesOf(text);
    const deleted = [...lines];
    deleted.splice(4321, 1);
    await writeFile(log, deleted.join(""));
    expect((await check(log)).findings[0]).toMatchObject({
      kind: "line-deleted",
      line: 4322,
      offset: offsets[4321],
      checkpoint: { seq: 5, size: 5000 },
    });

    const inserted = [...lines];
    inserted.splice(7000, 0, "[2026-12-04T10:00:00Z] forged\n");
    await writeFile(log, inserted.join(""));
    expect((await check(log)).findings[0]).toMatchObject({
      kind: "line-inserted",
      line: 7001,
      offset: offsets[7000],
      checkpoint: { seq: 8, size: 8000 },
    });

    const swapped = [...lines];
    [swapped[99], swapped[100]] = [swapped[100] as string, swapped[99] as string];
    await writeFile(log, swapped.join(""));
    const report = await check(log);
    expect(report.findings).toHaveLength(1);
    expect(report.findings[0]).toMatchObject({ kind: "lines-swapped", line: 100, checkpoint: { seq: 1 } });
  });

  it("truncation below a sealed offset, at a line end and inside a line", async () => {
    const { log, offsets } = await sealedLog();
    await truncate(log, offsets[6000]);
    let report = await check(log);
    expect(report.findings).toEqual([
      expect.objectContaining({
        kind: "truncated",
        line: 6001,
        offset: offsets[6000],
        checkpoint: expect.objectContaining({ seq: 7 }),
      }),
    ]);
    expect(report.sealedLines).toBe(6000);
    await truncate(log, (offsets[5000] as number) + 10);
    report = await check(log);
    expect(report.findings).toEqual([
      expect.objectContaining({ kind: "truncated", line: 5001, offset: offsets[5000] }),
    ]);
  });

  it("a checkpoint removed, edited, reordered", async () => {
    const { log } = await sealedLog();
    const path = join(`${log}.seal`, "checkpoints");
    const original = await readFile(path);
    const records = parseCheckpointLog(original).records;
    const frame = (notes: string[]) => Buffer.concat(notes.map(frameRecord));
    const notes = records.map((r) => r.note);

    await writeFile(path, frame(notes.filter((_, i) => i !== 3)));
    let report = await check(log);
    expect(report.findings.map((f) => f.kind)).toEqual(["checkpoint-removed"]);
    expect(report.findings[0]?.message).toMatch(/checkpoint 4 is missing/);

    // Edited: the size line changed and the record re-framed (its frame check passes; the signature does not).
    const edited = [...notes];
    edited[2] = (edited[2] as string).replace("\n3000\n", "\n2999\n");
    await writeFile(path, frame(edited));
    report = await check(log);
    expect(report.findings.map((f) => f.kind)).toEqual(["bad-signature"]);
    expect(report.findings[0]?.message).toMatch(/checkpoint record 3/);

    // Edited in place without re-framing: the frame check fails.
    const raw = Buffer.from(original);
    const at = (records[5]?.offset as number) + 40;
    raw[at] = (raw[at] as number) ^ 0x20;
    await writeFile(path, raw);
    report = await check(log);
    expect(report.findings.map((f) => f.kind)).toContain("checkpoint-damaged");

    const reordered = [...notes];
    [reordered[6], reordered[7]] = [reordered[7] as string, reordered[6] as string];
    await writeFile(path, frame(reordered));
    report = await check(log);
    expect(report.findings.map((f) => f.kind)).toContain("checkpoint-reordered");
    expect(report.findings.map((f) => f.kind)).not.toContain("checkpoint-removed");
  });

  it("re-signed with another key, and checked with a wrong key", async () => {
    const { log } = await sealedLog(2000);
    expect((await check(log, otherKey.verifier)).findings.map((f) => f.kind)).toEqual(["wrong-key"]);
    // An attacker re-signs every checkpoint with their own key (same name): the owner's key rejects them all.
    const path = join(`${log}.seal`, "checkpoints");
    const resigned = parseCheckpointLog(await readFile(path)).records.map((r) =>
      frameRecord(signNote(parseNote(r.note).text, [otherKey.signer])),
    );
    await writeFile(path, Buffer.concat(resigned));
    const report = await check(log);
    expect(report.findings.map((f) => f.kind)).toEqual(["wrong-key"]);
    expect(report.findings[0]?.message).toMatch(/2 checkpoints are not signed by audit-test\+/);
    // Without a key only the hashes are checked, and the report says so.
    const unsigned = await verifyIntegrity(log, `${log}.seal`, { key: null });
    expect(unsigned).toMatchObject({ ok: true, signatures: "not-checked" });
  });

  it("a hash file edited (alone, and to match an edited line) is caught by the signed roots", async () => {
    const { log, text, offsets } = await sealedLog();
    const level0 = join(`${log}.seal`, "level-0.bin");
    const hashes = await readFile(level0);
    const damaged = Buffer.from(hashes);
    damaged[1234 * 32] = (damaged[1234 * 32] as number) ^ 0xff;
    await writeFile(level0, damaged);
    let report = await check(log);
    expect(report.findings).toEqual([expect.objectContaining({ kind: "hashes-damaged", line: 1235 })]);
    await writeFile(level0, hashes);
    const level1 = join(`${log}.seal`, "level-1.bin");
    const tiles = await readFile(level1);
    const damagedTile = Buffer.from(tiles);
    damagedTile[20 * 32] = (damagedTile[20 * 32] as number) ^ 0x01;
    await writeFile(level1, damagedTile);
    report = await check(log);
    expect(report.findings).toEqual([
      expect.objectContaining({ kind: "hashes-damaged", line: 20 * 256 + 1 }),
    ]);
    await writeFile(level1, tiles);

    // The attacker edits line 2500 and writes its new leaf hash into level 0 (and level 1 is left): level 1 and
    // the signed root disagree with the file.
    const lines = linesOf(text);
    lines[2499] = "[2026-12-04T10:00:00Z] nothing happened here\n";
    await writeFile(log, lines.join(""));
    const forged = Buffer.from(hashes);
    leafHash(Buffer.from((lines[2499] as string).slice(0, -1))).copy(forged, 2499 * 32);
    await writeFile(level0, forged);
    report = await check(log);
    expect(report.findings).toHaveLength(1);
    expect(report.findings[0]).toMatchObject({ kind: "lines-changed", line: 2305, checkpoint: { seq: 3 } });
    expect(report.findings[0]?.message).toMatch(/lines 2305\.\.2560 changed/);
    expect(offsets.length).toBe(10_000);
  });
});

describe("verify: finding the sidecar", () => {
  it("finds a rotated file's archived sidecar by the file's identity", async () => {
    const { log } = await sealedLog(300);
    await rename(log, `${log}.1`);
    await writeFile(log, "[2026-12-04T10:00:05Z] new file\n");
    await sealFile(log, key);
    const archived = await findSidecar(`${log}.1`);
    expect(archived).toMatch(/audit\.log\.seal\.[0-9a-f]{12}$/);
    const old = await verifyIntegrity(`${log}.1`, archived as string, { key: key.verifier });
    expect(old).toMatchObject({ ok: true, sealedLines: 300, identity: "same-file" });
    expect(await findSidecar(log)).toBe(`${log}.seal`);
    const current = await verifyIntegrity(log, `${log}.seal`, { key: key.verifier });
    expect(current).toMatchObject({ ok: true, sealedLines: 1, prev: { size: 300, linked: true } });
  });
});
