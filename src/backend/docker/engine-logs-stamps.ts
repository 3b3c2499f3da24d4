import type { RingInput } from "../ring/ring-backend.js";

/**
 * With `timestamps=1` the Engine API puts the line's time (RFC3339Nano with nine fraction digits, as Docker's
 * RFC3339NanoFixed) and a space before each line. StampedLines takes one channel's bytes, strips each line's stamp
 * (remembering its time for the line, in order) and passes the rest on, so the ring's exact splitter cuts and
 * marks lines as it does for any source. A stamp is at most MAX_STAMP_BYTES: a line that does not start with one
 * goes on unchanged, with no time.
 */

const MAX_STAMP_BYTES = 40;
const SPACE = 0x20;
const LF = 0x0a;
const STAMP = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d{1,9}))?(Z|[+-]\d\d:\d\d)$/;

/** A Docker log time: its text and nanoseconds since the epoch (exact: a JS number is not). */
export interface DockerTime {
  iso: string;
  ns: bigint;
}

export function parseDockerTime(text: string): DockerTime | null {
  const m = STAMP.exec(text);
  if (m === null) return null;
  const ms = Date.parse(`${m[1]}${m[3]}`);
  if (Number.isNaN(ms)) return null;
  const fraction = BigInt((m[2] ?? "").padEnd(9, "0"));
  return { iso: text, ns: BigInt(ms) * 1_000_000n + fraction };
}

/** Docker's `since`: a UNIX time in seconds with a nine-digit fraction. */
export function sinceParam(ns: bigint): string {
  const s = ns / 1_000_000_000n;
  const fraction = (ns % 1_000_000_000n).toString().padStart(9, "0");
  return `${s}.${fraction}`;
}

export interface StampedLinesOptions {
  /** Lines at or before this time are dropped (a resumed stream resends them). */
  after: bigint | null;
  /** Each line's time (undefined: it had none), in the order its line reaches the ring. */
  onLine: (time: DockerTime | undefined) => void;
}

export class StampedLines {
  private state: "stamp" | "text" | "drop" = "stamp";
  private readonly stamp = Buffer.alloc(MAX_STAMP_BYTES);
  private stampHeld = 0;
  /** The current line's time, told (onLine) just before its first byte goes to the ring: a line that never
   * gets a byte (the stream ends right after its stamp) is no line and has no time. */
  private time: DockerTime | undefined;
  private told = false;

  constructor(
    private readonly input: RingInput,
    private readonly options: StampedLinesOptions,
  ) {}

  write(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.state === "stamp") {
        const byte = chunk[at] as number;
        if (byte === SPACE) {
          at++;
          this.stampEnded(this.stamp.toString("latin1", 0, this.stampHeld));
        } else if (byte === LF || this.stampHeld === MAX_STAMP_BYTES) {
          this.noStamp();
        } else {
          this.stamp[this.stampHeld++] = byte;
          at++;
        }
        continue;
      }
      const nl = chunk.indexOf(LF, at);
      const end = nl < 0 ? chunk.length : nl + 1;
      if (this.state === "text") this.pass(chunk.subarray(at, end));
      at = end;
      if (nl >= 0) this.lineEnded();
    }
  }

  /** The stream ended: a partial line is kept (marked unterminated by the ring). */
  end(): void {
    if (this.state === "stamp" && this.stampHeld > 0) this.noStamp();
    this.input.end();
    this.lineEnded();
  }

  private stampEnded(text: string): void {
    this.stampHeld = 0;
    const time = parseDockerTime(text);
    if (time === null) {
      // Not a stamp after all: the bytes are the line's own.
      this.state = "text";
      this.time = undefined;
      this.pass(Buffer.from(`${text} `, "latin1"));
      return;
    }
    const after = this.options.after;
    if (after !== null && time.ns <= after) {
      this.state = "drop";
      return;
    }
    this.state = "text";
    this.time = time;
  }

  private noStamp(): void {
    const held = Buffer.from(this.stamp.subarray(0, this.stampHeld));
    this.stampHeld = 0;
    this.state = "text";
    this.time = undefined;
    this.pass(held);
  }

  private pass(bytes: Buffer): void {
    if (bytes.length === 0) return;
    if (!this.told) this.options.onLine(this.time);
    this.told = true;
    this.input.write(bytes);
  }

  private lineEnded(): void {
    this.state = "stamp";
    this.time = undefined;
    this.told = false;
  }
}
