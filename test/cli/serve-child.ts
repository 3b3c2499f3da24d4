import type { ChildProcess } from "node:child_process";
import { waitFor } from "../helpers/wait-for.js";
import { CLI, finished, start, withoutLivetrailEnv } from "./run-cli.js";

/** `livetrail serve --port 0 ARGS` as a child process, once it printed the URL it serves at. */
export async function startServe(
  args: string[],
  env: NodeJS.ProcessEnv = {},
): Promise<{ child: ChildProcess; url: string; stderr: () => string }> {
  const child = start(process.execPath, [CLI, "serve", "--port", "0", ...args], {
    env: withoutLivetrailEnv(env),
  });
  let stdout = "";
  let stderr = "";
  child.stdout?.setEncoding("utf8").on("data", (d: string) => {
    stdout += d;
  });
  child.stderr?.setEncoding("utf8").on("data", (d: string) => {
    stderr += d;
  });
  const url = await waitFor(
    () => {
      if (child.exitCode !== null) throw new Error(`serve exited ${child.exitCode}: ${stderr}`);
      return /at (https?:\/\/\S+)/.exec(stdout)?.[1];
    },
    { timeoutMs: 30_000, message: "serve to print its URL" },
  );
  return { child, url, stderr: () => stderr };
}

/** SIGTERM, and the exit it leads to. */
export async function stopServe(child: ChildProcess): Promise<void> {
  const done = finished(child, 30_000);
  child.kill("SIGTERM");
  await done;
}
