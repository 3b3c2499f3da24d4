import { execFile } from "node:child_process";
import { appendFile, chmod, readFile, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { createServer } from "node:net";
import { promisify } from "node:util";
import { describe, expect, it, vi } from "vitest";
import { WebSocket } from "ws";
import { CLI, finished, killStrays, start, withoutLivetrailEnv } from "../cli/run-cli.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";

/**
 * The nginx example of docs/deploy.md, taken from the docs themselves (only the TLS lines, the listen addresses
 * and the upstream port are changed), in front of a real `livetrail serve` started as the docs say
 * (--trust-proxy, --allowed-host, a token): a WebSocket line and an SSE event must come through it live.
 * Skipped where nginx is not installed (scripts/test-all.sh installs it).
 */

vi.setConfig({ testTimeout: 120_000 });
killStrays();
const tempDir = useTempDirs("livetrail-nginx-");

const NGINX = "/usr/sbin/nginx";
const installed = await promisify(execFile)(NGINX, ["-v"]).then(
  () => true,
  () => false,
);
const TOKEN = "read-token-nginx-0123456789abcdef";

/** The ```nginx block of docs/deploy.md. */
async function documentedConfig(): Promise<string> {
  const docs = await readFile(new URL("../../docs/deploy.md", import.meta.url), "utf8");
  const block = /```nginx\n([\s\S]*?)```/.exec(docs)?.[1];
  if (block === undefined) throw new Error("docs/deploy.md has no ```nginx block");
  return block;
}

/** Replaces `pattern` in `text`, failing when the docs no longer contain it (so the test follows the docs). */
function substitute(text: string, pattern: RegExp, replacement: string): string {
  if (!pattern.test(text)) throw new Error(`docs/deploy.md's nginx example no longer matches ${pattern}`);
  return text.replace(pattern, replacement);
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  if (address === null || typeof address === "string") throw new Error("no port");
  return address.port;
}

describe.skipIf(!installed)("docs/deploy.md's nginx example in front of livetrail", () => {
  it("passes a WebSocket line and an SSE event through at once", async () => {
    const dir = await tempDir();
    // nginx's workers drop root's privileges (nobody): they must be able to enter the prefix.
    await chmod(dir.path, 0o755);
    const log = dir.file("audit.log");
    await writeFile(log, "[2025-12-17T17:40:37Z] before the proxy test\n");

    // The token through the environment, as docs/security.md recommends over the command line.
    const env = withoutLivetrailEnv({ LIVETRAIL_READ_TOKENS: TOKEN });
    const serve = start(
      process.execPath,
      [
        CLI,
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--trust-proxy",
        "127.0.0.1",
        "--allowed-host",
        "127.0.0.1",
        `audit=${log}`,
      ],
      { env },
    );
    serve.stdin?.end();
    const serveExit = finished(serve, 110_000);
    let serveOut = "";
    serve.stdout?.on("data", (d: Buffer) => {
      serveOut += d.toString();
    });
    const nginxPort = await freePort();
    const redirectPort = await freePort();
    let nginx: ReturnType<typeof start> | undefined;
    try {
      const upstream = await waitFor(() => /at (http:\/\/\S+)/.exec(serveOut)?.[1], {
        timeoutMs: 60_000,
        message: "livetrail to listen",
      });
      let site = await documentedConfig();
      site = substitute(site, /listen 443 ssl;/, `listen 127.0.0.1:${nginxPort};`);
      site = substitute(site, /^\s*http2 on;.*\n/m, "");
      site = substitute(site, /^\s*ssl_certificate\s.*\n/m, "");
      site = substitute(site, /^\s*ssl_certificate_key\s.*\n/m, "");
      site = substitute(site, /proxy_pass http:\/\/127\.0\.0\.1:8080;/, `proxy_pass ${upstream};`);
      site = substitute(site, /listen 80;/, `listen 127.0.0.1:${redirectPort};`);
      const temp = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"]
        .map((kind) => `  ${kind}_temp_path ${dir.file(`${kind}_temp`)};`)
        .join("\n");
      const conf = dir.file("nginx.conf");
      await writeFile(
        conf,
        `worker_processes 1;\nevents { worker_connections 64; }\nhttp {\n  access_log ${dir.file("access.log")};\n${temp}\n${site}\n}\n`,
      );
      nginx = start(NGINX, [
        "-p",
        dir.path,
        "-c",
        conf,
        "-e",
        dir.file("error.log"),
        "-g",
        `daemon off; pid ${dir.file("nginx.pid")}; error_log ${dir.file("error.log")};`,
      ]);
      const nginxExit = finished(nginx, 110_000);
      const proxied = `http://127.0.0.1:${nginxPort}`;
      try {
        await waitFor(async () => (await fetch(`${proxied}/healthz`).catch(() => null))?.status === 200, {
          timeoutMs: 30_000,
          intervalMs: 50,
          message: "nginx to proxy /healthz",
        });
        const auth = { authorization: `Bearer ${TOKEN}` };
        expect((await fetch(`${proxied}/api/streams`)).status).toBe(401);
        expect((await fetch(`${proxied}/api/streams`, { headers: auth })).status).toBe(200);

        // WebSocket through nginx's Upgrade handling.
        const ws = new WebSocket(`${proxied.replace(/^http/, "ws")}/ws`, {
          headers: auth,
          perMessageDeflate: false,
        });
        const frames: string[] = [];
        ws.on("message", (data) => frames.push(data.toString()));
        await new Promise<void>((resolve, reject) => {
          ws.once("open", () => resolve());
          ws.once("error", reject);
        });
        // SSE through nginx: the response stays open and each event must arrive while it does.
        let sse = "";
        let sseStatus = 0;
        const sseRequest = request(`${proxied}/api/streams/audit/events?tail=0`, {
          headers: { ...auth, accept: "text/event-stream" },
        });
        sseRequest.on("response", (res) => {
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
          // Its first bytes (`retry:`) came through before any line: nginx streams it, and the line below is live.
          await waitFor(() => sse.length > 0, { message: "the SSE stream's first bytes" });
          const marker = "[2025-12-17T17:40:38Z] through nginx, live";
          await appendFile(log, `${marker}\n`);
          await waitFor(() => frames.some((f) => f.includes(marker)), {
            timeoutMs: 20_000,
            message: "the line over the WebSocket through nginx",
          });
          await waitFor(() => sse.includes(marker), {
            timeoutMs: 20_000,
            message: "the line as an SSE event through nginx (unbuffered)",
          });
          expect(sse).toMatch(/^data: .*through nginx, live/m);
        } finally {
          sseRequest.destroy();
          ws.terminate();
        }
      } finally {
        nginx.kill("SIGQUIT");
        await nginxExit;
      }
    } finally {
      serve.kill("SIGTERM");
      await serveExit;
    }
  });
});
