import { type ChildProcess, execFile, spawn } from "node:child_process";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { Socket } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { freePort } from "./free-port.js";

/**
 * A real `redis-server` (Debian's package; `scripts/test-all.sh` installs it) on a free loopback port with its
 * own data directory. The test that starts one stops it, by its own PID, and its directory is removed.
 */
export interface RedisServer {
  readonly port: number;
  readonly url: string;
  readonly dir: string;
  readonly pid: number;
  /** SIGTERM (Redis writes its AOF and exits), then the directory is removed unless `keepDir`. */
  stop(options?: { keepDir?: boolean }): Promise<void>;
  /** SIGKILL: a crash; the directory stays so the same data can be started again. */
  kill(): Promise<void>;
}

export interface RedisServerOptions {
  /** Append-only file with fsync every second (what docs/scale-out.md recommends); default off. */
  aof?: boolean;
  /** Start on this port (to restart a killed server where its clients expect it). */
  port?: number;
  /** Use this data directory (to restart on the same data). */
  dir?: string;
  /** More `--name value` arguments, e.g. ["--cluster-enabled", "yes"]. */
  args?: string[];
}

async function answers(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    let reply = "";
    socket.setTimeout(500, () => {
      socket.destroy();
      resolve(false);
    });
    socket.on("error", () => resolve(false));
    socket.on("data", (data) => {
      reply += data.toString("latin1");
      if (reply.includes("\r\n")) {
        socket.destroy();
        resolve(reply.startsWith("+PONG"));
      }
    });
    socket.connect(port, "127.0.0.1", () => socket.write("PING\r\n"));
  });
}

function exited(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

export async function startRedis(options: RedisServerOptions = {}): Promise<RedisServer> {
  const dir = options.dir ?? (await mkdtemp(join(tmpdir(), "livetrail-redis-")));
  for (let attempt = 0; ; attempt++) {
    const port = options.port ?? (await freePort());
    const args = [
      "--port",
      String(port),
      "--bind",
      "127.0.0.1",
      "--dir",
      dir,
      "--save",
      "",
      "--appendonly",
      options.aof === true ? "yes" : "no",
      "--appendfsync",
      "everysec",
      "--protected-mode",
      "no",
      "--loglevel",
      "warning",
      ...(options.args ?? []),
    ];
    const child = spawn("redis-server", args, { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr?.on("data", (d: Buffer) => {
      stderr += d.toString();
    });
    const spawnFailed = new Promise<Error>((resolve) => child.once("error", resolve));
    const deadline = Date.now() + 10_000;
    let up = false;
    while (Date.now() < deadline && child.exitCode === null) {
      const failed = await Promise.race([
        spawnFailed,
        new Promise<null>((r) => setTimeout(() => r(null), 20)),
      ]);
      if (failed !== null)
        throw new Error(`redis-server could not start (apt-get install redis-server): ${failed.message}`);
      if (await answers(port)) {
        up = true;
        break;
      }
    }
    if (up) {
      const pid = child.pid as number;
      return {
        port,
        url: `redis://127.0.0.1:${port}`,
        dir,
        pid,
        async stop(stopOptions = {}) {
          child.kill("SIGTERM");
          await exited(child);
          if (stopOptions.keepDir !== true && options.dir === undefined)
            await rm(dir, { recursive: true, force: true });
        },
        async kill() {
          child.kill("SIGKILL");
          await exited(child);
        },
      };
    }
    child.kill("SIGKILL");
    await exited(child);
    // The port was taken between freePort() and the bind: try another (unless the caller chose it).
    if (options.port !== undefined || attempt >= 3) {
      throw new Error(`redis-server did not answer on port ${port}: ${stderr.trim() || "no output"}`);
    }
  }
}

/** A real `redis-server --sentinel`, stopped by its PID. */
export interface RedisSentinel {
  readonly port: number;
  stop(): Promise<void>;
}

/**
 * A Sentinel watching the primary on `primaryPort` under the name "main", quick to fail over (down after
 * 500 ms), its config and state in `dir`.
 */
export async function startSentinel(dir: string, primaryPort: number): Promise<RedisSentinel> {
  const port = await freePort();
  const conf = `${dir}/sentinel.conf`;
  await writeFile(
    conf,
    [
      `port ${port}`,
      "bind 127.0.0.1",
      `dir ${dir}`,
      `sentinel monitor main 127.0.0.1 ${primaryPort} 1`,
      "sentinel down-after-milliseconds main 500",
      "sentinel failover-timeout main 3000",
      "",
    ].join("\n"),
  );
  const child = spawn("redis-server", [conf, "--sentinel"], { stdio: "ignore" });
  const stop = async (): Promise<void> => {
    child.kill("SIGTERM");
    await exited(child);
  };
  const deadline = Date.now() + 10_000;
  while (!(await answers(port))) {
    if (Date.now() > deadline || child.exitCode !== null) {
      await stop();
      throw new Error(`redis-server --sentinel did not answer on port ${port}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  return { port, stop };
}

/**
 * `count` primaries with `--cluster-enabled yes`, their slots assigned by `redis-cli --cluster create`; resolves
 * once CLUSTER INFO says `cluster_state:ok` on every node. The caller stops each server.
 */
export async function startCluster(count = 3): Promise<RedisServer[]> {
  const servers: RedisServer[] = [];
  try {
    for (let i = 0; i < count; i++) servers.push(await startRedis({ args: ["--cluster-enabled", "yes"] }));
    await promisify(execFile)("redis-cli", [
      "--cluster",
      "create",
      ...servers.map((s) => `127.0.0.1:${s.port}`),
      "--cluster-yes",
    ]);
    const deadline = Date.now() + 20_000;
    for (const server of servers) {
      while (
        !/cluster_state:ok/.test(
          (await promisify(execFile)("redis-cli", ["-p", String(server.port), "CLUSTER", "INFO"])).stdout,
        )
      ) {
        if (Date.now() > deadline) throw new Error(`the cluster did not come up (node ${server.port})`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    }
    return servers;
  } catch (error) {
    for (const server of servers) await server.stop();
    throw error;
  }
}
