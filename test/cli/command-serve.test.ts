import { readFile, writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { alive } from "../backend/command/process-alive.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { TestClient } from "../server/harness.js";
import { CLI, finished, killStrays, start } from "./run-cli.js";

killStrays();
const tempDir = useTempDirs("livetrail-cmd-cli-");

const readPid = async (file: string): Promise<number | null> => {
  const text = await readFile(file, "utf8").catch(() => "");
  return text.trim() === "" ? null : Number(text.trim());
};

/** `livetrail serve NAME=cmd:... / NAME=sh:...`: a command's output as a stream, its process the server's. */
describe("livetrail serve NAME=sh:STRING", () => {
  it("serves stdout and stderr (marked), and stops the command with the server", async () => {
    const dir = await tempDir();
    const pidFile = dir.file("pid");
    const script = `echo $$ > '${pidFile}'; echo hello; echo oops >&2; exec sleep 1000`;
    const child = start(process.execPath, [CLI, "serve", `job=sh:${script}`, "--port", "0"]);
    const result = finished(child, 60_000);
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const url = await waitFor(() => /at (http:\/\/\S+)/.exec(out)?.[1], {
      timeoutMs: 20_000,
      message: "url",
    });
    expect(out).toContain(`job=sh:${script}`);
    const client = await TestClient.connect(`${url.replace(/^http/, "ws")}/ws`);
    let pid: number;
    try {
      // hello says what the stream is, for the dashboard's "commands" group.
      const hello = client.messages.find((m) => m.type === "hello") as unknown as {
        streams: { name: string; source?: { kind: string; state?: string } }[];
      };
      expect(hello.streams.find((s) => s.name === "job")?.source?.kind).toBe("command");
      await client.subscribe("job", { tail: 10 });
      await client.waitForText("oops");
      await client.waitForText("hello");
      expect(client.lines("job").find((l) => l.text === "oops")?.ch).toBe("stderr");
      expect(client.lines("job").find((l) => l.text === "hello")?.ch).toBeUndefined();
      pid = (await readPid(pidFile)) as number;
      expect(alive(pid)).toBe(true);
    } finally {
      await client.close();
      child.kill("SIGTERM");
    }
    expect((await result).code).toBe(0);
    expect(alive(pid)).toBe(false);
  });

  it("--cmd-start demand starts the command on the first subscriber; a config file names command streams too", async () => {
    const dir = await tempDir();
    const pidFile = dir.file("pid");
    const config = dir.file("config.json");
    await writeFile(
      config,
      JSON.stringify({ streams: { lazy: `sh:echo $$ > '${pidFile}'; echo up; exec sleep 1000` } }),
    );
    const child = start(process.execPath, [
      CLI,
      "serve",
      "--config",
      config,
      "--port",
      "0",
      "--cmd-start",
      "demand",
    ]);
    const result = finished(child, 60_000);
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const url = await waitFor(() => /at (http:\/\/\S+)/.exec(out)?.[1], {
      timeoutMs: 20_000,
      message: "url",
    });
    // Listing the streams is not a subscriber.
    expect(((await (await fetch(`${url}/api/streams`)).json()) as { name: string }[]).length).toBeGreaterThan(
      0,
    );
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await readPid(pidFile)).toBeNull();
    const client = await TestClient.connect(`${url.replace(/^http/, "ws")}/ws`);
    let pid: number;
    try {
      await client.subscribe("lazy");
      await client.waitForText("up");
      pid = (await readPid(pidFile)) as number;
      expect(alive(pid)).toBe(true);
    } finally {
      await client.close();
      child.kill("SIGTERM");
    }
    expect((await result).code).toBe(0);
    expect(alive(pid)).toBe(false);
  });

  it("refuses shell syntax in cmd: and bad settings with a usage error", async () => {
    const pipe = await finished(
      start(process.execPath, [CLI, "serve", "x=cmd:tail -f a | grep b", "--port", "0"]),
    );
    expect(pipe.code).toBe(2);
    expect(pipe.stderr).toMatch(/stream "x": cmd: runs no shell, so "\|"/);
    const when = await finished(
      start(process.execPath, [CLI, "serve", "x=cmd:true", "--cmd-start", "later"]),
    );
    expect(when.code).toBe(2);
    expect(when.stderr).toContain('--cmd-start needs "boot" or "demand"');
    const env = await finished(start(process.execPath, [CLI, "serve", "x=cmd:true", "--cmd-env", "A=B"]));
    expect(env.code).toBe(2);
    expect(env.stderr).toContain("not an environment variable name");
  });
});
