import { execFile } from "node:child_process";
import type { LookupAddress } from "node:dns";
import { mkdir, readFile, writeFile } from "node:fs/promises";
import { createServer as createHttpServer, request as httpRequest } from "node:http";
import { request } from "node:https";
import type { LookupFunction } from "node:net";
import { promisify } from "node:util";
import { describe, expect, it, vi } from "vitest";
import { WebSocket } from "ws";
import { CLI, finished, killStrays, start, withoutLivetrailEnv } from "../cli/run-cli.js";
import { freePort } from "../helpers/free-port.js";
import { type TempDir, useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { documentedBlock, expectLiveThroughProxy, substitute } from "./proxy-example.js";

/**
 * The Caddy example of docs/deploy.md, taken from the docs themselves, in front of a real `livetrail serve`
 * started as the docs say (--trust-proxy, --allowed-host logs.example.com, a token; plus --identity-header so
 * the block's `header_up -X-Forwarded-User` is put to the test): a WebSocket line and an SSE event must come
 * through it live, and X-Forwarded-For/-Proto/-Host must reach the server as the docs claim.
 *
 * The site block is used as written except its upstream port. What cannot run on loopback is changed by global
 * options only (the block stays the docs' own): `local_certs` + `skip_install_trust` give logs.example.com a
 * certificate from Caddy's own CA (kept in a temp XDG_DATA_HOME) instead of Let's Encrypt, which cannot reach
 * this machine; `https_port`/`http_port` move 443/80 to free ports and `default_bind 127.0.0.1` keeps them on
 * loopback; `admin off` so no admin endpoint listens; `grace_period 5s` bounds the stop. The client resolves
 * logs.example.com to 127.0.0.1 itself and trusts that CA's root, so the browser's view (https, Host
 * logs.example.com:PORT) is real. Not checked: the block's `flush_interval -1` (Caddy flushes text/event-stream
 * responses at once without it: the test passes with it removed) and Caddy's idle timeouts (a test of an hour).
 * Skipped where caddy is not installed (scripts/test-all.sh installs it).
 */

vi.setConfig({ testTimeout: 120_000 });
killStrays();
const tempDir = useTempDirs("livetrail-caddy-");

const CADDY = "caddy";
const run = promisify(execFile);
const installed = await run(CADDY, ["version"]).then(
  () => true,
  () => false,
);
const TOKEN = "read-token-caddy-0123456789abcdef";
const HOST = "logs.example.com";

/** Every name resolves to loopback: the client reaches Caddy as https://logs.example.com:PORT. */
const toLoopback: LookupFunction = (_hostname, options, callback) => {
  const address: LookupAddress = { address: "127.0.0.1", family: 4 };
  if (options.all === true) callback(null, [address]);
  else callback(null, address.address, address.family);
};

/** Caddy's environment: its state, config autosave and the CA's files go to temp dirs, nothing global. */
async function caddyEnv(dir: string): Promise<NodeJS.ProcessEnv> {
  const env = { HOME: `${dir}/home`, XDG_DATA_HOME: `${dir}/data`, XDG_CONFIG_HOME: `${dir}/config` };
  await Promise.all(Object.values(env).map((path) => mkdir(path, { recursive: true })));
  return { PATH: process.env.PATH, ...env };
}

/** The docs' site block with the upstream port substituted, behind global options that keep it on loopback. */
async function caddyfile(upstream: string, httpsPort: number, httpPort: number): Promise<string> {
  const site = substitute(
    await documentedBlock("caddyfile"),
    /reverse_proxy 127\.0\.0\.1:8080 \{/,
    `reverse_proxy ${upstream} {`,
    "Caddy",
  );
  const globals = [
    "admin off",
    "local_certs",
    "skip_install_trust",
    `https_port ${httpsPort}`,
    `http_port ${httpPort}`,
    "default_bind 127.0.0.1",
    "grace_period 5s",
  ];
  return `{\n${globals.map((g) => `\t${g}\n`).join("")}}\n\n${site}`;
}

interface RunningCaddy {
  /** https://logs.example.com:PORT, as a browser would address it. */
  origin: string;
  /** Caddy's local CA root, which the clients trust. */
  ca: string;
  /** A GET through Caddy, optionally from another loopback address. */
  get(
    path: string,
    headers?: Record<string, string>,
    localAddress?: string,
  ): Promise<{ status: number; body: string }>;
  /** Stops caddy by its PID and waits for it to exit. */
  stop(): Promise<void>;
}

/** `caddy run` with the docs' block in front of `upstream` (host:port); resolves once its CA is written. */
async function startCaddy(dir: TempDir, upstream: string): Promise<RunningCaddy> {
  const httpsPort = await freePort();
  const conf = dir.file("Caddyfile");
  await writeFile(conf, await caddyfile(upstream, httpsPort, await freePort()));
  const env = await caddyEnv(dir.path);
  const child = start(CADDY, ["run", "--config", conf, "--adapter", "caddyfile"], { env });
  child.stdin?.end();
  const exit = finished(child, 110_000);
  const stop = async (): Promise<void> => {
    child.kill("SIGTERM");
    await exit;
  };
  const exitedEarly = exit.then((r) => {
    throw new Error(`caddy exited (${r.code ?? r.signal}) before serving: ${r.stderr.slice(-2000)}`);
  });
  exitedEarly.catch(() => undefined); // observed below while starting; once started, stop() awaits the exit
  let ca: string;
  try {
    ca = await Promise.race([
      waitFor(
        () => readFile(`${env.XDG_DATA_HOME}/caddy/pki/authorities/local/root.crt`, "utf8").catch(() => ""),
        {
          timeoutMs: 30_000,
          intervalMs: 50,
          message: "Caddy's local CA",
        },
      ),
      exitedEarly,
    ]);
  } catch (error) {
    if (child.exitCode === null) await stop();
    throw error;
  }
  const origin = `https://${HOST}:${httpsPort}`;
  const get: RunningCaddy["get"] = (path, headers = {}, localAddress) =>
    new Promise((resolve, reject) => {
      const req = request(`${origin}${path}`, {
        ca,
        lookup: toLoopback,
        headers,
        ...(localAddress === undefined ? {} : { localAddress }),
      });
      req.on("response", (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          body += chunk;
        });
        res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        res.on("error", reject);
      });
      req.on("error", reject);
      req.end();
    });
  return { origin, ca, get, stop };
}

