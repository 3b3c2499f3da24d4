import { describe, expect, it } from "vitest";
import { generateKey } from "../../../src/integrity/note.js";
import { sealFile } from "../../../src/integrity/seal-file.js";
import { sealKeyFromString } from "../../../src/integrity/seal-key.js";
import { sidecarPath } from "../../../src/integrity/sidecar.js";
import { SealedLog } from "../../../src/server/integrity/sealed-log.js";
import { useTempDirs } from "../../helpers/temp-dir.js";
import { makeLines, writeLines } from "../harness.js";

const tempDir = useTempDirs("livetrail-sealed-log-");
const key = sealKeyFromString(generateKey("livetrail.test/sealed-log").signerKey);

describe("SealedLog.refresh", () => {
  it("refreshes called at once (a request while a seal round reads) read each checkpoint once", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await writeLines(file, makeLines(0, 5000));
    await sealFile(file, key, { everyLines: 100 });
    const log = new SealedLog(sidecarPath(file), [key.verifier]);
    try {
      const changed = await Promise.all([log.refresh(), log.refresh(), log.refresh()]);
      expect(log.finding).toBeNull();
      expect(log.count).toBe(50);
      expect(log.newest?.point.size).toBe(5000);
      // The first read found them all; the ones that waited for it found nothing new.
      expect(changed).toEqual([true, false, false]);
    } finally {
      await log.close();
    }
  });
});
