import { execFile } from "node:child_process";
import { chmod, writeFile } from "node:fs/promises";
import { request } from "node:http";
import { promisify } from "node:util";
import { describe, expect, it, vi } from "vitest";
import { CLI, finished, killStrays, start, withoutLivetrailEnv } from "../cli/run-cli.js";
import { freePort } from "../helpers/free-port.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { documentedBlock, expectLiveThroughProxy, substitute } from "./proxy-example.js";

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
      let site = await documentedBlock("nginx");
      site = substitute(site, /listen 443 ssl;/, `listen 127.0.0.1:${nginxPort};`, "nginx");
      site = substitute(site, /^\s*http2 on;.*\n/m, "", "nginx");
      site = substitute(site, /^\s*ssl_certificate\s.*\n/m, "", "nginx");
      site = substitute(site, /^\s*ssl_certificate_key\s.*\n/m, "", "nginx");
      site = substitute(site, /proxy_pass http:\/\/127\.0\.0\.1:8080;/, `proxy_pass ${upstream};`, "nginx");
      site = substitute(site, /listen 80;/, `listen 127.0.0.1:${redirectPort};`, "nginx");
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

        await expectLiveThroughProxy({ proxied, log, name: "nginx", headers: auth, request });
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
