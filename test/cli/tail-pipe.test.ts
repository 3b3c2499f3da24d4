import { spawn } from "node:child_process";
import { writeFile } from "node:fs/promises";
import { describe, expect, it, vi } from "vitest";
import { useTempDirs } from "../helpers/temp-dir.js";
import { exitAfterReaderCloses } from "./remote-tail-helpers.js";
import { CLI, killStrays } from "./run-cli.js";

vi.setConfig({ testTimeout: 120_000 });

const tempDir = useTempDirs();
killStrays();

describe("livetrail tail FILE | head on a quiet log", () => {
  it("exits when its reader closes a socket stdout (as Node's child processes have), with no new line", async () => {
    const dir = await tempDir();
    const file = dir.file("a.log");
    await writeFile(file, "one\ntwo\n");
    const ms = await exitAfterReaderCloses(["tail", "-n", "1", file]);
    console.log(`local tail exited ${ms} ms after its reader closed (socket)`);
    expect(ms).toBeLessThan(5000);
  });

  it("exits when `head` closes a shell pipe (a FIFO), with no new line", async () => {
    const dir = await tempDir();
    const file = dir.file("a.log");
    await writeFile(file, "one\ntwo\n");
    // The shell waits for both sides of the pipeline: it ends only when tail has exited too.
    const script = `"${process.execPath}" "${CLI}" tail -n 1 "${file}" | head -n 1; echo "head done"`;
    // Its own process group, so a hang can be ended with the whole pipeline.
    const shell = spawn("sh", ["-c", script], { stdio: ["ignore", "pipe", "pipe"], detached: true });
    let out = "";
    shell.stdout.setEncoding("utf8").on("data", (d: string) => {
      out += d;
    });
    const code = await new Promise<number | null>((resolve) => {
      const timer = setTimeout(() => process.kill(-(shell.pid as number), "SIGKILL"), 60_000);
      shell.once("exit", (c) => {
        clearTimeout(timer);
        resolve(c);
      });
    });
    expect(code).toBe(0);
    expect(out).toBe("two\nhead done\n");
  });
});
