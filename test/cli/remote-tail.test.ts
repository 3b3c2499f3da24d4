import type { ChildProcess } from "node:child_process";
import { appendFile, rename, writeFile } from "node:fs/promises";
import { describe, expect, it, vi } from "vitest";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { exitAfterReaderCloses } from "./remote-tail-helpers.js";
import { CLI, finished, killStrays, runCli, start, withoutLivetrailEnv } from "./run-cli.js";

// Real servers and clients as child processes; on a shared, busy machine each can take seconds to start.
vi.setConfig({ testTimeout: 180_000 });

const tempDir = useTempDirs();
killStrays();

const TOKEN = "read-token-0123456789abcdef";

interface Server {
  child: ChildProcess;
  url: string;
  port: number;
  stop(): Promise<void>;
}

/** `livetrail serve` on a port (0: any), with a read token; resolves once it listens. */
async function serve(file: string, port = 0): Promise<Server> {
  const child = start(process.execPath, [CLI, "serve", "--port", String(port), "--read-token", TOKEN, file]);
  let out = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    out += d;
  });
  const exited = finished(child, 170_000);
  const url = await waitFor(() => /at (http:\/\/\S+)/.exec(out)?.[1], { timeoutMs: 60_000, message: "url" });
  return {
    child,
    url,
    port: Number(new URL(url).port),
    stop: async () => {
      child.kill("SIGKILL");
      await exited;
    },
  };
}

/** A running `livetrail tail URL`, its output collected as it arrives. */
function remoteTail(args: string[], env: NodeJS.ProcessEnv = { LIVETRAIL_TOKEN: TOKEN }) {
  const child = start(process.execPath, [CLI, "tail", ...args], { env: withoutLivetrailEnv(env) });
  let out = "";
  let err = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    out += d;
  });
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    err += d;
  });
  return { child, out: () => out, err: () => err, lines: () => out.split("\n").filter(Boolean) };
}

const entry = (n: number, word = "info"): string =>
  `[2026-12-04T21:00:${String(n % 60).padStart(2, "0")}Z] ${word} ${n}\n`;
const entries = (from: number, to: number): string =>
  Array.from({ length: to - from + 1 }, (_, i) => entry(from + i)).join("");

