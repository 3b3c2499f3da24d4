import { writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { CLI, finished, killStrays, start } from "./run-cli.js";

killStrays();
const tempDir = useTempDirs("livetrail-glob-cli-");

/** `livetrail serve NAME='DIR/*.log'` and `NAME=DIR/`: a stream per file found, now and later. */
describe("livetrail serve NAME=GLOB / NAME=DIR/", () => {
  it("serves the matching files as NAME.<file name>, picks up new ones, leaves rotated ones out", async () => {
    const dir = await tempDir();
    await writeFile(dir.file("api.log"), "api up\n");
    await writeFile(dir.file("api.log.1"), "older\n");
    const child = start(process.execPath, [
      CLI,
      "serve",
      `app=${dir.path}/*.log`,
      `plain=${dir.file("api.log")}`,
      "--port",
      "0",
      "--glob-rescan-ms",
      "200",
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
    expect(out).toContain(`app.*=${dir.path}/*.log`);
    const names = async () =>
      ((await (await fetch(`${url}/api/streams`)).json()) as { name: string }[]).map((s) => s.name).sort();
    try {
      expect(await names()).toEqual(["app.api.log", "plain"]);
      await writeFile(dir.file("web.log"), "web up\n");
      await writeFile(dir.file("web.log.2.gz"), "");
      await waitFor(async () => (await names()).includes("app.web.log"), { message: "app.web.log" });
      const page = (await (await fetch(`${url}/api/streams/app.web.log/lines?limit=5`)).json()) as {
        lines: { text: string }[];
      };
      expect(page.lines.map((l) => l.text)).toEqual(["web up"]);
      expect(await names()).toEqual(["app.api.log", "app.web.log", "plain"]);
    } finally {
      child.kill("SIGTERM");
    }
    expect((await result).code).toBe(0);
  });

  it("serves a directory's files; refuses a glob over several directories", async () => {
    const dir = await tempDir();
    await writeFile(dir.file("x.log"), "x\n");
    const child = start(process.execPath, [CLI, "serve", `d=${dir.path}/`, "--port", "0"]);
    const result = finished(child, 60_000);
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const url = await waitFor(() => /at (http:\/\/\S+)/.exec(out)?.[1], {
      timeoutMs: 20_000,
      message: "url",
    });
    try {
      const streams = (await (await fetch(`${url}/api/streams`)).json()) as { name: string }[];
      expect(streams.map((s) => s.name)).toEqual(["d.x.log"]);
    } finally {
      child.kill("SIGTERM");
    }
    expect((await result).code).toBe(0);

    const bad = await finished(
      start(process.execPath, [CLI, "serve", `x=${dir.path}/*/a.log`, "--port", "0"]),
    );
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain("wildcards go in the file name only");
  });
});
