import type { WebSocket } from "ws";
import { CloseCode } from "../../protocol/errors.js";

/**
 * Caps the messages one WebSocket client may send: a token bucket of `perSecond` tokens a second holding at
 * most 2 x perSecond (bursts such as subscribing to many streams at once pass). An empty bucket closes the
 * socket with 4029; a client that keeps sending after that is cut off.
 */
export function limitMessageRate(ws: WebSocket, perSecond: number, now: () => number = Date.now): void {
  const capacity = perSecond * 2;
  let tokens = capacity;
  let last = now();
  let exceeded = false;
  ws.on("message", () => {
    if (exceeded) {
      ws.terminate();
      return;
    }
    const t = now();
    tokens = Math.min(capacity, tokens + ((t - last) * perSecond) / 1000);
    last = t;
    if (tokens >= 1) {
      tokens -= 1;
      return;
    }
    exceeded = true;
    ws.close(CloseCode.rateLimited, "too many messages");
  });
}
