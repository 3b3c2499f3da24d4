import { describe, expect, it } from "vitest";
import { generateKey } from "../../src/integrity/note.js";
import { sealKeyFromString } from "../../src/integrity/seal-key.js";
import { Sealer } from "../../src/integrity/sealer.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { Rfc6962Tree } from "./rfc6962-reference.js";

const tempDir = useTempDirs();
const key = sealKeyFromString(generateKey("sealer").signerKey);

describe("Sealer", () => {
  it("two long-lived sealers of one sidecar take turns, each catching up with what the other wrote", async () => {
    const dir = (await tempDir()).file("log.seal");
    const a = await Sealer.open(dir, key);
    const b = await Sealer.open(dir, key);
    const lines = Array.from({ length: 700 }, (_, i) => Buffer.from(`line ${i}`));
    let end = 0;
    const seal = async (sealer: Sealer, from: number, to: number) =>
      sealer.locked(async () => {
        expect(sealer.size).toBe(from);
        for (const line of lines.slice(from, to)) {
          end += line.length + 1;
          sealer.add(line, end);
        }
        return sealer.checkpoint("stream:x");
      });
    await seal(a, 0, 300);
    await seal(b, 300, 310);
    await seal(a, 310, 600);
    const last = await seal(b, 600, 700);
    expect(last).toMatchObject({ size: 700, seq: 4, bytes: end });
    expect(last.root.equals(new Rfc6962Tree(lines).mth())).toBe(true);
    await a.close();
    await b.close();
  });
});
