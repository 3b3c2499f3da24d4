import { writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { CLI, finished, killStrays, start } from "../cli/run-cli.js";
import { useClosers } from "../helpers/closer.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { TestClient } from "../server/harness.js";

killStrays();

/** `livetrail serve` (the built bundle) samples the host unless --no-host-metrics. */
describe("serve and host metrics", () => {
  const track = useClosers();
  const tempDir = useTempDirs("livetrail-serve-metrics-");

  async function serve(...flags: string[]) {
    const dir = await tempDir();
    const log = dir.file("audit.log");
    await writeFile(log, "[2026-12-04T10:00:00Z] hello\n");
    const child = start(process.execPath, [CLI, "serve", log, "--port", "0", ...flags]);
    const done = finished(child, 60_000);
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const url = await waitFor(() => /at (http:\/\/\S+)/.exec(out)?.[1], {
      timeoutMs: 20_000,
      message: "url",
    });
    const client = track(await TestClient.connect(`${url.replace(/^http/, "ws")}/ws`));
    const stop = async () => {
      await client.close();
      child.kill("SIGTERM");
      return done;
    };
    return { url, client, stop, dir };
  }

  it("samples the host by default: hello says so, samples arrive, /metrics has livetrail_host_*", async () => {
    const { url, client, stop, dir } = await serve();
    expect(client.messages[0]).toMatchObject({ metrics: { sources: ["host"], intervalMs: 1000 } });
    client.send({ type: "metrics-subscribe", history: 60 });
    await client.waitFor((m) => m.type === "metrics", { message: "a sample" });
    const text = await (await fetch(`${url}/metrics`)).text();
    expect(text).toMatch(/^livetrail_host_cpu_seconds_total\{mode="idle"\} \d/m);
    expect(text).toMatch(/^livetrail_host_memory_available_bytes \d+/m);
    // The log's directory is the reported filesystem when there is no state directory.
    expect(text).toContain(`livetrail_host_filesystem_avail_bytes{path="${dir.path}"}`);
    expect((await stop()).code).toBe(0);
  });

  it("--no-host-metrics turns it off", async () => {
    const { url, client, stop } = await serve("--no-host-metrics");
    expect(client.messages[0]).not.toHaveProperty("metrics");
    client.send({ type: "metrics-subscribe" });
    expect(await client.waitFor((m) => m.type === "error")).toMatchObject({ code: "metrics_off" });
    expect(await (await fetch(`${url}/metrics`)).text()).not.toContain("livetrail_host_");
    expect((await stop()).code).toBe(0);
  });
});
