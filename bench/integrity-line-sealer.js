/**
 * Cost per line of LineSealer (src/integrity/line-sealer.ts), which seals ring and Redis streams on the server's
 * main thread: lines pushed in batches of 1,000 as a hub tap sees them, one checkpoint per batch (leaf and node
 * hashes, the sidecar writes, one Ed25519 signature). Wall and CPU ns per line of each round, JSON on stdout.
 * Needs dist/ (npm run build). Usage: node bench/integrity-line-sealer.js [lines] [rounds]
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LineSealer } from "../dist/integrity/line-sealer.js";
import { generateKey } from "../dist/integrity/note.js";
import { sealKeyFromString } from "../dist/integrity/seal-key.js";

const LINES = Number(process.argv[2] ?? 200_000);
const ROUNDS = Number(process.argv[3] ?? 3);
const BATCH = 1000;
const key = sealKeyFromString(generateKey("bench/line-sealer").signerKey);

const lines = [];
let position = 0;
for (let i = 0; i < LINES; i++) {
  const text = `[2026-12-04T20:00:00Z] user=alice action=login ok entry ${String(i).padStart(8, "0")} ........`;
  const end = position + Buffer.byteLength(text) + 1;
  lines.push({ seq: i + 1, text, start: position, end, cursor: "" });
  position = end;
}

for (let round = 0; round < ROUNDS; round++) {
  const dir = mkdtempSync(join(tmpdir(), "livetrail-bench-line-sealer-"));
  try {
    const sealer = await LineSealer.open({
      key,
      sidecar: join(dir, "stream.seal"),
      identity: "ring:bench",
      everyLines: BATCH,
      onError: (error) => {
        throw error;
      },
    });
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    for (let i = 0; i < LINES; i += BATCH) {
      sealer.push(lines.slice(i, i + BATCH));
      await sealer.flush();
    }
    await sealer.close();
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    console.log(
      JSON.stringify({
        round,
        lines: LINES,
        bytesPerLine: Math.round(position / LINES),
        wallNsPerLine: Math.round((wallMs * 1e6) / LINES),
        cpuNsPerLine: Math.round(((cpu.user + cpu.system) * 1000) / LINES),
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