describe.skipIf(!installed)("docs/deploy.md's Caddy example in front of livetrail", () => {
  it("is valid as written (caddy validate)", async () => {
    const dir = await tempDir();
    const file = dir.file("Caddyfile");
    await writeFile(file, await documentedBlock("caddyfile"));
    const { stdout, stderr } = await run(CADDY, ["validate", "--config", file, "--adapter", "caddyfile"], {
      env: await caddyEnv(dir.path),
    });
    expect(`${stdout}${stderr}`).toContain("Valid configuration");
  });

  it("sends the upstream the forwarded headers the docs describe, whatever the client sent", async () => {
    const dir = await tempDir();
    // A real HTTP server that answers with the headers it received: what livetrail would see.
    const echo = createHttpServer((req, res) => res.end(JSON.stringify(req.headers)));
    await new Promise<void>((resolve) => echo.listen(0, "127.0.0.1", resolve));
    const address = echo.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    try {
      const caddy = await startCaddy(dir, `127.0.0.1:${address.port}`);
      try {
        const forged = {
          "x-forwarded-for": "203.0.113.9",
          "x-forwarded-proto": "gopher",
          "x-forwarded-host": "evil.example",
          "x-forwarded-user": "mallory",
        };
        const { status, body } = await waitFor(() => caddy.get("/", forged, "127.0.0.2").catch(() => null), {
          timeoutMs: 30_000,
          intervalMs: 50,
          message: "Caddy to proxy to the echo server",
        });
        expect(status).toBe(200);
        const seen = JSON.parse(body) as Record<string, string | undefined>;
        const host = new URL(caddy.origin).host;
        expect(seen.host).toBe(host);
        expect(seen["x-forwarded-for"]).toBe("127.0.0.2"); // replaced, not appended to
        expect(seen["x-forwarded-proto"]).toBe("https");
        expect(seen["x-forwarded-host"]).toBe(host);
        expect(seen["x-forwarded-user"]).toBeUndefined();
      } finally {
        await caddy.stop();
      }
    } finally {
      await new Promise((resolve) => echo.close(resolve));
    }
  });

  it("passes a WebSocket line and an SSE event through at once, with the forwarded headers", async () => {
    const dir = await tempDir();
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
        HOST,
        "--identity-header",
        "X-Forwarded-User",
        "--log-level",
        "info",
        `audit=${log}`,
      ],
      { env },
    );
    serve.stdin?.end();
    let serveOut = "";
    let serveErr = "";
    serve.stdout?.on("data", (d: Buffer) => {
      serveOut += d.toString();
    });
    serve.stderr?.on("data", (d: Buffer) => {
      serveErr += d.toString();
    });
    const serveExit = finished(serve, 110_000);
    try {
      const upstream = await waitFor(() => /at http:\/\/([\d.]+:\d+)/.exec(serveOut)?.[1], {
        timeoutMs: 60_000,
        message: "livetrail to listen",
      });
      const caddy = await startCaddy(dir, upstream);
      const { ca, origin: proxied, get } = caddy;
      try {
        await waitFor(async () => (await get("/healthz").catch(() => null))?.status === 200, {
          timeoutMs: 30_000,
          intervalMs: 50,
          message: "Caddy to proxy /healthz over https",
        });
        const auth = { authorization: `Bearer ${TOKEN}` };
        expect((await get("/api/streams")).status).toBe(401);
        expect((await get("/api/streams", auth)).status).toBe(200);

        // `header_up -X-Forwarded-User`: a client's own identity header never reaches livetrail. Sent straight
        // from the trusted proxy's address it would sign the client in (so the 401 below is Caddy's doing).
        const direct = await new Promise<number>((resolve, reject) => {
          const req = httpRequest(`http://${upstream}/api/streams`, {
            headers: { host: HOST, "x-forwarded-user": "mallory" },
          });
          req.on("response", (res) => {
            res.resume();
            resolve(res.statusCode ?? 0);
          });
          req.on("error", reject);
          req.end();
        });
        expect(direct).toBe(200);
        expect((await get("/api/streams", { "x-forwarded-user": "mallory" })).status).toBe(401);

        // X-Forwarded-For: the client connects from 127.0.0.2 (Caddy from 127.0.0.1), so the server's request
        // log shows that the forwarded address reached it, not Caddy's, and that a client's own value was not
        // believed (that Caddy replaces it rather than appending is checked against the echo server above).
        const spoofed = await get("/healthz?xff-probe", { "x-forwarded-for": "203.0.113.9" }, "127.0.0.2");
        expect(spoofed.status).toBe(200);
        expect(spoofed.body).toContain('"status":"ok"'); // livetrail's own answer, through Caddy
        const probe = await waitFor(
          () =>
            serveErr
              .split("\n")
              .filter((line) => line.includes("xff-probe"))
              .map((line) => JSON.parse(line) as { remoteAddress?: string })[0],
          { message: "the probe's request log line" },
        );
        expect(probe.remoteAddress).toBe("127.0.0.2");

        // X-Forwarded-Proto and -Host: the WebSocket origin check sees https://logs.example.com:PORT, the page's
        // origin, though livetrail itself speaks plain HTTP; the same origin with http: is refused.
        const refused = new WebSocket(`${proxied.replace(/^https/, "wss")}/ws`, {
          ca,
          lookup: toLoopback,
          headers: { ...auth, origin: proxied.replace(/^https/, "http") },
          perMessageDeflate: false,
        });
        const refusedStatus = await new Promise<number>((resolve, reject) => {
          refused.once("unexpected-response", (_req, res) => resolve(res.statusCode ?? 0));
          refused.once("open", () => resolve(101));
          refused.once("error", reject);
        });
        refused.terminate();
        expect(refusedStatus).toBe(403);

        // WebSocket (through Caddy's Upgrade handling, from the page's own origin) and SSE.
        await expectLiveThroughProxy({
          proxied,
          log,
          name: "caddy",
          headers: auth,
          origin: proxied,
          request,
          options: { ca, lookup: toLoopback },
        });
      } finally {
        await caddy.stop();
      }
    } finally {
      serve.kill("SIGTERM");
      await serveExit;
    }
  });
});
