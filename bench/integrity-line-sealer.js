/**
 * Cost per line of LineSealer (src/integrity/line-sealer.ts), which seals the server's ring and Redis streams:
 * lines pushed in batches of 1,000 as a hub tap sees them, one checkpoint per batch (leaf and node hashes, the
 * sidecar writes, one Ed25519 signature). Two variants, interleaved: `thread` seals in this thread, `worker` hands
 * the leaves to the server's seal worker (SealThread, as `serve` does). Wall, all-thread CPU and main-thread CPU
 * (Linux: /proc/self/task/PID/stat) ns per line of each round, JSON on stdout.
 * Needs dist/ (npm run build). Usage: node bench/integrity-line-sealer.js [lines] [rounds]
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { LineSealer } from "../dist/integrity/line-sealer.js";
import { generateKey } from "../dist/integrity/note.js";
import { sealKeyFromString } from "../dist/integrity/seal-key.js";
import { SealThread } from "../dist/server/integrity/seal-thread.js";

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

/** CPU time of the main thread (ms): utime + stime in clock ticks (100 a second on Linux). */
function mainThreadMs() {
  try {
    const fields = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return Number.NaN;
  }
}

const thread = new SealThread(key, key.verifier);
for (let round = 0; round < ROUNDS * 2; round++) {
  const variant = round % 2 === 0 ? "thread" : "worker";
  const dir = mkdtempSync(join(tmpdir(), "livetrail-bench-line-sealer-"));
  try {
    const sealer = await LineSealer.open({
      key,
      sidecar: join(dir, "stream.seal"),
      identity: "ring:bench",
      everyLines: BATCH,
      ...(variant === "worker" ? { sink: thread.leafSink(join(dir, "stream.seal")) } : {}),
      onError: (error) => {
        throw error;
      },
    });
    const cpu0 = process.cpuUsage();
    const main0 = mainThreadMs();
    const t0 = performance.now();
    for (let i = 0; i < LINES; i += BATCH) {
      sealer.push(lines.slice(i, i + BATCH));
      await sealer.flush();
    }
    await sealer.close();
    const wallMs = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    const mainMs = mainThreadMs() - main0;
    console.log(
      JSON.stringify({
        round: Math.floor(round / 2),
        variant,
        lines: LINES,
        bytesPerLine: Math.round(position / LINES),
        wallNsPerLine: Math.round((wallMs * 1e6) / LINES),
        cpuNsPerLine: Math.round(((cpu.user + cpu.system) * 1000) / LINES),
        mainThreadNsPerLine: Math.round((mainMs * 1e6) / LINES),
      }),
    );
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
await thread.close();
