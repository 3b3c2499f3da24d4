import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { cosign, parseCosignerKey, parseCosignerVerifierKey } from "../../../src/integrity/cosignature.js";
import { leafHash } from "../../../src/integrity/merkle.js";
import { generateKey, parseNote, SIG_COSIGNATURE_V1 } from "../../../src/integrity/note.js";
import {
  parseConsistencyProof,
  parseInclusionProof,
  verifyConsistencyProof,
  verifyInclusionProof,
} from "../../../src/integrity/proof-format.js";
import { sealFile } from "../../../src/integrity/seal-file.js";
import { sealKeyFromString } from "../../../src/integrity/seal-key.js";
import { parseSealPointNote } from "../../../src/integrity/seal-point.js";
import { useClosers } from "../../helpers/closer.js";
import { useTempDirs } from "../../helpers/temp-dir.js";
import { makeLines, startServer, writeLines } from "../harness.js";

const tempDir = useTempDirs("livetrail-integrity-routes-");
const track = useClosers();

// RFC 9162 §2.1.1 written out independently of src/integrity: MTH by its recursive definition.
const sha = (...parts: Buffer[]) => createHash("sha256").update(Buffer.concat(parts)).digest();
function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return sha();
  if (leaves.length === 1) return sha(Buffer.of(0), leaves[0] as Buffer);
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return sha(Buffer.of(1), mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}
// RFC 9162 §2.1.3.2, again independently: the root an audit path gives.
function rootFromPath(leaf: Buffer, index: number, size: number, path: Buffer[]): Buffer | null {
  let fn = index;
  let sn = size - 1;
  let r = sha(Buffer.of(0), leaf);
  for (const p of path) {
    if (sn === 0) return null;
    if (fn % 2 === 1 || fn === sn) {
      r = sha(Buffer.of(1), p, r);
      while (fn % 2 === 0 && fn !== 0) {
        fn /= 2;
        sn = Math.floor(sn / 2);
      }
    } else r = sha(Buffer.of(1), r, p);
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 ? r : null;
}

async function sealedLog(count: number) {
  const dir = await tempDir();
  const file = dir.file("audit.log");
  const lines = makeLines(0, count);
  await writeLines(file, lines);
  const log = generateKey("livetrail.test/audit");
  const key = sealKeyFromString(log.signerKey);
  await sealFile(file, key, { everyLines: 1000 });
  return { dir, file, lines, key };
}

describe("integrity routes over a sealed file", () => {
  it("serve the checkpoint, proofs that verify with the core's verifiers and independently, and tiles", async () => {
    const { file, lines, key } = await sealedLog(5000);
    const srv = await startServer([{ name: "audit", file }], { integrity: { logKeys: [key.verifier] } });
    track(srv);

    const res = await fetch(`${srv.url}/api/streams/audit/checkpoint`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
    const note = await res.text();
    const point = parseSealPointNote(note);
    expect(point.size).toBe(5000);
    // Independent: the root is the MTH of the file's lines.
    expect(point.root.equals(mth(lines.map((l) => Buffer.from(l))))).toBe(true);

    const inc = await (await fetch(`${srv.url}/api/streams/audit/proof/inclusion?line=1234`)).text();
    const proof = parseInclusionProof(inc);
    expect(proof.index).toBe(1233);
    const line = Buffer.from(lines[1233] as string);
    expect(verifyInclusionProof(proof, leafHash(line), point.origin, [key.verifier]).checkpoint.size).toBe(
      5000,
    );
    expect(rootFromPath(line, 1233, 5000, proof.hashes)?.equals(point.root)).toBe(true);
    expect(
      rootFromPath(Buffer.from(lines[1234] as string), 1233, 5000, proof.hashes)?.equals(point.root),
    ).toBe(false);

    const old = parseSealPointNote(
      await (await fetch(`${srv.url}/api/streams/audit/checkpoint?size=2000`)).text(),
    );
    expect(old.root.equals(mth(lines.slice(0, 2000).map((l) => Buffer.from(l))))).toBe(true);
    const cons = parseConsistencyProof(
      await (await fetch(`${srv.url}/api/streams/audit/proof/consistency?from=2000`)).text(),
    );
    expect(
      verifyConsistencyProof(cons, { size: 2000, rootHash: old.root }, point.origin, [key.verifier])
        .checkpoint.size,
    ).toBe(5000);
    // Between two older checkpoints, and from a size that is no checkpoint.
    const mid = parseConsistencyProof(
      await (await fetch(`${srv.url}/api/streams/audit/proof/consistency?from=1500&to=3000`)).text(),
    );
    const root1500 = mth(lines.slice(0, 1500).map((l) => Buffer.from(l)));
    expect(
      verifyConsistencyProof(mid, { size: 1500, rootHash: root1500 }, point.origin, [key.verifier]).checkpoint
        .size,
    ).toBe(3000);
    expect(() =>
      verifyConsistencyProof(mid, { size: 1500, rootHash: old.root }, point.origin, [key.verifier]),
    ).toThrow();

    const tile = Buffer.from(await (await fetch(`${srv.url}/api/streams/audit/tile/0/000`)).arrayBuffer());
    expect(tile.length).toBe(256 * 32);
    expect(tile.subarray(32 * 7, 32 * 8).equals(sha(Buffer.of(0), Buffer.from(lines[7] as string)))).toBe(
      true,
    );
    const partial = await fetch(`${srv.url}/api/streams/audit/tile/0/019.p/136`);
    expect(partial.status).toBe(200);
    expect((await partial.arrayBuffer()).byteLength).toBe(136 * 32);

    const info = await (await fetch(`${srv.url}/api/streams/audit/integrity`)).json();
    expect(info).toMatchObject({ status: "sealed", sealedTo: 5000, origin: point.origin, sealing: false });
  });

  it("serve a bundle (verifiable excerpt) that livetrail verify --bundle accepts offline, and refuses when edited", async () => {
    const { dir, file, lines, key } = await sealedLog(3000);
    const srv = await startServer([{ name: "audit", file }]);
    track(srv);
    const res = await fetch(`${srv.url}/api/streams/audit/bundle?from=100&to=120`);
    expect(res.status).toBe(200);
    const bundle = (await res.json()) as { lines: { line: number; text: string }[] };
    expect(bundle.lines.map((l) => l.line)).toEqual(Array.from({ length: 21 }, (_, i) => 100 + i));
    expect(bundle.lines[0]?.text).toBe(lines[99]);
    const path = dir.file("excerpt.json");
    await writeFile(path, JSON.stringify(bundle));
    const ok = spawnSync(
      process.execPath,
      ["dist/bin/main.js", "verify", "--bundle", path, "--key", key.verifierKey],
      {
        encoding: "utf8",
      },
    );
    expect(ok.status, ok.stderr).toBe(0);
    const edited = JSON.stringify(bundle).replace("line 105 ok", "line 105 OK");
    expect(edited).not.toBe(JSON.stringify(bundle));
    await writeFile(path, edited);
    const bad = spawnSync(
      process.execPath,
      ["dist/bin/main.js", "verify", "--bundle", path, "--key", key.verifierKey],
      {
        encoding: "utf8",
      },
    );
    expect(bad.status).not.toBe(0);
    const tooMany = await fetch(`${srv.url}/api/streams/audit/bundle?from=1&to=20000`);
    expect(((await tooMany.json()) as { error: string }).error).toBe("bad_proof_range");
    const unsealed = await fetch(`${srv.url}/api/streams/audit/bundle?from=2990&to=3001`);
    expect(((await unsealed.json()) as { error: string }).error).toBe("bad_proof_range");
  });

  it("answer bad ranges, unknown checkpoints and unsealed streams with catalog errors", async () => {
    const { file } = await sealedLog(3000);
    const dir = await tempDir();
    const plain = dir.file("plain.log");
    await writeFile(plain, "one\n");
    const srv = await startServer([
      { name: "audit", file },
      { name: "plain", file: plain },
    ]);
    track(srv);
    const get = async (path: string) => {
      const r = await fetch(`${srv.url}/api/streams/${path}`);
      return { status: r.status, body: (await r.json()) as { error: string } };
    };
    expect(await get("audit/proof/inclusion?line=3001")).toMatchObject({
      status: 400,
      body: { error: "bad_proof_range" },
    });
    expect(await get("audit/proof/inclusion?line=0")).toMatchObject({
      status: 400,
      body: { error: "bad_request" },
    });
    expect(await get("audit/proof/inclusion?line=x")).toMatchObject({
      status: 400,
      body: { error: "bad_request" },
    });
    expect(await get("audit/proof/consistency?from=3001")).toMatchObject({
      status: 400,
      body: { error: "bad_proof_range" },
    });
    expect(await get("audit/proof/consistency?from=5&to=2")).toMatchObject({
      status: 400,
      body: { error: "bad_proof_range" },
    });
    expect(await get("audit/proof/consistency?from=5&to=1234")).toMatchObject({
      status: 404,
      body: { error: "unknown_checkpoint" },
    });
    expect(await get("audit/checkpoint?size=77")).toMatchObject({
      status: 404,
      body: { error: "unknown_checkpoint" },
    });
    expect(await get("audit/tile/0/012")).toMatchObject({ status: 400, body: { error: "bad_proof_range" } });
    expect(await get("audit/tile/0/01")).toMatchObject({ status: 400, body: { error: "bad_proof_range" } });
    expect(await get("plain/checkpoint")).toMatchObject({ status: 404, body: { error: "not_sealed" } });
    expect(await get("nope/checkpoint")).toMatchObject({ status: 404, body: { error: "unknown_stream" } });
  });

  it("accept a witness's cosignature and publish it beside the log's; refuse bad and unknown ones", async () => {
    const { file, key } = await sealedLog(2000);
    const witness = generateKey("witness.test/w1", SIG_COSIGNATURE_V1);
    const stranger = generateKey("witness.test/w2", SIG_COSIGNATURE_V1);
    const srv = await startServer([{ name: "audit", file }], {
      integrity: { logKeys: [key.verifier], witnessKeys: [parseCosignerVerifierKey(witness.verifierKey)] },
    });
    track(srv);
    const note = await (await fetch(`${srv.url}/api/streams/audit/checkpoint`)).text();
    const post = async (body: string) => {
      const r = await fetch(`${srv.url}/api/streams/audit/cosignature`, {
        method: "POST",
        headers: { "content-type": "text/plain" },
        body,
      });
      return { status: r.status, body: (await r.json()) as Record<string, unknown> };
    };
    const cosigned = cosign(note, parseCosignerKey(witness.signerKey));
    expect(await post(cosigned)).toMatchObject({
      status: 200,
      body: { size: 2000, witnesses: ["witness.test/w1"] },
    });
    const published = await (await fetch(`${srv.url}/api/streams/audit/checkpoint`)).text();
    const sigs = parseNote(published).signatures.map((s) => s.name);
    expect(sigs).toEqual([key.signer.name, "witness.test/w1"]);
    // The published note verifies with both keys (the cosignature over the log's exact checkpoint text).
    expect(
      parseCosignerVerifierKey(witness.verifierKey).verify(
        Buffer.from(parseNote(published).text),
        parseNote(published).signatures[1]?.signature as Buffer,
      ),
    ).toBe(true);

    expect((await post(cosign(note, parseCosignerKey(stranger.signerKey)))).body.error).toBe(
      "unknown_witness",
    );
    const forged = cosigned.replace(/(— witness\.test\/w1 )(\S+)/, (_m, head: string, b64: string) => {
      const bytes = Buffer.from(b64, "base64");
      bytes[bytes.length - 1] = (bytes[bytes.length - 1] as number) ^ 1;
      return head + bytes.toString("base64");
    });
    expect(await post(forged)).toMatchObject({ status: 400, body: { error: "bad_cosignature" } });
    const otherText = cosign(note.replace("\n2000\n", "\n1999\n"), parseCosignerKey(witness.signerKey));
    expect(await post(otherText)).toMatchObject({ status: 400, body: { error: "bad_cosignature" } });
    expect(await post("not a note")).toMatchObject({ status: 400, body: { error: "bad_cosignature" } });
  });
});
