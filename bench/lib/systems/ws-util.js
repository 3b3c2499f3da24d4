/** Small helpers shared by the WebSocket client adapters. */
import WebSocket from "ws";
import { nowMs } from "../proc.js";

/**
 * Open a WebSocket and resolve once `ready(msg)` says the handshake of the app protocol is done.
 * Every received text frame goes to `onMessage(data, recvMs)` first; binary frames too (as text), unless
 * `onBinary(bytes, recvMs)` takes them.
 * @param {string} url
 * @param {{ onMessage: (data: string, recvMs: number, ws: WebSocket) => boolean | void, onClose?: (code: number) => void,
 *   onBinary?: (data: Buffer, recvMs: number) => void,
 *   onOpen?: (ws: WebSocket) => void, onError?: (e: Error) => void, readyOnOpen?: boolean, timeoutMs?: number }} o
 *   onMessage returns true when the app-level handshake has completed (or readyOnOpen: the socket opening is enough).
 * @returns {Promise<WebSocket>}
 */
export function openWs(
  url,
  {
    onMessage,
    onBinary,
    onClose,
    onOpen,
    onError = (e) => console.error(e.message),
    readyOnOpen = false,
    timeoutMs = 30_000,
  },
) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, handshakeTimeout: timeoutMs });
    let ready = false;
    const timer = setTimeout(() => {
      if (!ready) {
        ws.terminate();
        reject(new Error(`no app handshake from ${url} within ${timeoutMs} ms`));
      }
    }, timeoutMs);
    ws.on("open", () => {
      onOpen?.(ws);
      if (readyOnOpen && !ready) {
        ready = true;
        clearTimeout(timer);
        resolve(ws);
      }
    });
    ws.on("message", (data, isBinaryFlag) => {
      const recv = nowMs();
      // ws 8 says which frames are binary; ws 7 (what bench/node_modules resolves, frontail's) has no flag and
      // gives text frames as strings.
      const isBinary = isBinaryFlag ?? typeof data !== "string";
      if (isBinary && onBinary) {
        try {
          onBinary(/** @type {Buffer} */ (data), recv);
        } catch (err) {
          onError(/** @type {Error} */ (err));
        }
        return;
      }
      const text = isBinary ? Buffer.from(/** @type {Buffer} */ (data)).toString() : data.toString();
      try {
        if (onMessage(text, recv, ws) && !ready) {
          ready = true;
          clearTimeout(timer);
          resolve(ws);
        }
      } catch (err) {
        if (ready) onError(/** @type {Error} */ (err));
        else {
          clearTimeout(timer);
          ws.terminate();
          reject(err);
        }
      }
    });
    ws.on("error", (err) => {
      if (!ready) {
        clearTimeout(timer);
        reject(err);
      }
    });
    ws.on("close", (code) => {
      clearTimeout(timer);
      if (!ready) reject(new Error(`closed (${code}) before the handshake completed`));
      onClose?.(code);
    });
  });
}

/**
 * Close a socket and resolve when it is closed (terminate after 2 s).
 * @param {WebSocket} ws
 */
export function closeWs(ws) {
  return new Promise((resolve) => {
    if (ws.readyState === WebSocket.CLOSED) return resolve(undefined);
    const t = setTimeout(() => ws.terminate(), 2000);
    ws.once("close", () => {
      clearTimeout(t);
      resolve(undefined);
    });
    ws.close();
  });
}
