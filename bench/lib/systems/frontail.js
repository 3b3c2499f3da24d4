/**
 * frontail 4.9.2 under test: its own CLI with only --host 127.0.0.1 and --disable-usage-stats changed
 * (plus -n for the cold-start bench, which is how frontail sends existing lines). Its browser client speaks
 * socket.io 2 (Engine.IO 3) over a WebSocket; we speak the same few packets with `ws` directly:
 * "0{..}" open, "40" root connect, we send "40/<ns>," and receive "42/<ns>,[\"line\",\"...\"]".
 */
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { canConnect, freePort, startProcess, waitFor } from "../proc.js";
import { closeWs, openWs } from "./ws-util.js";

// The benchmark's own package (bench/package.json) holds frontail and its socket.io 2 tree, not the product's.
const BIN = resolve(import.meta.dirname, "../../node_modules/frontail/bin/frontail");

/** @type {import("./types.js").System} */
export const frontail = {
  name: "frontail",
  async start({ file, tailLines = 10 }) {
    if (!existsSync(BIN))
      throw new Error(`frontail is not installed (${BIN}): run \`npm ci --prefix bench\``);
    const port = await freePort();
    const args = [BIN, "--host", "127.0.0.1", "--port", String(port), "--disable-usage-stats"];
    if (tailLines !== 10) args.push("--number", String(tailLines));
    const proc = startProcess(process.execPath, [...args, file]);
    await waitFor(
      async () => (await canConnect(port)) || (proc.child.exitCode !== null && fail(proc.stderr())),
      {
        timeoutMs: 30_000,
        what: "frontail to listen",
      },
    );
    return { pid: proc.pid, port, target: { port, file }, stop: proc.stop, output: proc.stderr };
  },

  async connect(target, { onLine, onClose }) {
    // frontail names its socket.io namespace after the md5 of the file arguments joined by spaces.
    const ns = `/${createHash("md5").update(target.file).digest("hex")}`;
    const linePrefix = `42${ns},`;
    /** @type {NodeJS.Timeout | undefined} */
    let ping;
    const ws = await openWs(`ws://127.0.0.1:${target.port}/socket.io/?EIO=3&transport=websocket`, {
      onClose(code) {
        clearInterval(ping);
        onClose?.(code);
      },
      onMessage(data, recv, sock) {
        if (data.startsWith(linePrefix)) {
          const ev = JSON.parse(data.slice(linePrefix.length));
          if (ev[0] === "line") onLine(ev[1], recv);
          return false;
        }
        if (data === "40") {
          sock.send(`40${ns},`);
          // Engine.IO 3: the client pings; the server drops it after pingInterval + pingTimeout (30 s) otherwise.
          ping = setInterval(() => sock.send("2"), 20_000);
          return false;
        }
        return data === `40${ns}` || data.startsWith(`40${ns},`);
      },
    });
    return {
      close: () => {
        clearInterval(ping);
        return closeWs(ws);
      },
      pause: () => ws.pause(),
      resume: () => ws.resume(),
    };
  },
};

/** @param {string} out */
function fail(out) {
  throw new Error(`frontail exited before listening:\n${out}`);
}
