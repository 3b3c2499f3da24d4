/**
 * A client process for the idle-clients suite: holds thousands of subscribed WebSocket clients to livetrail's
 * /ws from one local (source) address, as lean as ws allows, and says how many of them received a marker line.
 * Driven over IPC by bench/suites/idle-clients.js: { op: "connect", url, n, localAddress, concurrency } then
 * { op: "expect", marker, timeoutMs }, { op: "close" }.
 */
import WebSocket from "ws";

/** @type {{ ws: WebSocket, got: boolean }[]} */
const clients = [];
let marker = "";
let got = 0;
let closedEarly = 0;
/** @type {(() => void) | null} */
let onAll = null;

/**
 * One client: subscribes to the default stream live (tail 0) and resolves once the server acknowledged.
 * @param {string} url
 * @param {string} localAddress
 */
function open(url, localAddress) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, { perMessageDeflate: false, localAddress, handshakeTimeout: 60_000 });
    const slot = { ws, got: false };
    let subscribed = false;
    ws.on("message", (data, isBinary) => {
      const text = isBinary ? "" : data.toString();
      if (!subscribed) {
        const msg = JSON.parse(text);
        if (msg.type === "hello") {
          const stream = (
            msg.streams.find((/** @type {{ default: boolean }} */ s) => s.default) ?? msg.streams[0]
          ).name;
          ws.send(JSON.stringify({ type: "subscribe", stream, tail: 0 }));
        } else if (msg.type === "subscribed") {
          subscribed = true;
          clients.push(slot);
          resolve(undefined);
        } else if (msg.type === "error") reject(new Error(`error frame: ${text.slice(0, 200)}`));
        return;
      }
      if (!slot.got && marker !== "" && text.includes(marker)) {
        slot.got = true;
        got++;
        if (got === clients.length) onAll?.();
      }
    });
    ws.on("error", (err) => {
      if (!subscribed) reject(err);
    });
    ws.on("close", () => {
      if (!subscribed) reject(new Error("closed before subscribed"));
      else closedEarly++;
    });
  });
}

/** @param {{ url: string, n: number, localAddress: string, concurrency: number }} m */
async function connect({ url, n, localAddress, concurrency }) {
  const t0 = performance.now();
  let next = 0;
  let failed = 0;
  /** @type {string[]} */
  const errors = [];
  const lane = async () => {
    while (next < n) {
      next++;
      try {
        await open(url, localAddress);
      } catch (err) {
        failed++;
        if (errors.length < 3) errors.push(String(/** @type {Error} */ (err).message));
      }
    }
  };
  await Promise.all(Array.from({ length: concurrency }, lane));
  return { connected: clients.length, failed, errors, ms: performance.now() - t0 };
}

/** @param {{ marker: string, timeoutMs: number }} m */
function expect({ marker: m, timeoutMs }) {
  marker = m;
  got = 0;
  for (const c of clients) c.got = false;
  return new Promise((resolve) => {
    const t0 = performance.now();
    const done = () => {
      clearTimeout(timer);
      onAll = null;
      resolve({ got, clients: clients.length, closedEarly, ms: performance.now() - t0 });
    };
    const timer = setTimeout(done, timeoutMs);
    onAll = done;
    if (clients.length === 0) done();
  });
}

process.on("message", async (/** @type {any} */ m) => {
  try {
    let result;
    if (m.op === "connect") result = await connect(m);
    else if (m.op === "expect") result = await expect(m);
    else if (m.op === "close") {
      for (const c of clients) c.ws.terminate();
      result = { closed: clients.length };
    }
    process.send?.({ id: m.id, result });
  } catch (err) {
    process.send?.({ id: m.id, error: String(/** @type {Error} */ (err).message) });
  }
});
process.on("disconnect", () => process.exit(0));
