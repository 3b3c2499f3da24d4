import { appendFile, readFile } from "node:fs/promises";
import type { ClientRequest, IncomingMessage, RequestOptions } from "node:http";
import { expect } from "vitest";
import { type ClientOptions, WebSocket } from "ws";
import { waitFor } from "../helpers/wait-for.js";

/**
 * What the proxy tests (nginx, Caddy) share: the example is taken from docs/deploy.md itself, changed only where a
 * pattern says, and a live line must come through the proxy over a WebSocket and as an SSE event.
 */

/** The fenced ```LANG block of docs/deploy.md. */
export async function documentedBlock(lang: string): Promise<string> {
  const docs = await readFile(new URL("../../docs/deploy.md", import.meta.url), "utf8");
  const block = new RegExp(`\`\`\`${lang}\\n([\\s\\S]*?)\`\`\``).exec(docs)?.[1];
  if (block === undefined) throw new Error(`docs/deploy.md has no \`\`\`${lang} block`);
  return block;
}

/** Replaces `pattern` in `text`, failing when the docs no longer contain it (so the test follows the docs). */
export function substitute(text: string, pattern: RegExp, replacement: string, example: string): string {
  if (!pattern.test(text))
    throw new Error(`docs/deploy.md's ${example} example no longer matches ${pattern}`);
  return text.replace(pattern, replacement);
}

export interface LiveThroughProxy {
  /** The proxy's base URL (http: or https:). */
  proxied: string;
  /** The log the server follows: a line appended to it must come through live. */
  log: string;
  /** The proxy's name, in the marker line and the messages. */
  name: string;
  headers: Record<string, string>;
  /** The WebSocket's Origin, when the test sends the page's own (a proxy that speaks https for the server). */
  origin?: string;
  /** node:http's or node:https's request, and what else it and the WebSocket need (a CA, a lookup). */
  request: (url: string, options: RequestOptions) => ClientRequest;
  options?: RequestOptions & ClientOptions;
}

/** A WebSocket subscription and an SSE response through the proxy, then a line appended: both get it at once. */
export async function expectLiveThroughProxy(p: LiveThroughProxy): Promise<void> {
  const options = p.options ?? {};
  const ws = new WebSocket(`${p.proxied.replace(/^http/, "ws")}/ws`, {
    ...options,
    headers: p.origin === undefined ? p.headers : { ...p.headers, origin: p.origin },
    perMessageDeflate: false,
  });
  const frames: string[] = [];
  ws.on("message", (data) => frames.push(data.toString()));
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("unexpected-response", (_req, res) => reject(new Error(`WebSocket upgrade: ${res.statusCode}`)));
    ws.once("error", reject);
  });
  // SSE: the response stays open and each event must arrive while it does.
  let sse = "";
  let sseStatus = 0;
  const sseRequest = p.request(`${p.proxied}/api/streams/audit/events?tail=0`, {
    ...options,
    headers: { ...p.headers, accept: "text/event-stream" },
  });
  sseRequest.on("response", (res: IncomingMessage) => {
    sseStatus = res.statusCode ?? 0;
    res.setEncoding("utf8");
    res.on("data", (chunk: string) => {
      sse += chunk;
    });
    res.on("error", () => undefined);
  });
  sseRequest.on("error", () => undefined);
  sseRequest.end();
  try {
    await waitFor(() => frames.some((f) => f.includes('"hello"')), { message: "hello over the proxy" });
    ws.send(JSON.stringify({ type: "subscribe", stream: "audit", tail: 0 }));
    await waitFor(() => frames.some((f) => f.includes('"live"')), { message: "live over the proxy" });
    await waitFor(() => sseStatus === 200, { message: "the SSE response" });
    // Its first bytes (`retry:`) came through before any line: the proxy streams it, and the line below is live.
    await waitFor(() => sse.length > 0, { message: "the SSE stream's first bytes" });
    const marker = `[2025-12-17T17:40:38Z] through ${p.name}, live`;
    await appendFile(p.log, `${marker}\n`);
    await waitFor(() => frames.some((f) => f.includes(marker)), {
      timeoutMs: 20_000,
      message: `the line over the WebSocket through ${p.name}`,
    });
    await waitFor(() => sse.includes(marker), {
      timeoutMs: 20_000,
      message: `the line as an SSE event through ${p.name} (unbuffered)`,
    });
    expect(sse).toMatch(new RegExp(`^data: .*through ${p.name}, live`, "m"));
  } finally {
    sseRequest.destroy();
    ws.terminate();
  }
}
