/** How a client is connected. */
export type Transport = "ws" | "sse" | "ws-audit";

export interface Connection {
  readonly transport: Transport;
  /** Polite close (WebSocket close frame with `code`; SSE: end the response). */
  close(code: number, reason: string): void;
  /** Cut the connection now. */
  terminate(): void;
  /** Bytes queued in this process for the client and not yet handed to the OS. */
  bufferedBytes(): number;
}

/** Every open client connection, for shutdown and metrics. */
export class Connections {
  private readonly open = new Set<Connection>();
  private emptied: (() => void) | null = null;
  heartbeatTimeouts = 0;

  add(connection: Connection): void {
    this.open.add(connection);
  }

  delete(connection: Connection): void {
    this.open.delete(connection);
    if (this.open.size === 0) this.emptied?.();
  }

  get size(): number {
    return this.open.size;
  }

  count(transport: Transport): number {
    let n = 0;
    for (const c of this.open) if (c.transport === transport) n++;
    return n;
  }

  /** The largest per-client queue right now (backpressure keeps it near maxBufferedBytes at most). */
  maxBufferedBytes(): number {
    let max = 0;
    for (const c of this.open) max = Math.max(max, c.bufferedBytes());
    return max;
  }

  /** Closes everyone with `code`, waits up to `graceMs` for the handshakes, then cuts off whoever is left. */
  async closeAll(code: number, reason: string, graceMs: number): Promise<void> {
    if (this.open.size === 0) return;
    const allGone = new Promise<void>((resolve) => {
      this.emptied = resolve;
    });
    for (const c of [...this.open]) c.close(code, reason);
    let timer: NodeJS.Timeout | undefined;
    const grace = new Promise<void>((resolve) => {
      timer = setTimeout(resolve, graceMs);
    });
    await Promise.race([allGone, grace]);
    clearTimeout(timer);
    for (const c of [...this.open]) c.terminate();
    this.open.clear();
    this.emptied = null;
  }
}
