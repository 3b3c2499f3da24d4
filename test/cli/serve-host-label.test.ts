import { writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { useClosers } from "../helpers/closer.js";
import { makeTempDir } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { startServer, TestClient } from "../server/harness.js";
import { CLI, finished, killStrays, runCli, start } from "./run-cli.js";

killStrays();

interface Hello {
  streams: { name: string; host?: string }[];
}

/** The host label of a stream: in `hello`, from `serve --host-label`, a config file's "host", or StreamSpec. */
describe("host labels", () => {
  const track = useClosers();

  it("serve --host-label labels the file streams; a config file's own host wins for its stream", async () => {
    const dir = await makeTempDir("livetrail-host-");
    track({ close: () => dir.remove() });
    const a = dir.file("a.log");
    const b = dir.file("b.log");
    await writeFile(a, "[2025-12-17T17:40:37Z] a\n");
    await writeFile(b, "[2025-12-17T17:40:37Z] b\n");
    const config = dir.file("config.json");
    await writeFile(config, JSON.stringify({ streams: [{ name: "b", file: b, host: "db-2" }] }));
    const child = start(process.execPath, [CLI, "serve", "--config", config, "--port", "0"]);
    const done = finished(child, 60_000);
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const url = await waitFor(() => /at (http:\/\/\S+)/.exec(out)?.[1], {
      timeoutMs: 20_000,
      message: "url",
    });
    const client = await TestClient.connect(`${url.replace(/^http/, "ws")}/ws`);
    expect((client.messages[0] as Hello).streams.map((s) => [s.name, s.host])).toEqual([["b", "db-2"]]);
    await client.close();
    child.kill("SIGTERM");
    expect((await done).code).toBe(0);

    const labelled = start(process.execPath, [
      CLI,
      "serve",
      `a=${a}`,
      "--host-label",
      "web-1",
      "--port",
      "0",
    ]);
    const done2 = finished(labelled, 60_000);
    let out2 = "";
    labelled.stdout?.on("data", (d: Buffer) => {
      out2 += d.toString();
    });
    const url2 = await waitFor(() => /at (http:\/\/\S+)/.exec(out2)?.[1], {
      timeoutMs: 20_000,
      message: "url",
    });
    const c2 = await TestClient.connect(`${url2.replace(/^http/, "ws")}/ws`);
    expect((c2.messages[0] as Hello).streams).toMatchObject([{ name: "a", host: "web-1" }]);
    await c2.close();
    labelled.kill("SIGTERM");
    expect((await done2).code).toBe(0);
  });

  it("refuses a blank, over-long or control-character label with a usage error", async () => {
    for (const bad of [" ", "x".repeat(201), "web\u001b[31m"]) {
      const r = await runCli(["serve", "--host-label", bad, "--port", "0", "/nonexistent/x.log"]);
      expect(r.code).toBe(2);
      expect(r.stderr).toContain("--host-label");
    }
  });

  it("a StreamSpec's host reaches hello; a stream without one has no host field; a bad one is a TypeError", async () => {
    const dir = await makeTempDir("livetrail-host-");
    track({ close: () => dir.remove() });
    const s = track(
      await startServer([
        { name: "one", file: dir.file("one.log"), host: "h<b>1</b>" },
        { name: "two", file: dir.file("two.log") },
      ]),
    );
    const client = await TestClient.connect(`${s.wsUrl}/ws`);
    const streams = (client.messages[0] as Hello).streams;
    expect(streams[0]?.host).toBe("h<b>1</b>");
    expect(streams[1] && "host" in streams[1]).toBe(false);
    await client.close();
    await expect(startServer([{ name: "x", file: dir.file("x.log"), host: "a\nb" }])).rejects.toThrow(
      /control characters/,
    );
  });
});
