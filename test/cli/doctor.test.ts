import { chmod, mkdir, symlink, writeFile } from "node:fs/promises";
import { createServer as createHttpServer, type Server as HttpServer, request } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import { connect, createServer, type Server } from "node:net";
import { join } from "node:path";
import { generate } from "selfsigned";
import { describe, expect, it, vi } from "vitest";
import { checkInotify } from "../../src/cli/doctor/inotify-check.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { CLI, finished, killStrays, runCli, start, unreadable } from "./run-cli.js";

vi.setConfig({ testTimeout: 120_000 });

const tempDir = useTempDirs();
killStrays();

const TOKEN = "read-token-0123456789abcdef";

/** The output line of one check (`fail clock ...`), or undefined. */
const line = (stdout: string, status: string, check: string): string | undefined =>
  stdout.split("\n").find((l) => l.startsWith(`${status.padEnd(4)} ${check.padEnd(10)} `));

async function goodLog(path: string): Promise<string> {
  await writeFile(path, `[${new Date(Date.now() - 60_000).toISOString().slice(0, 19)}Z] fine\n`);
  return path;
}

describe("livetrail doctor finds a planted problem of each kind", () => {
  it("passes a sound setup: every line ok, exit 0", async () => {
    const dir = await tempDir();
    const log = await goodLog(dir.file("audit.log"));
    const tokens = dir.file("tokens");
    await writeFile(tokens, `read ${TOKEN}\n`, { mode: 0o600 });
    const result = await runCli(["doctor", "--port", "0", "--token-file", tokens, log]);
    expect(result.code, result.stdout).toBe(0);
    expect(line(result.stdout, "ok", "file")).toContain(`${log} is readable`);
    expect(line(result.stdout, "ok", "clock")).toContain("no skew seen");
    expect(line(result.stdout, "ok", "token-file")).toContain("mode 0600");
    expect(line(result.stdout, "ok", "port")).toContain("is free");
    expect(result.stdout).not.toMatch(/^fail /m);
  });

  it("a log the server's user cannot read (checked as that user: root reads everything)", async () => {
    const dir = await tempDir();
    const log = dir.file("secret.log");
    const as = await unreadable(dir.path, log, "[2026-12-04T21:00:00Z] x\n");
    const result = await runCli(["doctor", "--port", "0", log], as);
    expect(result.code).toBe(1);
    expect(line(result.stdout, "fail", "file")).toMatch(
      /secret\.log is not readable by uid \d+ \(EACCES; mode 0[0-7]{3}.*fix: chmod g\+r/,
    );
  });

  it("a token file open to group and others (mode 0644)", async () => {
    const dir = await tempDir();
    const log = await goodLog(dir.file("audit.log"));
    const tokens = dir.file("tokens");
    await writeFile(tokens, `read ${TOKEN}\n`);
    await chmod(tokens, 0o644);
    const result = await runCli(["doctor", "--port", "0", "--token-file", tokens, log]);
    expect(result.code).toBe(1);
    expect(line(result.stdout, "fail", "token-file")).toBe(
      `fail token-file ${tokens} is open to group or others (mode 0644): serve refuses it - fix: chmod 600 ${tokens} (owned by the user the server runs as)`,
    );
    expect(result.stdout).not.toContain(TOKEN);
  });

  it("a port in use, naming the process that holds it", async () => {
    const dir = await tempDir();
    const log = await goodLog(dir.file("audit.log"));
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(0, "127.0.0.1", resolve));
    const { port } = holder.address() as { port: number };
    try {
      const result = await runCli(["doctor", "--port", String(port), log]);
      expect(result.code).toBe(1);
      expect(line(result.stdout, "fail", "port")).toMatch(
        new RegExp(`^fail port +127\\.0\\.0\\.1:${port} is in use by pid ${process.pid} \\(.+\\) - fix: `),
      );
    } finally {
      holder.close();
    }
  });

  it("a log whose newest timestamp is far in the future (clock skew)", async () => {
    const dir = await tempDir();
    const log = dir.file("audit.log");
    const ahead = new Date(Date.now() + 3 * 3600_000).toISOString().slice(0, 19);
    await writeFile(log, `[2026-01-01T00:00:00Z] old\n[${ahead}Z] written by a fast clock\nno stamp\n`);
    const result = await runCli(["doctor", "--port", "0", log]);
    expect(result.code).toBe(1);
    expect(line(result.stdout, "fail", "clock")).toMatch(
      /newest entry .*: the log is 3\.0 h ahead - fix: sync the clocks/,
    );
  });

  it("an expired TLS certificate, and a key that does not belong to it", async () => {
    const dir = await tempDir();
    const log = await goodLog(dir.file("audit.log"));
    const expired = await generate([{ name: "commonName", value: "old.example" }], {
      keyType: "ec",
      curve: "P-256",
      algorithm: "sha256",
      notBeforeDate: new Date(Date.now() - 40 * 86_400_000),
      notAfterDate: new Date(Date.now() - 86_400_000),
    });
    const other = await generate([{ name: "commonName", value: "other" }], { keyType: "ec", curve: "P-256" });
    await writeFile(dir.file("cert.pem"), expired.cert);
    await writeFile(dir.file("key.pem"), expired.private, { mode: 0o600 });
    await writeFile(dir.file("other-key.pem"), other.private, { mode: 0o600 });
    const args = ["doctor", "--port", "0", "--tls-cert", dir.file("cert.pem")];
    const result = await runCli([...args, "--tls-key", dir.file("key.pem"), log]);
    expect(result.code).toBe(1);
    expect(line(result.stdout, "fail", "tls")).toMatch(
      /cert\.pem \(CN=old\.example\) expired on .* - fix: renew/,
    );
    const mismatch = await runCli([...args, "--tls-key", dir.file("other-key.pem"), log]);
    expect(line(mismatch.stdout, "fail", "tls")).toMatch(/other-key\.pem does not belong to/);
  });

  it("inotify limits, read from a planted procfs tree (the real /proc cannot be changed here)", async () => {
    const dir = await tempDir();
    const proc = dir.path;
    const plant = async (maxWatches: number, maxInstances: number, watchesInUse: number): Promise<void> => {
      await mkdir(join(proc, "sys/fs/inotify"), { recursive: true });
      await writeFile(join(proc, "sys/fs/inotify/max_user_watches"), `${maxWatches}\n`);
      await writeFile(join(proc, "sys/fs/inotify/max_user_instances"), `${maxInstances}\n`);
      // One process of this user holding one inotify instance with `watchesInUse` watches.
      await mkdir(join(proc, "4242/fd"), { recursive: true });
      await mkdir(join(proc, "4242/fdinfo"), { recursive: true });
      await symlink("anon_inode:inotify", join(proc, "4242/fd/7")).catch(() => {});
      const wd = (i: number) => `inotify wd:${i} ino:${i} sdev:800001 mask:fce ignored_mask:0\n`;
      await writeFile(
        join(proc, "4242/fdinfo/7"),
        `pos:\t0\nflags:\t00\n${Array.from({ length: watchesInUse }, (_, i) => wd(i + 1)).join("")}`,
      );
    };
    await plant(100, 128, 98);
    const few = await checkInotify({ directories: 5, procRoot: proc });
    expect(few.status).toBe("warn");
    expect(few.message).toBe(
      "not enough inotify watches left: 1/128 instances and 98/100 watches in use by this user; the server needs 1 and 5; the server would poll",
    );
    expect(few.fix).toMatch(/^sysctl fs\.inotify\.max_user_watches=524288 /);

    await plant(100, 1, 10);
    const noInstance = await checkInotify({ directories: 1, procRoot: proc });
    expect(noInstance).toMatchObject({
      status: "warn",
      fix: expect.stringMatching(/max_user_instances=256/),
    });

    await plant(100_000, 128, 10);
    expect(await checkInotify({ directories: 2, procRoot: proc })).toMatchObject({
      status: "ok",
      message: "1/128 instances and 10/100000 watches in use by this user; the server needs 1 and 2",
    });
  });

  it("--url through a proxy that does not pass WebSocket upgrades; and through one that does", async () => {
    const dir = await tempDir();
    const log = await goodLog(dir.file("audit.log"));
    const server = start(process.execPath, [CLI, "serve", "--port", "0", "--read-token", TOKEN, log]);
    const exited = finished(server);
    let out = "";
    server.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const url = await waitFor(() => /at (http:\/\/\S+)/.exec(out)?.[1], {
      timeoutMs: 60_000,
      message: "url",
    });
    // A forwarding proxy that passes plain HTTP only: the classic nginx without `Upgrade`/`Connection` headers.
    const target = new URL(url);
    const proxy: HttpServer = createHttpServer((req, res) => {
      const headers = { ...req.headers, host: target.host };
      delete headers.upgrade;
      delete headers.connection;
      const upstream = request(
        { host: target.hostname, port: target.port, path: req.url, method: req.method, headers },
        (r) => {
          res.writeHead(r.statusCode ?? 502, r.headers);
          r.pipe(res);
        },
      );
      req.pipe(upstream);
    });
    await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
    const proxyUrl = `http://127.0.0.1:${(proxy.address() as { port: number }).port}`;
    try {
      const env = { env: { ...process.env, LIVETRAIL_TOKEN: TOKEN } };
      const bad = await runCli(["doctor", "--port", "0", "--url", proxyUrl, log], env);
      expect(bad.code).toBe(1);
      expect(line(bad.stdout, "ok", "proxy")).toContain("healthz reaches livetrail");
      expect(line(bad.stdout, "fail", "proxy")).toMatch(
        /\/ws: the upgrade got HTTP \d+ instead of 101 - fix: nginx: proxy_http_version 1\.1/,
      );

      const direct = await runCli(["doctor", "--port", "0", "--url", url, log], env);
      expect(direct.code, direct.stdout).toBe(0);
      expect(direct.stdout).toMatch(
        /^ok {3}proxy +ws:\/\/.*\/ws: WebSocket upgrade and hello through the proxy/m,
      );
    } finally {
      proxy.close();
      server.kill("SIGTERM");
      await exited;
    }
  });
  it("--url https through a TLS proxy: X-Forwarded-Proto missing is found (refused origin, no Secure cookie)", async () => {
    const dir = await tempDir();
    const log = await goodLog(dir.file("audit.log"));
    const server = start(process.execPath, [
      CLI,
      "serve",
      "--port",
      "0",
      "--read-token",
      TOKEN,
      "--trust-proxy",
      "127.0.0.1",
      log,
    ]);
    const exited = finished(server);
    let out = "";
    server.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const url = await waitFor(() => /at (http:\/\/\S+)/.exec(out)?.[1], {
      timeoutMs: 60_000,
      message: "url",
    });
    const tls = await generate([{ name: "commonName", value: "proxy" }], {
      keyType: "ec",
      curve: "P-256",
      algorithm: "sha256",
      extensions: [{ name: "subjectAltName", altNames: [{ type: 7, ip: "127.0.0.1" }] }],
    });
    await writeFile(dir.file("proxy.pem"), tls.cert);
    const good = await tlsProxy(new URL(url), tls, true);
    const bad = await tlsProxy(new URL(url), tls, false);
    // doctor trusts the proxy's certificate the way an operator's machine would trust their CA.
    const env = {
      env: { ...process.env, LIVETRAIL_TOKEN: TOKEN, NODE_EXTRA_CA_CERTS: dir.file("proxy.pem") },
    };
    try {
      const ok = await runCli(["doctor", "--port", "0", "--url", good.url, log], env);
      expect(ok.code, ok.stdout).toBe(0);
      expect(ok.stdout).toContain("X-Forwarded-Proto arrives: the server knows its clients use https");
      const missing = await runCli(["doctor", "--port", "0", "--url", bad.url, log], env);
      expect(missing.code).toBe(1);
      const fails = missing.stdout.split("\n").filter((l) => l.startsWith("fail proxy"));
      expect(fails).toHaveLength(2);
      expect(fails[0]).toMatch(/refused the page's origin https:\/\/127\.0\.0\.1:\d+ \(403 bad_origin\)/);
      expect(fails[1]).toMatch(/thinks this https client uses http: X-Forwarded-Proto does not arrive/);
      for (const line of fails) expect(line).toMatch(/fix: have the proxy set X-Forwarded-Proto/);
    } finally {
      good.close();
      bad.close();
      server.kill("SIGTERM");
      await exited;
    }
  });
});

/** A TLS-terminating proxy to `target` (HTTP and WebSocket upgrades), setting X-Forwarded-Proto or not. */
async function tlsProxy(
  target: URL,
  pems: { cert: string; private: string },
  forwardProto: boolean,
): Promise<{ url: string; close(): void }> {
  const extra: Record<string, string> = forwardProto ? { "x-forwarded-proto": "https" } : {};
  const proxy = createHttpsServer({ cert: pems.cert, key: pems.private }, (req, res) => {
    const upstream = request(
      {
        host: target.hostname,
        port: target.port,
        path: req.url,
        method: req.method,
        headers: { ...req.headers, ...extra },
      },
      (r) => {
        res.writeHead(r.statusCode ?? 502, r.headers);
        r.pipe(res);
      },
    );
    req.pipe(upstream);
  });
  proxy.on("upgrade", (req, socket, head) => {
    const upstream = connect(Number(target.port), target.hostname, () => {
      const headers = { ...req.headers, ...extra };
      let text = `${req.method} ${req.url} HTTP/1.1\r\n`;
      for (const [name, value] of Object.entries(headers)) text += `${name}: ${String(value)}\r\n`;
      upstream.write(`${text}\r\n`);
      upstream.write(head);
      upstream.pipe(socket);
      socket.pipe(upstream);
    });
    upstream.on("error", () => socket.destroy());
    socket.on("error", () => upstream.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, "127.0.0.1", resolve));
  return {
    url: `https://127.0.0.1:${(proxy.address() as { port: number }).port}`,
    close: () => {
      proxy.closeAllConnections();
      proxy.close();
    },
  };
}
