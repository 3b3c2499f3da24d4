import { readdir, readFile, readlink } from "node:fs/promises";
import { type ClientRequest, get as httpGet, type IncomingMessage } from "node:http";
import type { RequestOptions } from "node:https";
import { get as httpsGet } from "node:https";
import { createServer } from "node:net";
import { join } from "node:path";
import { type CheckResult, fail, ok, warn } from "./check-result.js";

/**
 * Whether `serve` could listen on host:port: try it (and let go at once). When it is taken, say by whom when
 * procfs tells (the socket's inode in /proc/net/tcp*, then the process holding it), and whether that is a
 * livetrail server already (its /healthz).
 */
export async function checkPort(host: string, port: number, procRoot = "/proc"): Promise<CheckResult> {
  const where = `${host.includes(":") ? `[${host}]` : host}:${port}`;
  const error = await tryListen(host, port);
  if (error === null) return ok("port", `${where} is free`);
  if (error === "EACCES") {
    return fail(
      "port",
      `not allowed to listen on ${where}`,
      "use a port >= 1024, or grant CAP_NET_BIND_SERVICE",
    );
  }
  if (error === "EADDRNOTAVAIL") {
    return fail(
      "port",
      `${host} is not an address of this host`,
      "use --host 127.0.0.1, 0.0.0.0 or one of ip addr's",
    );
  }
  if (error !== "EADDRINUSE")
    return fail("port", `cannot listen on ${where}: ${error}`, "check --host and --port");
  const owner = await portOwner(port, procRoot);
  const by = owner === null ? "" : ` by ${owner}`;
  if (await isLivetrail(host, port)) {
    return warn(
      "port",
      `${where} is in use${by}: a livetrail server already answers there`,
      "fine if it is the one you are checking; else stop it or choose another --port",
    );
  }
  return fail("port", `${where} is in use${by}`, "stop that program, or choose another --port");
}

function tryListen(host: string, port: number): Promise<string | null> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once("error", (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    server.listen({ host, port, exclusive: true }, () => server.close(() => resolve(null)));
  });
}

async function isLivetrail(host: string, port: number): Promise<boolean> {
  const name = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host;
  return (await healthStatus(httpGet, name, port)) || (await healthStatus(httpsGet, name, port));
}

/**
 * Whether GET /healthz answers livetrail's {"status": ...}. node:http, not fetch: a listener that never answers
 * must cost one short timeout, and fetch's pooled socket would keep the process alive for seconds after.
 */
type Get = (options: RequestOptions, callback: (response: IncomingMessage) => void) => ClientRequest;

function healthStatus(get: Get, host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const request = get(
      { host, port, path: "/healthz", agent: false, timeout: 1500, rejectUnauthorized: false },
      (response) => {
        let body = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          if (body.length < 65_536) body += chunk;
        });
        response.on("end", () => {
          try {
            const status = (JSON.parse(body) as { status?: unknown }).status;
            resolve(status === "ok" || status === "closing");
          } catch {
            resolve(false);
          }
        });
      },
    );
    request.on("timeout", () => request.destroy());
    request.on("error", () => resolve(false));
  });
}

/** "pid 1234 (nginx)" for the process listening on the port, when procfs lets us see it. */
async function portOwner(port: number, proc: string): Promise<string | null> {
  const hexPort = port.toString(16).toUpperCase().padStart(4, "0");
  const inodes = new Set<string>();
  for (const table of ["net/tcp", "net/tcp6"]) {
    const text = await readFile(join(proc, table), "utf8").catch(() => "");
    for (const row of text.split("\n").slice(1)) {
      const cols = row.trim().split(/\s+/);
      // local_address is ADDR:PORT in hex; state 0A is LISTEN; column 9 is the socket's inode.
      if (cols[1]?.endsWith(`:${hexPort}`) && cols[3] === "0A" && cols[9] !== undefined) inodes.add(cols[9]);
    }
  }
  if (inodes.size === 0) return null;
  const pids = (await readdir(proc).catch(() => [] as string[])).filter((name) => /^\d+$/.test(name));
  for (const pid of pids) {
    const fds = await readdir(join(proc, pid, "fd")).catch(() => [] as string[]);
    for (const fd of fds) {
      const link = await readlink(join(proc, pid, "fd", fd)).catch(() => "");
      const inode = /^socket:\[(\d+)\]$/.exec(link)?.[1];
      if (inode !== undefined && inodes.has(inode)) {
        const comm = (await readFile(join(proc, pid, "comm"), "utf8").catch(() => "?")).trim();
        return `pid ${pid} (${comm})`;
      }
    }
  }
  return "another program (its process is not visible to this user)";
}
