import { createHash } from "node:crypto";
import { readFile } from "node:fs/promises";
import { WebSocket } from "ws";
import type { ServerOptions } from "../../src/server/options.js";
import type { SecurityOptions } from "../../src/server/security/security-options.js";
import { parseReceived, type Received } from "../helpers/received.js";
import type { TempDir } from "../helpers/temp-dir.js";
import { startServer } from "../server/harness.js";

export const READ = "read-token-0123456789abcdef";
export const READ2 = "second-read-token-fedcba9876543210";
export const WRITE = "write-token-0123456789abcdef";
export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

export type Started = Awaited<ReturnType<typeof startServer>>;

/** A real server on 127.0.0.1:0 following `audit.log` (two seed-format lines) in `dir`, with `security`. */
export async function startSecured(
  dir: TempDir,
  security: SecurityOptions,
  extra: Partial<ServerOptions> = {},
): Promise<Started & { file: string }> {
  const file = dir.file("audit.log");
  const { writeFile } = await import("node:fs/promises");
  await writeFile(file, "[2025-12-17T17:40:37Z] first line\n[2025-12-17T17:40:38Z] second line\n", {
    flag: "a",
  });
  const started = await startServer([{ name: "audit", file }], { security, ...extra });
  return { ...started, file };
}

export async function sha256(file: string): Promise<string> {
  return createHash("sha256")
    .update(await readFile(file))
    .digest("hex");
}

export type Upgrade =
  | {
      ok: true;
      ws: WebSocket;
      messages: Received[];
      /** Frames that are not JSON (the /ws/audit feed). */
      raw: string[];
      closed: Promise<{ code: number; reason: string }>;
    }
  | { ok: false; status: number; body: string };

/**
 * Opens a real WebSocket; resolves with the open socket (messages recorded, hello awaited) or with the HTTP
 * status the server refused the upgrade with.
 */
export function openWs(
  url: string,
  options: { headers?: Record<string, string>; origin?: string; ca?: string; waitHello?: boolean } = {},
): Promise<Upgrade> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, {
      perMessageDeflate: false,
      headers: options.headers ?? {},
      ...(options.origin === undefined ? {} : { origin: options.origin }),
      ...(options.ca === undefined ? {} : { ca: options.ca }),
    });
    const messages: Received[] = [];
    const raw: string[] = [];
    const closed = new Promise<{ code: number; reason: string }>((done) => {
      ws.on("close", (code, reason) => done({ code, reason: reason.toString() }));
    });
    ws.on("message", (data, isBinary) => {
      // /ws/audit sends raw text lines, /ws JSON frames.
      if (isBinary) return;
      try {
        messages.push(parseReceived(data.toString()));
      } catch {
        raw.push(data.toString());
      }
    });
    ws.once("unexpected-response", (_req, res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        resolve({ ok: false, status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString() });
        ws.terminate();
      });
    });
    ws.once("open", () => {
      if (options.waitHello === false || new URL(url).pathname === "/ws/audit") {
        resolve({ ok: true, ws, messages, raw, closed });
        return;
      }
      const check = () => {
        if (messages.some((m) => m.type === "hello")) resolve({ ok: true, ws, messages, raw, closed });
        else ws.once("message", check);
      };
      check();
    });
    // After a refused upgrade (already resolved) terminate() may report an error: settled promises ignore it.
    ws.on("error", reject);
  });
}

/** Closes a socket opened by openWs (no-op for refused upgrades); waits for the close. */
export async function closeWs(upgrade: Upgrade): Promise<void> {
  if (!upgrade.ok) return;
  if (upgrade.ws.readyState === WebSocket.CLOSED) return;
  const timer = setTimeout(() => upgrade.ws.terminate(), 2000);
  upgrade.ws.close();
  await upgrade.closed;
  clearTimeout(timer);
}
