import { chmod, writeFile } from "node:fs/promises";
import { describe, expect, it, vi } from "vitest";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { CLI, finished, killStrays, runCli, start } from "./run-cli.js";

vi.setConfig({ testTimeout: 120_000 });

const tempDir = useTempDirs();
killStrays();

const READ = "read-token-0123456789abcdef";

/** A token file with `mode`, and an audit file to serve. */
async function setup(mode: number): Promise<{ tokens: string; log: string }> {
  const dir = await tempDir();
  const tokens = dir.file("tokens");
  await writeFile(tokens, `read ${READ}\n`);
  await chmod(tokens, mode);
  const log = dir.file("audit.log");
  await writeFile(log, "[2025-12-17T17:40:37Z] first\n");
  return { tokens, log };
}

/** Starts `livetrail serve` and waits until it listens; returns its stderr so far, then stops it with SIGTERM. */
async function serveUntilListening(
  args: string[],
): Promise<{ url: string; stderr: string; code: number | null }> {
  // The request log is silenced: these tests check the CLI's own messages on stderr, exactly.
  const child = start(process.execPath, [CLI, "serve", "--port", "0", "--log-level", "silent", ...args]);
  const result = finished(child, 60_000);
  let out = "";
  let err = "";
  child.stdout?.on("data", (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on("data", (d: Buffer) => {
    err += d.toString();
  });
  const url = await waitFor(() => /at (http:\/\/\S+)/.exec(out)?.[1], { timeoutMs: 30_000, message: "url" });
  // The token works: the server did load the file.
  const r = await fetch(`${url}/api/streams`, { headers: { authorization: `Bearer ${READ}` } });
  expect(r.status).toBe(200);
  expect((await fetch(`${url}/api/streams`)).status).toBe(401);
  const stderr = err;
  child.kill("SIGTERM");
  return { url, stderr, code: (await result).code };
}

describe("livetrail serve --token-file", () => {
  it("refuses a token file that group or others may read, with exit 2 and one line", async () => {
    for (const mode of [0o644, 0o640, 0o604, 0o620]) {
      const { tokens, log } = await setup(mode);
      // (Without the check the server would start and run: the timeout ends the test then.)
      const result = await runCli(["serve", "--port", "0", "--token-file", tokens, log], {
        timeoutMs: 20_000,
      });
      const shown = mode.toString(8).padStart(4, "0");
      expect(result, shown).toMatchObject({
        code: 2,
        stdout: "",
        stderr:
          `livetrail: --token-file ${tokens} is open to group or others (mode ${shown}): anyone who can read it ` +
          "can use its tokens; chmod 600 it, or pass --allow-insecure-token-file\n",
      });
      // The message never shows a token.
      expect(result.stderr).not.toContain(READ);
    }
  });

  it("with --allow-insecure-token-file, serves with a warning on stderr", async () => {
    const { tokens, log } = await setup(0o644);
    const { stderr, code } = await serveUntilListening([
      "--token-file",
      tokens,
      "--allow-insecure-token-file",
      log,
    ]);
    expect(stderr).toBe(
      `livetrail: warning: --token-file ${tokens} is open to group or others (mode 0644): anyone who can read ` +
        "it can use its tokens; chmod 600 it\n",
    );
    expect(code).toBe(0);
  });

  it("serves with a chmod 600 (or 400) token file and says nothing about it", async () => {
    for (const mode of [0o600, 0o400]) {
      const { tokens, log } = await setup(mode);
      const { stderr, code } = await serveUntilListening(["--token-file", tokens, log]);
      expect(stderr).toBe("");
      expect(code).toBe(0);
    }
  });
});
