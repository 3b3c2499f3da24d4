import { appendFile, rename, writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import type { StreamInfo, StreamSummary } from "../../src/protocol/messages.js";
import { makeContainer } from "../backend/docker/docker-dir.js";
import { PART_BYTES, recordsOf, toJsonLog } from "../backend/docker/json-file.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { TestClient } from "../server/harness.js";
import { CLI, finished, killStrays, start } from "./run-cli.js";

killStrays();
const tempDir = useTempDirs("livetrail-docker-cli-");

/** `livetrail serve --docker --docker-root DIR`: a stream per container, from Docker's json-file logs. */
describe("livetrail serve --docker", () => {
  it("serves each container's log decoded (stderr, time, joined partial records), containers that appear later, a rotation", async () => {
    const root = (await tempDir()).path;
    const big = `big:${"y".repeat(PART_BYTES + 500)}`;
    const web = await makeContainer(root, {
      name: "web",
      log: `${toJsonLog(["GET / 200"]) + recordsOf("boom", "stderr") + recordsOf(big)}not a record\n`,
    });
    await makeContainer(root, { name: "db", log: toJsonLog(["ready"]), running: false });
    await makeContainer(root, { name: "journal", driver: "journald" });
    const child = start(process.execPath, [
      CLI,
      "serve",
      "--docker",
      "--docker-root",
      root,
      "--docker-host",
      `unix://${root}/no-such.sock`,
      "--port",
      "0",
      "--poll-interval",
      "100",
    ]);
    const result = finished(child, 60_000);
    let out = "";
    let err = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    child.stderr?.on("data", (d: Buffer) => {
      err += d.toString();
    });
    const url = await waitFor(() => /at (http:\/\/\S+)/.exec(out)?.[1], {
      timeoutMs: 20_000,
      message: "url",
    });
    const wsUrl = `${url.replace(/^http/, "ws")}/ws`;
    const client = await TestClient.connect(wsUrl);
    try {
      const hello = client.messages[0] as { streams: StreamInfo[] };
      const byName = new Map(hello.streams.map((s) => [s.name, s]));
      expect([...byName.keys()].sort()).toEqual(["db", "web"]);
      expect(byName.get("web")?.source).toMatchObject({ kind: "container", state: "running" });
      expect(byName.get("db")?.source).toMatchObject({ kind: "container", state: "exited" });
      expect(byName.get("web")?.source?.note).toContain("not reachable");
      expect(byName.get("web")?.cursors).toEqual({ durable: true });
      expect(err).toContain("container journal");
      expect(err).toContain('"journald" driver');

      await client.subscribe("web", { tail: 100 });
      expect(client.texts("web")).toEqual(["GET / 200", "boom", big, "not a record"]);
      const lines = client.lines("web");
      expect(lines.map((l) => l.ch ?? "stdout")).toEqual(["stdout", "stderr", "stdout", "stdout"]);
      expect(lines[0]?.ts).toBe("2026-12-04T12:00:00.123456789Z");
      expect(lines[3]?.ts).toBeUndefined();

      // Live, then Docker's rotation (rename to .1, a new file) while the client follows.
      await appendFile(web.logPath, toJsonLog(["after 1"]));
      await client.waitForText("after 1");
      await rename(web.logPath, `${web.logPath}.1`);
      await writeFile(web.logPath, toJsonLog(["rotated 1", "rotated 2"], "stderr"));
      await client.waitForText("rotated 2");
      expect(client.texts("web").slice(-3)).toEqual(["after 1", "rotated 1", "rotated 2"]);
      expect(client.messages.some((m) => m.type === "rotated")).toBe(true);

      // History and search over HTTP carry the channel and time too; search matches the decoded text.
      const page = (await (await fetch(`${url}/api/streams/web/lines?limit=5`)).json()) as {
        lines: { text: string; ch?: string; ts?: string }[];
      };
      // History goes on into the rotated <id>-json.log.1 (rotated history), decoded the same way.
      expect(page.lines.map((l) => l.text)).toEqual([
        big,
        "not a record",
        "after 1",
        "rotated 1",
        "rotated 2",
      ]);
      expect(page.lines[3]).toMatchObject({ ch: "stderr", ts: "2026-12-04T12:00:00.123456789Z" });

      // A container created while the server runs becomes a stream.
      await makeContainer(root, { name: "worker", log: toJsonLog(["job started"]) });
      await waitFor(
        async () => {
          const list = (await (await fetch(`${url}/api/streams`)).json()) as StreamSummary[];
          return list.some((s) => s.name === "worker");
        },
        { timeoutMs: 20_000, message: "the new container's stream" },
      );
      const later = await TestClient.connect(wsUrl);
      try {
        await later.subscribe("worker", { tail: 10 });
        expect(later.texts("worker")).toEqual(["job started"]);
        const found = (await (await fetch(`${url}/api/streams/db/search?q=READY`)).json()) as {
          matches: { text: string }[];
        };
        expect(found.matches.map((m) => m.text)).toEqual(["ready"]);
      } finally {
        await later.close();
      }
    } finally {
      await client.close();
      child.kill("SIGTERM");
    }
    expect((await result).code).toBe(0);
  });

  it("refuses --docker with --redis, and a --docker-host that is not a unix:// socket", async () => {
    const both = await finished(
      start(process.execPath, [CLI, "serve", "--docker", "--redis", "redis://127.0.0.1:1"]),
    );
    expect(both.code).toBe(2);
    expect(both.stderr).toContain("either --docker or --redis");
    const tcp = await finished(
      start(process.execPath, [CLI, "serve", "--docker", "--docker-host", "tcp://1.2.3.4:2375"]),
    );
    expect(tcp.code).toBe(2);
    expect(tcp.stderr).toContain("--docker-host needs unix://");
  });
});
