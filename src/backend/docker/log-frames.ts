/**
 * Docker's multiplexed log stream (Engine API v1.43, "Attach to a container" / "Get container logs", "Stream
 * format"): for a container without a TTY each write is a frame, an 8-byte header — stream type (0 stdin,
 * 1 stdout, 2 stderr, 3 the daemon's own error), three zero bytes, the payload's length as a big-endian uint32 —
 * then the payload. Headers may be split anywhere across chunks; a payload is passed on in the pieces it arrives
 * in, never gathered, so a header claiming 4 GiB costs no memory (the line splitter bounds each line).
 */

export type FrameChannel = "stdout" | "stderr" | "system";

export class LogFrameError extends Error {
  override name = "LogFrameError";
}

const HEADER_BYTES = 8;

export class LogFrameDecoder {
  private readonly header = Buffer.alloc(HEADER_BYTES);
  private headerHeld = 0;
  /** Payload bytes of the current frame still to come (0: a header is next). */
  private remaining = 0;
  private channel: FrameChannel = "stdout";

  constructor(private readonly onPayload: (channel: FrameChannel, bytes: Buffer) => void) {}

  /** Consumes a chunk of the stream; throws LogFrameError when a header is not one (not a multiplexed stream). */
  push(chunk: Buffer): void {
    let at = 0;
    while (at < chunk.length) {
      if (this.remaining > 0) {
        const take = Math.min(this.remaining, chunk.length - at);
        this.onPayload(this.channel, chunk.subarray(at, at + take));
        this.remaining -= take;
        at += take;
        continue;
      }
      const take = Math.min(HEADER_BYTES - this.headerHeld, chunk.length - at);
      chunk.copy(this.header, this.headerHeld, at, at + take);
      this.headerHeld += take;
      at += take;
      if (this.headerHeld < HEADER_BYTES) return;
      this.headerHeld = 0;
      this.channel = channelOf(this.header);
      this.remaining = this.header.readUInt32BE(4);
    }
  }

  /** Whether the stream ended cleanly (not inside a header or a payload). */
  get atFrameBoundary(): boolean {
    return this.headerHeld === 0 && this.remaining === 0;
  }
}

function channelOf(header: Buffer): FrameChannel {
  const type = header[0] as number;
  if (header[1] !== 0 || header[2] !== 0 || header[3] !== 0 || type > 3) {
    throw new LogFrameError(
      `not a multiplexed log stream (frame header ${header.subarray(0, 4).toString("hex")})`,
    );
  }
  return type === 2 ? "stderr" : type === 3 ? "system" : "stdout";
}
