import { readlinkSync } from "node:fs";
import { setPriority } from "node:os";
import { parentPort, workerData } from "node:worker_threads";
import { verifyIntegrity } from "../../integrity/file-verify.js";
import { sealLeafBatch } from "../../integrity/line-sealer.js";
import { parseVerifierKey } from "../../integrity/note.js";
import { sealFile } from "../../integrity/seal-file.js";
import { sealKeyFromString } from "../../integrity/seal-key.js";
import { Sealer } from "../../integrity/sealer.js";
import type { SealJob, SealOutcome, SealWorkerInit, SealWorkerReply, VerifyOutcome } from "./seal-thread.js";

/**
 * The server's sealing worker (seal-thread.ts starts it): seal rounds and re-checks on the files themselves, each
 * answered with its outcome or its error's name and message (a SealError stays one for the caller).
 */

const port = parentPort;
if (port === null) throw new Error("seal-worker.ts runs as a worker thread (see seal-thread.ts)");
const init = workerData as SealWorkerInit;
// On Linux a thread has its own nice value (and the hashing thread verify starts inherits it): when the cores are
// busy, sealing gives way to the thread that feeds clients, as it did in its gaps when it ran there; idle cores
// it still uses. Elsewhere (no /proc/thread-self) it runs at the process's priority.
try {
  setPriority(Number(readlinkSync("/proc/thread-self").split("/").at(-1)), 10);
} catch {
  // Not Linux, or not allowed: the default priority.
}
const key = init.signerKey === null ? null : sealKeyFromString(init.signerKey);
const logKey = init.logKey === null ? null : parseVerifierKey(init.logKey);

/** The Sealers of the streams sealed from their lines, by sidecar (opened on their first batch). */
const lineSealers = new Map<string, Promise<Sealer>>();

async function run(job: SealJob): Promise<SealOutcome | VerifyOutcome> {
  if (job.op === "seal-lines") {
    if (key === null) throw new Error("sealing needs a seal key");
    let sealer = lineSealers.get(job.sidecar);
    if (sealer === undefined) {
      sealer = Sealer.open(job.sidecar, key, job.origin === undefined ? {} : { origin: job.origin });
      lineSealers.set(job.sidecar, sealer);
      sealer.catch(() => lineSealers.delete(job.sidecar));
    }
    return { added: await sealLeafBatch(await sealer, job.batch, job.identity) };
  }
  if (job.op === "close-lines") {
    const sealer = lineSealers.get(job.sidecar);
    lineSealers.delete(job.sidecar);
    await (await sealer?.catch(() => null))?.close();
    return { added: 0 };
  }
  if (job.op === "seal") {
    if (key === null) throw new Error("sealing needs a seal key");
    const { added } = await sealFile(job.path, key, { everyLines: job.everyLines });
    return { added };
  }
  // One hashing thread besides this one: a core stays with serving.
  const report = await verifyIntegrity(job.path, job.sidecar, { key: logKey, threads: 1 });
  return {
    sealedLines: report.sealedLines,
    findings: report.findings.map((f) => ({
      ...(f.line === undefined ? {} : { line: f.line }),
      message: f.message,
    })),
  };
}

port.on("message", (message: SealJob & { id: number }) => {
  run(message).then(
    (value) => port.postMessage({ id: message.id, ok: true, value } satisfies SealWorkerReply),
    (error: unknown) => {
      const e = error instanceof Error ? error : new Error(String(error));
      port.postMessage({
        id: message.id,
        ok: false,
        name: e.name,
        message: e.message,
      } satisfies SealWorkerReply);
    },
  );
});
