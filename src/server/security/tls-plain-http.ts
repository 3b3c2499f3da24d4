import type { Socket } from "node:net";
import type { Server as TlsServer } from "node:tls";

/** Every TLS connection starts with a handshake record, content type 22; plain HTTP starts with a method name. */
const TLS_HANDSHAKE = 0x16;
/** A client that connects and says nothing is dropped after this long (the TLS server's own timeout is 120 s). */
const FIRST_BYTE_TIMEOUT_MS = 10_000;

/** How long a plain-HTTP client has to read the answer and close its side before the socket is cut. */
const CLOSE_AFTER_MS = 2_000;

const PLAIN_HTTP_ANSWER =
  "HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain; charset=utf-8\r\nConnection: close\r\n\r\n" +
  "This port speaks HTTPS: use https:// instead of http:// in the address.\n";

/**
 * Makes the TLS server answer a plain HTTP request with a 400 that says to use https:// (browsers and curl
 * otherwise show an empty reply). The first byte of each connection is peeked and put back: a TLS handshake goes
 * on to the server's own connection handling untouched, anything else gets the answer and is closed.
 * `onPlain` sees each such connection (for the log).
 */
export function answerPlainHttp(server: TlsServer, onPlain: (socket: Socket) => void = () => {}): void {
  const handlers = server.listeners("connection") as ((socket: Socket) => void)[];
  server.removeAllListeners("connection");
  server.on("connection", (socket: Socket) => {
    socket.setTimeout(FIRST_BYTE_TIMEOUT_MS, () => socket.destroy());
    socket.once("readable", () => {
      socket.setTimeout(0);
      const chunk = socket.read() as Buffer | null;
      if (chunk === null) {
        socket.destroy(); // closed before sending anything
        return;
      }
      socket.unshift(chunk);
      if (chunk[0] === TLS_HANDSHAKE) {
        for (const handler of handlers) handler.call(server, socket);
        return;
      }
      onPlain(socket);
      socket.on("error", () => socket.destroy());
      // The request is read and dropped (closing with unread input would reset the connection and lose the
      // answer); the socket is the TLS server's to close, so it must not outlive the client's patience either.
      socket.resume();
      socket.end(PLAIN_HTTP_ANSWER);
      setTimeout(() => socket.destroy(), CLOSE_AFTER_MS).unref();
    });
  });
}
