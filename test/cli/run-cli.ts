import { type ChildProcess, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { afterEach } from "vitest";

/** The built CLI (test/global-setup.ts builds dist/ before the tests). */
export const CLI = fileURLToPath(new URL("../../dist/bin/main.js", import.meta.url));

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** Written to stdin, which is then closed; without it stdin is closed at once. */
  input?: string | Buffer;
  /** Kill the process (by its PID) if it has not exited by then; default 90 s (machines are shared and busy). */
  timeoutMs?: number;
  /** Run as this user and group (needs root): see `unreadable`. */
  uid?: number;
  gid?: number;
}

const running = new Set<ChildProcess>();

/** Stops, after each test, every process this file started that is still running. */
export function killStrays(): void {
  afterEach(() => {
    for (const child of running) child.kill("SIGKILL");
    running.clear();
  });
}

/** Starts a process and tracks it for killStrays; stdout/stderr are collected as text. */
export function start(command: string, args: string[], options: RunOptions = {}): ChildProcess {
  const child = spawn(command, args, {
    cwd: options.cwd,
    // Without an explicit env, LIVETRAIL_* variables from the developer's shell must not leak into a test.
    env: options.env ?? withoutLivetrailEnv(),
    stdio: ["pipe", "pipe", "pipe"],
    ...(options.uid === undefined ? {} : { uid: options.uid }),
    ...(options.gid === undefined ? {} : { gid: options.gid }),
  });
  running.add(child);
  child.once("exit", () => running.delete(child));
  return child;
}

/**
 * The environment without any LIVETRAIL_* variable of the developer's shell (every setting of serve has one, so
 * any of them could change a test's result), plus `extra`.
 */
export function withoutLivetrailEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = Object.fromEntries(
    Object.entries(process.env).filter(([name]) => !name.startsWith("LIVETRAIL_")),
  );
  return { ...env, ...extra };
}

/** Waits for a started process to exit and returns what it printed. */
export function finished(child: ChildProcess, timeoutMs = 90_000): Promise<RunResult> {
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
  });
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`process ${child.pid} did not exit within ${timeoutMs} ms; stderr: ${stderr}`));
    }, timeoutMs);
    child.once("error", reject);
    child.once("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, stdout, stderr });
    });
  });
}

/** Runs `livetrail ARGS` to completion. */
export function runCli(args: string[], options: RunOptions = {}): Promise<RunResult> {
  const child = start(process.execPath, [CLI, ...args], options);
  const result = finished(child, options.timeoutMs);
  child.stdin?.end(options.input);
  return result;
}

/**
 * A file the CLI cannot read, for real: mode 0600 and owned by root, read by a CLI running as nobody (root reads
 * anything, so as root the CLI is run as nobody); as another user, mode 000. Returns the options to run the CLI
 * with. The file's directory must let nobody in (the temp dir is made 0755).
 */
export async function unreadable(dir: string, file: string, content: string): Promise<RunOptions> {
  const { chmod, writeFile } = await import("node:fs/promises");
  await writeFile(file, content);
  if (process.getuid?.() !== 0) {
    await chmod(file, 0o000);
    return {};
  }
  await chmod(dir, 0o755);
  await chmod(file, 0o600);
  return { uid: 65534, gid: 65534 };
}
