import { appendFile, writeFile } from "node:fs/promises";
import { WebSocket } from "ws";
import type { FrameLine } from "../../src/protocol/lines-frame.js";
import { createServer, type LivetrailServer } from "../../src/server/app.js";
import type { ServerOptions } from "../../src/server/options.js";
import { parseReceived, type Received } from "../helpers/received.js";
import { waitFor } from "../helpers/wait-for.js";

/** Seed-format lines with a unique, ordered message each. */
export function makeLines(from: number, count: number, tag = "line"): string[] {
  const out: string[] = [];
  for (let i = from; i < from + count; i++) {
    const seconds = String(i % 60).padStart(2, "0");
    out.push(`[2025-12-17T17:40:${seconds}Z] ${tag} ${i} ok`);
  }
  return out;
}

export async function appendLines(file: string, lines: readonly string[]): Promise<void> {
  if (lines.length > 0) await appendFile(file, `${lines.join("\n")}\n`);
}

export async function writeLines(file: string, lines: readonly string[]): Promise<void> {
  await writeFile(file, lines.length > 0 ? `${lines.join("\n")}\n` : "");
}

/** A real server on 127.0.0.1, ephemeral port, fast polling so tests do not depend on fs.watch alone. */
export async function startServer(
  streams: ServerOptions["streams"],
  options: Partial<ServerOptions> = {},
): Promise<{ server: LivetrailServer; url: string; wsUrl: string; close(): Promise<void> }> {
  const server = createServer({
    streams,
    host: "127.0.0.1",
    port: 0,
    pollIntervalMs: 50,
    staticDir: null,
    ...options,
  });
  const address = await server.listen();
  return {
    server,
    url: address.url,
    wsUrl: address.url.replace(/^http/, "ws"),
    close: () => server.close(),
  };
}

/** A real `ws` client that records every message the server sends. */
export class TestClient {
  readonly messages: Received[] = [];
  closeCode: number | null = null;
  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data) => {
      this.messages.push(parseReceived(data.toString()));
    });
    ws.on("close", (code) => {
      this.closeCode = code;
    });
  }

  static async connect(url: string): Promise<TestClient> {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const client = new TestClient(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    await client.waitFor((m) => m.type === "hello");
    return client;
  }

  send(message: unknown): void {
    this.ws.send(typeof message === "string" ? message : JSON.stringify(message));
  }

  /** The first message (at or after index `from`) matching `predicate`. */
  async waitFor<T extends Received>(
    predicate: (m: Received) => boolean,
    options: { from?: number; timeoutMs?: number; message?: string } = {},
  ): Promise<T> {
    return (await waitFor(() => this.messages.slice(options.from ?? 0).find(predicate), {
      timeoutMs: options.timeoutMs ?? 15_000,
      message: options.message ?? "a matching server message",
    })) as T;
  }

  async subscribe(stream: string, extra: { since?: string; tail?: number } = {}): Promise<void> {
    const from = this.messages.length;
    this.send({ type: "subscribe", stream, ...extra });
    await this.waitFor(
      (m) => (m.type === "live" || m.type === "error") && "stream" in m && m.stream === stream,
      {
        from,
        message: `live on ${stream}`,
      },
    );
  }

  /** Every line received on `stream`, in order. */
  lines(stream?: string): FrameLine[] {
    const out: FrameLine[] = [];
    for (const m of this.messages) {
      if (m.type === "lines" && (stream === undefined || m.stream === stream)) out.push(...m.lines);
    }
    return out;
  }

  texts(stream?: string): string[] {
    return this.lines(stream).map((l) => l.text);
  }

  /** Waits for a line with exactly this text. */
  async waitForText(text: string, options: { timeoutMs?: number } = {}): Promise<void> {
    await this.waitFor((m) => m.type === "lines" && m.lines.some((l) => l.text === text), {
      ...options,
      message: `the line ${JSON.stringify(text)}`,
    });
  }

  async waitForLines(count: number, stream?: string, timeoutMs = 20_000): Promise<void> {
    await waitFor(() => this.lines(stream).length >= count, {
      timeoutMs,
      message: `${count} lines (have ${this.lines(stream).length})`,
    });
  }

  async close(): Promise<void> {
    if (this.ws.readyState === WebSocket.CLOSED) return;
    await new Promise<void>((resolve) => {
      this.ws.once("close", () => resolve());
      if (this.ws.readyState === WebSocket.OPEN || this.ws.readyState === WebSocket.CONNECTING) {
        this.ws.close();
      }
      // A paused or stuck socket will not finish the handshake: cut it.
      setTimeout(() => this.ws.terminate(), 2000).unref();
    });
  }
}
