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
    // Without an explicit env, LIVETRAIL_FILE from the developer's shell must not leak into a test.
    env: options.env ?? withoutLivetrailEnv(),
    stdio: ["pipe", "pipe", "pipe"],
  });
  running.add(child);
  child.once("exit", () => running.delete(child));
  return child;
}

export function withoutLivetrailEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  if (!("LIVETRAIL_FILE" in extra)) delete env.LIVETRAIL_FILE;
  return env;
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
