import { mkdir, readFile, rename } from "node:fs/promises";
import type { Socket } from "node:net";
import { describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { useClosers } from "../helpers/closer.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { appendLines, makeLines, startServer, writeLines } from "./harness.js";

const track = useClosers();
const tempDir = useTempDirs("livetrail-compat-");

/** An old-dashboard client: concatenates whatever text frames arrive, as its `auditRaw += data` did. */
async function oldClient(url: string): Promise<{ ws: WebSocket; frames: string[]; text(): string }> {
  const ws = new WebSocket(url);
  const frames: string[] = [];
  ws.on("message", (data, isBinary) => {
    expect(isBinary).toBe(false);
    frames.push(data.toString());
  });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  track({ close: async () => ws.terminate() });
  return { ws, frames, text: () => frames.join("") };
}

describe("the old endpoints", () => {
  it("GET and HEAD /api/audit return the audit log text", async () => {
    const dir = await tempDir();
    const file = dir.file("AUTO_REPAIR_AUDIT.log");
    await writeLines(file, makeLines(0, 50, "entry"));
    const { url } = track(await startServer([{ name: "audit", file }]));
    const res = await fetch(`${url}/api/audit`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(await res.text()).toBe(await readFile(file, "utf8"));
    const head = await fetch(`${url}/api/audit`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String((await readFile(file)).length));
    expect(await head.text()).toBe("");
  });

  it("WS /ws/audit sends the last ~1000 characters cut at a line start, then each new line once per client", async () => {
    const dir = await tempDir();
    const file = dir.file("AUTO_REPAIR_AUDIT.log");
    const history = makeLines(0, 100, "history entry with some words");
    await writeLines(file, history);
    const { wsUrl } = track(await startServer([{ name: "audit", file }]));
    const clients = [await oldClient(`${wsUrl}/ws/audit`), await oldClient(`${wsUrl}/ws/audit`)];
    for (const c of clients) await waitFor(() => c.frames.length >= 1, { message: "initial frame" });

    const whole = `${history.join("\n")}\n`;
    for (const c of clients) {
      const initial = c.frames[0] as string;
      expect(initial.length).toBeLessThanOrEqual(1000);
      expect(initial.length).toBeGreaterThan(1000 - 60); // whole lines only: at most one line short
      expect(whole.endsWith(initial)).toBe(true);
      expect(whole[whole.length - initial.length - 1]).toBe("\n"); // starts at a line start
    }
    const fresh = makeLines(0, 3, "fresh");
    await appendLines(file, fresh.slice(0, 1));
    await appendLines(file, fresh.slice(1));
    for (const c of clients) {
      await waitFor(() => c.text().includes(fresh[2] as string), { message: "fresh lines" });
      expect(c.frames.slice(1).join("")).toBe(`${fresh.join("\n")}\n`);
    }
  });

  it("WS /ws/audit is closed with 1011 when reading the log fails after connecting (no silent hang)", async () => {
    const dir = await tempDir();
    const file = dir.file("AUTO_REPAIR_AUDIT.log");
    await writeLines(file, makeLines(0, 100, "history entry"));
    // A one-line window and a small queue: a client that stops reading falls behind and is caught up from the file.
    const { server, wsUrl } = track(
      await startServer([{ name: "audit", file }], {
        windowLines: 1,
        maxBufferedBytes: 64 * 1024,
        maxFrameBytes: 16 * 1024,
      }),
    );
    const hub = server.streams.default;
    const client = await oldClient(`${wsUrl}/ws/audit`);
    let closeCode: number | null = null;
    client.ws.on("close", (code) => {
      closeCode = code;
    });
    await waitFor(() => client.frames.length >= 1, { message: "initial frame" });
    const socket = (client.ws as unknown as { _socket: Socket })._socket;
    socket.pause();
    // Write until the server skips lines for this client (it is behind, waiting for it to drain).
    const unsent = (): number => hub.counters.linesRead - hub.counters.linesSent;
    const unsentBefore = unsent();
    let written = 100;
    for (let round = 0; round < 64 && unsent() === unsentBefore; round++) {
      const target = hub.counters.linesRead + 128;
      await appendLines(file, makeLines(written, 128, `bulk ${"x".repeat(8000)}`));
      written += 128;
      await waitFor(() => hub.counters.linesRead >= target, { message: "the hub reading the bulk lines" });
    }
    expect(unsent()).toBeGreaterThan(unsentBefore);
    // One more round while it is behind: the one-line window then starts past the client's position wherever the
    // overflow happened (it may have been at the window's only line), so the catch-up must read the file.
    const target = hub.counters.linesRead + 128;
    await appendLines(file, makeLines(written, 128, `bulk ${"x".repeat(8000)}`));
    await waitFor(() => hub.counters.linesRead >= target, { message: "the hub reading past the window" });
    // The log is replaced by something unreadable before the client drains: its catch-up read fails.
    await rename(file, `${file}.1`);
    await mkdir(file);
    socket.resume();
    await waitFor(() => closeCode !== null, { timeoutMs: 20_000, message: "the server closing the socket" });
    expect(closeCode).toBe(1011);
  });
});
