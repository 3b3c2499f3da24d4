/**
 * websocketd (Debian package) under test: `websocketd --port P --address 127.0.0.1 tail -n0 -F FILE`,
 * the naive baseline: one `tail` process per client, each stdout line one text frame.
 */
import { canConnect, freePort, startProcess, waitFor } from "../proc.js";
import { closeWs, openWs } from "./ws-util.js";

/** @type {import("./types.js").System} */
export const websocketd = {
  name: "websocketd",
  async start({ file, tailLines = 0 }) {
    const port = await freePort();
    const args = ["--port", String(port), "--address", "127.0.0.1", "tail", `-n${tailLines}`, "-F", file];
    // Its per-connection access log goes to stderr; we discard it rather than change its log level.
    const proc = startProcess("/usr/bin/websocketd", args, { quiet: true });
    await waitFor(async () => (await canConnect(port)) || (proc.child.exitCode !== null && fail()), {
      timeoutMs: 30_000,
      what: "websocketd to listen",
    });
    return { pid: proc.pid, port, target: { port, file }, stop: proc.stop, output: () => "" };
  },

  async connect(target, { onLine, onClose }) {
    const ws = await openWs(`ws://127.0.0.1:${target.port}/`, {
      onClose,
      readyOnOpen: true,
      onMessage(data, recv) {
        onLine(data.endsWith("\n") ? data.slice(0, -1) : data, recv);
        return false;
      },
      timeoutMs: 30_000,
    });
    return { close: () => closeWs(ws), pause: () => ws.pause(), resume: () => ws.resume() };
  },
};

function fail() {
  throw new Error("websocketd exited before listening");
}
