import { Worker } from "node:worker_threads";
import type { LeafBatch, LeafSink } from "../../integrity/line-sealer.js";
import type { NoteVerifier } from "../../integrity/note.js";
import type { SealKey } from "../../integrity/seal-key.js";

/**
 * The server's sealing and re-checking, off the main thread: one worker thread for all streams (seal-worker.ts)
 * runs sealFile rounds and the core's verifyIntegrity on the file itself, under the sidecar's lock as any other
 * process would, so the main thread, which feeds every client, only asks "seal now" / "check now" and gets a
 * small result back; it then reads the new checkpoints from the sidecar as before (SealedLog). Jobs of different
 * streams overlap in the worker (each awaits its file I/O); one stream's jobs are ordered by its caller. A worker
 * that dies fails the jobs it held and is started again for the next one.
 */

// Under vitest this module is src/server/integrity/seal-thread.ts, which Node cannot run as a worker: the worker is
// then the build's (test/global-setup.ts builds dist/ first). From dist/server/integrity/ and from the CLI bundle in
// dist/bin/ it is the bundled entry in dist/bin/ (rolldown.config.mjs).
const WORKER_URL = import.meta.url.endsWith(".ts")
  ? new URL("../../../dist/bin/integrity-seal-worker.js", import.meta.url)
  : /\/bin\/[^/]+$/.test(import.meta.url)
    ? new URL("./integrity-seal-worker.js", import.meta.url)
    : new URL("../../bin/integrity-seal-worker.js", import.meta.url);

/** What the worker is started with: key strings (key objects and their closures do not cross threads). */
export interface SealWorkerInit {
  signerKey: string | null;
  logKey: string | null;
}

export type SealJob =
  | { op: "seal"; path: string; everyLines: number }
  | { op: "verify"; path: string; sidecar: string }
  /** A ring's or Redis stream's leaves (LineSealer's sink): hashed and sealed into `sidecar`, one checkpoint. */
  | { op: "seal-lines"; sidecar: string; identity: string; batch: LeafBatch; origin?: string }
  /** That stream is done: its sidecar's Sealer in the worker is synced and closed. */
  | { op: "close-lines"; sidecar: string };

/** A seal round's outcome: the lines it sealed. */
export interface SealOutcome {
  added: number;
}

/** A re-check's outcome: the lines the last good checkpoint covers, and what is wrong (first first). */
export interface VerifyOutcome {
  sealedLines: number;
  findings: { line?: number; message: string }[];
}

export type SealWorkerReply =
  | { id: number; ok: true; value: SealOutcome | VerifyOutcome }
  | { id: number; ok: false; name: string; message: string };

interface Waiting {
  resolve: (value: SealOutcome | VerifyOutcome) => void;
  reject: (error: Error) => void;
}

export class SealThread {
  private worker: Worker | null = null;
  private readonly waiting = new Map<number, Waiting>();
  private nextId = 1;
  private readonly init: SealWorkerInit;

  constructor(sealKey: SealKey | null, logKey: NoteVerifier | null) {
    if (logKey !== null && logKey.vkey === undefined) {
      throw new TypeError(
        "integrity.logKeys: a verifier made by parseVerifierKey is needed (it carries its key)",
      );
    }
    this.init = { signerKey: sealKey?.signerKey ?? null, logKey: logKey?.vkey ?? null };
  }

  seal(path: string, everyLines: number): Promise<SealOutcome> {
    return this.run({ op: "seal", path, everyLines }) as Promise<SealOutcome>;
  }

  verify(path: string, sidecar: string): Promise<VerifyOutcome> {
    return this.run({ op: "verify", path, sidecar }) as Promise<VerifyOutcome>;
  }

  /** A LineSealer sink that hashes and seals on this worker, into `sidecar` (its Sealer lives in the worker). */
  /** `origin`: the checkpoints' origin if the sidecar is new (default: the sealer's, from the key and name). */
  leafSink(sidecar: string, origin?: string): LeafSink {
    return {
      seal: async (batch, identity) => {
        await this.run({
          op: "seal-lines",
          sidecar,
          identity,
          batch,
          ...(origin === undefined ? {} : { origin }),
        });
      },
      close: async () => {
        await this.run({ op: "close-lines", sidecar });
      },
    };
  }

  /** Ends the worker (after the callers' jobs: they await theirs before closing). */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = null;
    if (worker !== null) await worker.terminate();
  }

  private run(job: SealJob): Promise<SealOutcome | VerifyOutcome> {
    const worker = this.worker ?? this.spawn();
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.waiting.set(id, { resolve, reject });
      // A job in flight keeps the process alive, as the in-thread sealing's file I/O did; an idle worker does not.
      worker.ref();
      worker.postMessage({ id, ...job });
    });
  }

  private spawn(): Worker {
    const worker = new Worker(WORKER_URL, { workerData: this.init });
    this.worker = worker;
    worker.on("message", (reply: SealWorkerReply) => {
      const waiter = this.waiting.get(reply.id);
      if (waiter === undefined) return;
      this.waiting.delete(reply.id);
      if (this.waiting.size === 0) worker.unref();
      if (reply.ok) waiter.resolve(reply.value);
      else waiter.reject(Object.assign(new Error(reply.message), { name: reply.name }));
    });
    const fail = (error: Error): void => {
      if (this.worker === worker) this.worker = null;
      for (const waiter of this.waiting.values()) waiter.reject(error);
      this.waiting.clear();
    };
    worker.on("error", (error) => fail(new Error(`integrity seal worker: ${error.message}`)));
    worker.on("exit", (code) => fail(new Error(`integrity seal worker exited (code ${code})`)));
    return worker;
  }
}
