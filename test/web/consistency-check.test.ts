import { describe, expect, it } from "vitest";
import { generateKey } from "../../src/integrity/note.js";
import { sealFile } from "../../src/integrity/seal-file.js";
import { sealKeyFromString } from "../../src/integrity/seal-key.js";
import { SealedLog } from "../../src/server/integrity/sealed-log.js";
import {
  fromBase64,
  parseConsistencyBody,
  verifyConsistency,
  webSha256,
} from "../../src/web/consistency-check.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { makeLines, writeLines } from "../server/harness.js";

const tempDir = useTempDirs("livetrail-web-consistency-");

/** The browser's RFC 9162 check (WebCrypto) against the server's proofs, for every old size up to each checkpoint. */
describe("web consistency check", () => {
  it("accepts the server's proofs from every size to each checkpoint, and refuses a changed hash or root", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await writeLines(file, makeLines(0, 700));
    const key = sealKeyFromString(generateKey("livetrail.test/web").signerKey);
    await sealFile(file, key, { everyLines: 100 });
    const log = new SealedLog(`${file}.seal`, [key.verifier]);
    await log.refresh();
    const roots = new Map<number, Uint8Array>();
    for (let size = 100; size <= 700; size += 100) {
      roots.set(size, log.bySize(size)?.point.root as Uint8Array);
    }
    let checked = 0;
    for (const [n, rootN] of roots) {
      for (const [m, rootM] of roots) {
        if (m > n) continue;
        const body = parseConsistencyBody(await log.consistency(m, n));
        expect(body?.oldSize).toBe(m);
        expect(body?.size).toBe(n);
        const proof = body?.hashes ?? [];
        expect(await verifyConsistency(webSha256, m, n, proof, rootM, rootN)).toBe(true);
        if (m < n) {
          const bent = proof.map((h, i) =>
            i === 0 ? Uint8Array.from(h, (b, j) => (j === 0 ? b ^ 1 : b)) : h,
          );
          expect(await verifyConsistency(webSha256, m, n, bent, rootM, rootN)).toBe(false);
          expect(await verifyConsistency(webSha256, m, n, proof, rootN, rootN)).toBe(false);
        }
        checked++;
      }
    }
    expect(checked).toBe(28);
    expect(fromBase64("not base64!")).toBeNull();
    expect(parseConsistencyBody("old 5\n\nx")).toBeNull();
    await log.close();
  });
});
