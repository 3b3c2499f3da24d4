import { spawnSync } from "node:child_process";
import { appendFile, readFile, rename, stat, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { parseCheckpointLog } from "../../src/integrity/checkpoint-log.js";
import { generateKey } from "../../src/integrity/note.js";
import { sealFile } from "../../src/integrity/seal-file.js";
import { sealKeyFromString } from "../../src/integrity/seal-key.js";
import { readSealPoint } from "../../src/integrity/seal-point.js";
import { SealError } from "../../src/integrity/sealer.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { Rfc6962Tree } from "./rfc6962-reference.js";

const tempDir = useTempDirs();
const key = sealKeyFromString(generateKey("test-log").signerKey);

/** The lines of a log as leaf data (what RFC 6962's entries are here): without LF, CR kept. */
function entriesOf(text: string): Buffer[] {
  const parts = Buffer.from(text).toString("latin1").split("\n");
  if (parts.at(-1) === "") parts.pop();
  return parts.map((p) => Buffer.from(p, "latin1"));
}

async function checkpoints(log: string) {
  const data = await readFile(`${log}.seal/checkpoints`);
  return parseCheckpointLog(data).records.map((r) => readSealPoint(r.note, [key.verifier]));
}

describe("sealFile", () => {
  it("seals every complete line, tiles included, with checkpoints every N lines and at the end", async () => {
    const dir = await tempDir();
    const log = dir.file("audit.log");
    const lines = Array.from({ length: 700 }, (_, i) => `line ${i}${i % 7 === 0 ? "\r" : ""}`);
    await writeFile(log, `${lines.join("\n")}\npartial`);
    const result = await sealFile(log, key, { everyLines: 300 });
    expect(result).toMatchObject({ added: 700, checkpoints: 3, size: 700, rotated: null });
    const points = await checkpoints(log);
    expect(points.map((p) => [p.seq, p.size])).toEqual([
      [1, 300],
      [2, 600],
      [3, 700],
    ]);
    const reference = new Rfc6962Tree(entriesOf(`${lines.join("\n")}\n`));
    for (const p of points) expect(p.root.equals(reference.mth(0, p.size))).toBe(true);
    expect(points[2]?.bytes).toBe(Buffer.byteLength(`${lines.join("\n")}\n`));
    expect((await stat(join(`${log}.seal`, "level-0.bin"))).size).toBe(700 * 32);
    expect((await stat(join(`${log}.seal`, "level-1.bin"))).size).toBe(2 * 32);
    expect((await stat(`${log}.seal`)).mode & 0o777).toBe(0o700);
    expect((await stat(join(`${log}.seal`, "checkpoints"))).mode & 0o777).toBe(0o600);

    // The partial line is sealed once it is whole; nothing else is sealed twice.
    await appendFile(log, " done\n");
    const again = await sealFile(log, key);
    expect(again).toMatchObject({ added: 1, checkpoints: 1, size: 701 });
    const last = (await checkpoints(log)).at(-1);
    const all = new Rfc6962Tree(entriesOf(await readFile(log, "utf8")));
    expect(last?.root.equals(all.mth())).toBe(true);
  });

  it("recovers from a torn checkpoint record and hashes beyond the last checkpoint", async () => {
    const dir = await tempDir();
    const log = dir.file("audit.log");
    await writeFile(log, "a\nb\nc\n");
    await sealFile(log, key);
    // A crash mid-append: half a record, and hashes of lines no checkpoint covers.
    await appendFile(`${log}.seal/checkpoints`, "LTCP 300 0123");
    await appendFile(`${log}.seal/level-0.bin`, Buffer.alloc(40, 7));
    await appendFile(log, "d\n");
    const result = await sealFile(log, key);
    expect(result).toMatchObject({ added: 1, size: 4 });
    const points = await checkpoints(log);
    expect(points.map((p) => p.size)).toEqual([3, 4]);
    expect(points[1]?.root.equals(new Rfc6962Tree(entriesOf("a\nb\nc\nd\n")).mth())).toBe(true);
    expect((await stat(`${log}.seal/level-0.bin`)).size).toBe(4 * 32);
  });

  it("rebuilds hashes lost in a crash from the log, and refuses a log that no longer gives the signed root", async () => {
    const dir = await tempDir();
    const log = dir.file("audit.log");
    await writeFile(log, "one\ntwo\nthree\n");
    await sealFile(log, key);
    await writeFile(`${log}.seal/level-0.bin`, Buffer.alloc(0));
    await appendFile(log, "four\n");
    expect(await sealFile(log, key)).toMatchObject({ added: 1, size: 4 });
    expect((await stat(`${log}.seal/level-0.bin`)).size).toBe(4 * 32);

    await writeFile(`${log}.seal/level-0.bin`, Buffer.alloc(0));
    await writeFile(log, "one\nTWO\nthree\nfour\n");
    await expect(sealFile(log, key)).rejects.toThrow(SealError);
  });

  it("refuses to seal a file truncated below its sealed offset", async () => {
    const dir = await tempDir();
    const log = dir.file("audit.log");
    await writeFile(log, "one\ntwo\n");
    await sealFile(log, key);
    await writeFile(log, "one\n");
    // A new inode at the same path would be a rotation; writeFile keeps the inode, so this is a truncation.
    await expect(sealFile(log, key)).rejects.toThrow(/shorter than the 8 bytes sealed/);
  });

  it("on rotation seals the old file's rest (final), archives its sidecar and links the new file to its root", async () => {
    const dir = await tempDir();
    const log = dir.file("audit.log");
    await writeFile(log, "old 1\nold 2\n");
    await sealFile(log, key);
    await appendFile(log, "old 3\nold tail");
    await rename(log, `${log}.1`);
    await writeFile(log, "new 1\n");
    const result = await sealFile(log, key);
    expect(result.rotated).toMatch(/audit\.log\.seal\.[0-9a-f]{12}$/);
    const archived = parseCheckpointLog(
      await readFile(join(result.rotated as string, "checkpoints")),
    ).records.map((r) => readSealPoint(r.note, [key.verifier]));
    const final = archived.at(-1);
    expect(final?.size).toBe(4);
    expect(final?.root.equals(new Rfc6962Tree(entriesOf("old 1\nold 2\nold 3\nold tail")).mth())).toBe(true);
    const current = await checkpoints(log);
    expect(current).toHaveLength(1);
    expect(current[0]).toMatchObject({ size: 1, seq: 1 });
    expect(current[0]?.prev?.size).toBe(4);
    expect(current[0]?.prev?.root.equals(final?.root as Buffer)).toBe(true);
  });

  it("refuses a replaced file that is not the sealed content (sed -i), goes on with a copy that is", async () => {
    const dir = await tempDir();
    const log = dir.file("audit.log");
    await writeFile(log, "one\ntwo\n");
    await sealFile(log, key);
    // An edit that writes a new file and renames it over the log: a new inode, the old file gone.
    await writeFile(dir.file("tmp"), "one\nTWO\n");
    await rename(dir.file("tmp"), log);
    await expect(sealFile(log, key)).rejects.toThrow(/does not start with the sealed lines/);
    // A copy of the sealed lines with one more: the same history in a new file.
    await writeFile(dir.file("tmp"), "one\ntwo\nthree\n");
    await rename(dir.file("tmp"), log);
    expect(await sealFile(log, key)).toMatchObject({ added: 1, size: 3, rotated: null });
  });

  it("takes over the lock of a sealer that died holding it", async () => {
    const dir = await tempDir();
    const log = dir.file("audit.log");
    await writeFile(log, "one\n");
    await sealFile(log, key);
    // A process that has exited: its pid names nobody now.
    const child = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]);
    await writeFile(join(`${log}.seal`, "lock"), `${child.stdout.toString()}\n`);
    await appendFile(log, "two\n");
    expect(await sealFile(log, key)).toMatchObject({ added: 1, size: 2 });
    await expect(stat(join(`${log}.seal`, "lock"))).rejects.toThrow(/ENOENT/);
  });
});
