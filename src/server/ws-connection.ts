import type { WebSocket } from "ws";
import type { Connection, Transport } from "./connections.js";
import type { Beating } from "./heartbeat.js";

/**
 * What the `/ws` and `/ws/audit` sessions share: the heartbeat (a ping each beat; a client that answered nothing
 * since the previous one is dropped) and the controls the server uses on every connection.
 */
export abstract class WsConnection implements Beating, Connection {
  abstract readonly transport: Transport;
  private alive = true;

  constructor(
    protected readonly ws: WebSocket,
    private readonly onHeartbeatTimeout: () => void,
  ) {
    ws.on("pong", () => this.markAlive());
  }

  /** Any sign of life from the client (a pong, a message) counts as an answer. */
  protected markAlive(): void {
    this.alive = true;
  }

  beat(): void {
    if (!this.alive) {
      this.onHeartbeatTimeout();
      this.ws.terminate();
      return;
    }
    this.alive = false;
    this.ws.ping();
  }

  /** Server shutdown or policy close; the close frame carries `code`. */
  close(code: number, reason: string): void {
    this.ws.close(code, reason);
  }

  terminate(): void {
    this.ws.terminate();
  }

  bufferedBytes(): number {
    return this.ws.bufferedAmount;
  }
}
