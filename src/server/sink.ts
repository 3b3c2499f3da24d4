import type { Format } from "./frames.js";

/**
 * Where one client's bytes go (a WebSocket, an SSE response), with the one signal backpressure needs: how much is
 * queued in this process for that client and not yet handed to the OS.
 */
export interface Sink {
  readonly format: Format;
  /** Past this many queued bytes live delivery to the client stops (see Subscription). */
  readonly maxBufferedBytes: number;
  readonly open: boolean;
  /** The connection's own object (WebSocket, SSE response): lines sent are tallied on it for the session log. */
  readonly peer?: object;
  send(data: Buffer | string): void;
  bufferedBytes(): number;
  /** Resolves once everything queued so far has been handed to the OS, or the client is gone. */
  drained(): Promise<void>;
  /** The client cannot keep up and the format has no gap message: end the connection. */
  overflow(): void;
}
