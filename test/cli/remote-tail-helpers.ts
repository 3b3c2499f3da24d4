import { CLI, start, withoutLivetrailEnv } from "./run-cli.js";

/** Starts the CLI with stdout piped, reads one line, closes the read end; how long until the CLI exits. */
export async function exitAfterReaderCloses(args: string[], env: NodeJS.ProcessEnv = {}): Promise<number> {
  const child = start(process.execPath, [CLI, ...args], { env: withoutLivetrailEnv(env) });
  const exited = new Promise<number>((resolve) => child.once("exit", () => resolve(performance.now())));
  await new Promise<void>((resolve) => child.stdout?.once("data", () => resolve()));
  const closedAt = performance.now();
  child.stdout?.destroy();
  const exitAt = await Promise.race([
    exited,
    new Promise<number>((r) => setTimeout(() => r(Number.NaN), 30_000)),
  ]);
  if (Number.isNaN(exitAt)) child.kill("SIGKILL");
  return Math.round(exitAt - closedAt);
}