describe("livetrail tail URL", () => {
  it("prints the last lines, then live lines, plain when piped; needs the token", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await writeFile(file, entries(1, 5));
    const server = await serve(file);
    try {
      const tail = remoteTail(["-n", "2", server.url]);
      await waitFor(() => tail.out() === entries(4, 5), { timeoutMs: 60_000, message: "the last two lines" });
      await appendFile(file, `${entry(6, "ERROR: disk")}`);
      await waitFor(() => tail.out().endsWith(entry(6, "ERROR: disk")), {
        timeoutMs: 60_000,
        message: "live",
      });
      // Piped: no colour codes.
      expect(tail.out()).not.toContain("\x1b[");
      const exit = finished(tail.child);
      tail.child.kill("SIGINT");
      expect((await exit).code).toBe(0);

      const refused = await runCli(["tail", server.url], {
        env: withoutLivetrailEnv({ LIVETRAIL_TOKEN: "" }),
      });
      expect(refused.code).toBe(1);
      expect(refused.stderr).toMatch(/401 .*set LIVETRAIL_TOKEN or --token-file/);
    } finally {
      await server.stop();
    }
    // A server that was never reached: an error, not endless retries.
    const unreachable = await runCli(["tail", server.url], {
      env: withoutLivetrailEnv({ LIVETRAIL_TOKEN: TOKEN }),
    });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(
      /^livetrail: cannot follow ws:\/\/127\.0\.0\.1:\d+\/ws: ECONNREFUSED\n$/,
    );
  });

  it("--json prints the HTTP API's line objects; --grep filters; --since takes a cursor or a time", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await writeFile(file, `${entry(1, "OK: backup passed")}${entry(2, "ERROR: disk full")}${entry(3)}`);
    const server = await serve(file);
    try {
      const json = await runCli(["tail", "--json", "--no-follow", server.url], {
        env: withoutLivetrailEnv({ LIVETRAIL_TOKEN: TOKEN }),
      });
      expect(json.code).toBe(0);
      const lines = json.stdout
        .trim()
        .split("\n")
        .map((l) => JSON.parse(l));
      expect(lines).toEqual([
        {
          seq: 1,
          text: entry(1, "OK: backup passed").trim(),
          c: expect.any(String),
          ts: "2026-12-04T21:00:01Z",
          level: "ok",
        },
        {
          seq: 2,
          text: entry(2, "ERROR: disk full").trim(),
          c: expect.any(String),
          ts: "2026-12-04T21:00:02Z",
          level: "error",
        },
        { seq: 3, text: entry(3).trim(), c: expect.any(String), ts: "2026-12-04T21:00:03Z" },
      ]);
      // The HTTP API gives the same objects (seq aside, which is display only).
      const page = (await (
        await fetch(`${server.url}/api/streams/audit.log/lines`, {
          headers: { authorization: `Bearer ${TOKEN}` },
        })
      ).json()) as { lines: unknown[] };
      expect(page.lines).toEqual(lines);

      const env = { env: withoutLivetrailEnv({ LIVETRAIL_TOKEN: TOKEN }) };
      const grep = await runCli(["tail", "--grep", "disk|backup", "--no-follow", server.url], env);
      expect(grep).toMatchObject({
        code: 0,
        stdout: `${entry(1, "OK: backup passed")}${entry(2, "ERROR: disk full")}`,
      });
      const since = await runCli(["tail", "--since", lines[0].c, "--no-follow", server.url], env);
      expect(since.stdout).toBe(`${entry(2, "ERROR: disk full")}${entry(3)}`);
      const at = await runCli(["tail", "--since", "2026-12-04T21:00:02Z", "--no-follow", server.url], env);
      expect(at.stdout).toBe(`${entry(2, "ERROR: disk full")}${entry(3)}`);
      const badGrep = await runCli(["tail", "--grep", "(", server.url], env);
      expect(badGrep.code).toBe(2);
      expect(badGrep.stderr).toMatch(/^livetrail: --grep: /);
    } finally {
      await server.stop();
    }
  });

  it("resumes across a server restart: every line exactly once, lines written while it was down included", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await writeFile(file, entries(1, 3));
    let server = await serve(file);
    const port = server.port;
    // The token from a file this time, not the environment.
    const token = await tokenFile(dir.file("token"));
    const real = remoteTail(["-n", "3", "--token-file", token, `http://127.0.0.1:${port}`], {});
    try {
      await waitFor(() => real.lines().length === 3, { timeoutMs: 60_000, message: "the first lines" });
      await appendFile(file, entries(4, 6));
      await waitFor(() => real.lines().length === 6, { timeoutMs: 60_000, message: "live lines" });

      await server.stop();
      await appendFile(file, entries(7, 10)); // written while no server runs
      await waitFor(() => real.err().includes("reconnecting"), {
        timeoutMs: 60_000,
        message: "reconnecting",
      });
      server = await serve(file, port);
      await appendFile(file, entries(11, 12));
      await waitFor(() => real.lines().length >= 12, {
        timeoutMs: 90_000,
        message: "all lines after the restart",
      });
      expect(real.out()).toBe(entries(1, 12));
      const exit = finished(real.child);
      real.child.kill("SIGTERM");
      expect((await exit).code).toBe(0);
    } finally {
      await server.stop();
    }
  });

  it("says on stderr when the lines after its cursor are gone (file replaced while the server was down)", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await writeFile(file, entries(1, 2));
    let server = await serve(file);
    const port = server.port;
    const tail = remoteTail([`http://127.0.0.1:${port}`]);
    try {
      await waitFor(() => tail.lines().length === 2, { timeoutMs: 60_000, message: "the first lines" });
      await server.stop();
      // Not a rotated name: the old file is out of the stream's view, so its lines after the cursor are gone.
      await rename(file, dir.file("audit.log.old"));
      await writeFile(file, entries(3, 4));
      server = await serve(file, port);
      await waitFor(() => tail.lines().length === 4, { timeoutMs: 90_000, message: "the new file's lines" });
      expect(tail.out()).toBe(entries(1, 4));
      expect(tail.err()).toMatch(
        /livetrail: audit\.log: lines cannot be delivered \(file-changed\); continuing at \S+\n/,
      );
    } finally {
      await server.stop();
    }
  });

  it("colours lines by level on a terminal and escapes control characters", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await writeFile(
      file,
      `${entry(1, "ERROR: disk full")}${entry(2, "WARN: slow")}${entry(3, "OK: done")}${entry(4, "plain \x1b[2J")}`,
    );
    const server = await serve(file);
    try {
      // `script` runs the command with a pseudo-terminal as its stdout.
      const command = `"${process.execPath}" "${CLI}" tail --no-follow ${server.url}`;
      const child = start("script", ["-qec", command, "/dev/null"], {
        env: withoutLivetrailEnv({ LIVETRAIL_TOKEN: TOKEN }),
      });
      const done = finished(child);
      child.stdin?.end();
      const { code, stdout } = await done;
      expect(code).toBe(0);
      const shown = stdout.replace(/\r\n/g, "\n");
      expect(shown).toContain(`\x1b[31m${entry(1, "ERROR: disk full").trim()}\x1b[0m\n`);
      expect(shown).toContain(`\x1b[33m${entry(2, "WARN: slow").trim()}\x1b[0m\n`);
      expect(shown).toContain(`\x1b[32m${entry(3, "OK: done").trim()}\x1b[0m\n`);
      expect(shown).toContain(`${entry(4, "plain \\x1b[2J").trim()}\n`);
    } finally {
      await server.stop();
    }
  });

  it("exits when its output is closed, on a quiet stream", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await writeFile(file, entries(1, 3));
    const server = await serve(file);
    try {
      const ms = await exitAfterReaderCloses(["tail", "-n", "1", server.url], { LIVETRAIL_TOKEN: TOKEN });
      console.log(`remote tail exited ${ms} ms after its reader closed`);
      expect(ms).toBeLessThan(5000);
    } finally {
      await server.stop();
    }
  });
});

async function tokenFile(path: string): Promise<string> {
  await writeFile(path, `read ${TOKEN}\n`, { mode: 0o600 });
  return path;
}
