import { exactLineData, type Line, lineDataOfSource } from "../core/line.js";
import type { SealKey } from "./seal-key.js";
import { DEFAULT_EVERY_LINES, DEFAULT_EVERY_MS, SealError, Sealer, type SealerOptions } from "./sealer.js";

/**
 * Sealing a stream from its Line objects, as a hub tap sees them (any backend: a file, a ring on stdin, later
 * Redis): the tree is over the stream's lines, whatever holds them. A line's leaf is its exact bytes; the text
 * is them when it is valid UTF-8 and whole (core/line.ts exactLineData), otherwise they come from the backend
 * (`StreamBackend.exactBytes`). A checkpoint every `everyLines` lines or `everyMs` after the first unsealed one,
 * and on close. Lines must follow the sealed offset without a gap; lines another process already sealed (their
 * end is not past the sealed offset) are skipped.
 */

/** The leaves of one flush, in stream order: each line's leaf data (its exact bytes), where it starts and ends. */
export interface LeafBatch {
  data: Uint8Array[];
  starts: number[];
  ends: number[];
  seqs: number[];
}

/**
 * Where a flush's leaves are hashed and sealed: a Sealer in this thread (the default), or the server's seal worker
 * (server/integrity/seal-thread.ts), so the thread that feeds clients does not hash.
 */
export interface LeafSink {
  seal(batch: LeafBatch, identity: string): Promise<void>;
  close(): Promise<void>;
}

/**
 * Seals one batch with `sealer`, one checkpoint: lines another process already sealed (their end is not past the
 * sealed offset) are skipped; a line that does not start at the sealed offset is a gap (SealError). Returns the
 * lines added.
 */
export async function sealLeafBatch(sealer: Sealer, batch: LeafBatch, identity: string): Promise<number> {
  return sealer.locked(async () => {
    for (const [i, data] of batch.data.entries()) {
      const start = batch.starts[i] as number;
      const end = batch.ends[i] as number;
      if (end <= sealer.bytes) continue;
      if (start !== sealer.bytes) {
        throw new SealError(
          `line ${batch.seqs[i]} starts at byte ${start}, but the stream is sealed to byte ${sealer.bytes}: the lines between were not seen`,
        );
      }
      sealer.add(data, end);
    }
    const added = sealer.unsealed;
    if (added > 0) await sealer.checkpoint(identity);
    return added;
  });
}

export interface LineSealerOptions extends SealerOptions {
  key: SealKey;
  /** The stream's sidecar directory. */
  sidecar: string;
  /** The source's identity for the checkpoints (for a file stream, use sealFile instead: it binds the file). */
  identity: string;
  /** The backend's exactBytes, for lines whose text is not their bytes. */
  exactBytes?: (lines: readonly Line[]) => Promise<(Buffer | null)[]>;
  everyLines?: number;
  everyMs?: number;
  /** Sealing problems (a gap, bytes the backend no longer has, I/O): the sealer stops sealing. */
  onError: (error: Error) => void;
  /** Who hashes and seals the leaves; default a Sealer on `sidecar` in this thread. */
  sink?: LeafSink;
}

export class LineSealer {
  private queue: Line[] = [];
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  private failed = false;
  private closed = false;

  private constructor(
    private readonly sink: LeafSink,
    private readonly options: LineSealerOptions,
  ) {}

  static async open(options: LineSealerOptions): Promise<LineSealer> {
    if (options.sink !== undefined) return new LineSealer(options.sink, options);
    const sealer = await Sealer.open(options.sidecar, options.key, options);
    const sink: LeafSink = {
      seal: async (batch, identity) => {
        await sealLeafBatch(sealer, batch, identity);
      },
      close: () => sealer.close(),
    };
    return new LineSealer(sink, options);
  }

  /** Queues lines (synchronous: a hub tap calls it in the feed's pass); sealing happens in the background. */
  push(lines: readonly Line[]): void {
    if (this.failed || this.closed || lines.length === 0) return;
    this.queue.push(...lines);
    if (this.queue.length >= (this.options.everyLines ?? DEFAULT_EVERY_LINES)) this.schedule(0);
    else this.schedule(this.options.everyMs ?? DEFAULT_EVERY_MS);
  }

  /** Seals what is queued now, one checkpoint. */
  flush(): Promise<void> {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
    this.running = this.running.then(() => this.seal());
    return this.running;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    this.closed = true;
    await this.sink.close();
  }

  private schedule(ms: number): void {
    if (this.timer !== null && ms > 0) return;
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.flush(), ms);
    this.timer.unref?.();
  }

  private async seal(): Promise<void> {
    const lines = this.queue;
    this.queue = [];
    if (lines.length === 0 || this.failed) return;
    try {
      const data = await this.leafData(lines);
      const batch: LeafBatch = {
        data,
        starts: lines.map((l) => l.start),
        ends: lines.map((l) => l.end),
        seqs: lines.map((l) => l.seq),
      };
      await this.sink.seal(batch, this.options.identity);
    } catch (error) {
      this.failed = true;
      this.options.onError(error instanceof Error ? error : new Error(String(error)));
    }
  }

  /** Every line's leaf data: from its text where that is exact, else from the backend in one call. */
  private async leafData(lines: readonly Line[]): Promise<Buffer[]> {
    const out = lines.map(exactLineData);
    const missing = lines.filter((_, i) => out[i] === null);
    if (missing.length === 0) return out as Buffer[];
    const fetched =
      this.options.exactBytes === undefined
        ? missing.map(() => null)
        : await this.options.exactBytes(missing);
    let k = 0;
    for (const [i, line] of lines.entries()) {
      if (out[i] !== null) continue;
      const bytes = fetched[k++];
      if (bytes === null || bytes === undefined || bytes.length !== line.end - line.start) {
        throw new SealError(
          `line ${line.seq}: its exact bytes are not available from the source, so it cannot be sealed`,
        );
      }
      out[i] = lineDataOfSource(line, bytes);
    }
    return out as Buffer[];
  }
}
