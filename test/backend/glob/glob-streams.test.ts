import { appendFile, mkdir, rename, writeFile } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import { parseGlobPattern } from "../../../src/backend/glob/glob-pattern.js";
import { GlobStreams } from "../../../src/backend/glob/glob-streams.js";
import { isRotatedName } from "../../../src/backend/glob/rotated-name.js";
import { useTempDirs } from "../../helpers/temp-dir.js";
import { waitFor } from "../../helpers/wait-for.js";
import { makeLines, startServer, TestClient } from "../../server/harness.js";

const tempDir = useTempDirs("livetrail-glob-");
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

const text = (lines: string[]) => `${lines.join("\n")}\n`;

async function serveGlob(name: string, given: string, isDirectory = false) {
  const source = new GlobStreams([{ name, pattern: parseGlobPattern(given, isDirectory) }], {
    file: { pollIntervalMs: 50 },
    rescanMs: 200,
  });
  const server = await startServer([], { streamSource: source });
  cleanups.push(() => server.close());
  const names = async () =>
    ((await (await fetch(`${server.url}/api/streams`)).json()) as { name: string }[])
      .map((s) => s.name)
      .sort();
  return { source, server, names };
}

describe("glob and directory streams", () => {
  it("makes a stream of each matching file, now and later, and leaves rotated generations and others out", async () => {
    const dir = await tempDir();
    await writeFile(dir.file("a.log"), text(makeLines(0, 3, "a")));
    await writeFile(dir.file("b.log"), text(makeLines(0, 2, "b")));
    await writeFile(dir.file("a.log.1"), "rotated\n");
    await writeFile(dir.file("a.log.2.gz"), "");
    await writeFile(dir.file("notes.txt"), "not a log\n");
    await writeFile(dir.file(".hidden.log"), "hidden\n");
    await mkdir(dir.file("sub.log"));
    const { server, names } = await serveGlob("app", dir.file("*.log"));
    expect(await names()).toEqual(["app.a.log", "app.b.log"]);

    const client = await TestClient.connect(`${server.wsUrl}/ws`);
    cleanups.push(() => client.close());
    await client.subscribe("app.a.log", { tail: 10 });
    expect(client.texts("app.a.log")).toEqual(makeLines(0, 3, "a"));

    await writeFile(dir.file("c.log"), text(makeLines(0, 1, "c")));
    await writeFile(dir.file("b.log.1"), "rotated\n");
    await writeFile(dir.file("b.log-20261204"), "rotated\n");
    await waitFor(async () => (await names()).includes("app.c.log"), { message: "app.c.log" });
    const page = (await (await fetch(`${server.url}/api/streams/app.c.log/lines?limit=10`)).json()) as {
      lines: { text: string }[];
    };
    expect(page.lines.map((l) => l.text)).toEqual(makeLines(0, 1, "c"));
    // A few more rescans: the rotated names stay out.
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await names()).toEqual(["app.a.log", "app.b.log", "app.c.log"]);
  });

  it("waits for a directory that does not exist yet, and watches it once it does", async () => {
    const dir = await tempDir();
    const problems: string[] = [];
    const source = new GlobStreams(
      [{ name: "late", pattern: parseGlobPattern(`${dir.file("later")}/*.log`, false) }],
      {
        file: { pollIntervalMs: 50 },
        rescanMs: 200,
        onProblem: (m) => problems.push(m),
      },
    );
    const server = await startServer([], { streamSource: source });
    cleanups.push(() => server.close());
    expect(problems).toEqual([expect.stringContaining("cannot read directory")]);
    await mkdir(dir.file("later"));
    await writeFile(dir.file("later/one.log"), "one\n");
    await waitFor(() => source.streams.some((s) => s.name === "late.one.log"), { message: "late.one.log" });
    // Watched from now on: a second file is found as well.
    await writeFile(dir.file("later/two.log"), "two\n");
    await waitFor(() => source.streams.some((s) => s.name === "late.two.log"), { message: "late.two.log" });
    expect(problems).toHaveLength(1);
  });

  it("keeps a renamed file the same stream: it follows the file to its new name, live and in history", async () => {
    const dir = await tempDir();
    await writeFile(dir.file("a.log"), text(makeLines(0, 10, "before")));
    const { source, server, names } = await serveGlob("app", dir.file("*.log"));
    const client = await TestClient.connect(`${server.wsUrl}/ws`);
    cleanups.push(() => client.close());
    await client.subscribe("app.a.log", { tail: 10 });
    const resumeAt = client.lines("app.a.log").at(-1)?.c as string;

    await rename(dir.file("a.log"), dir.file("renamed.log"));
    await waitFor(() => source.streams[0]?.path === dir.file("renamed.log"), { message: "the move" });
    await appendFile(dir.file("renamed.log"), text(makeLines(10, 2, "after")));
    await client.waitForText(makeLines(11, 1, "after")[0] as string);
    expect(client.texts("app.a.log")).toEqual([...makeLines(0, 10, "before"), ...makeLines(10, 2, "after")]);
    expect(await names()).toEqual(["app.a.log"]);

    const history = (await (
      await fetch(`${server.url}/api/streams/app.a.log/lines?after=start&limit=50`)
    ).json()) as {
      lines: { text: string }[];
    };
    expect(history.lines.map((l) => l.text)).toEqual([
      ...makeLines(0, 10, "before"),
      ...makeLines(10, 2, "after"),
    ]);
    // A client resuming from before the rename gets exactly the lines after its cursor.
    const again = await TestClient.connect(`${server.wsUrl}/ws`);
    cleanups.push(() => again.close());
    await again.subscribe("app.a.log", { since: resumeAt });
    expect(again.texts("app.a.log")).toEqual(makeLines(10, 2, "after"));
    expect(again.messages.some((m) => m.type === "gap")).toBe(false);
  });

  it("treats a rotation (x.log -> x.log.1, a new x.log) as the same stream going on in the new file", async () => {
    const dir = await tempDir();
    await writeFile(dir.file("x.log"), text(makeLines(0, 2, "old")));
    const { server, names } = await serveGlob("logs", `${dir.path}/`, true);
    const client = await TestClient.connect(`${server.wsUrl}/ws`);
    cleanups.push(() => client.close());
    await client.subscribe("logs.x.log", { tail: 10 });
    await rename(dir.file("x.log"), dir.file("x.log.1"));
    await writeFile(dir.file("x.log"), text(makeLines(0, 1, "new")));
    await client.waitForText(makeLines(0, 1, "new")[0] as string);
    expect(client.messages.some((m) => m.type === "rotated")).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(await names()).toEqual(["logs.x.log"]);
  });
});

describe("glob patterns", () => {
  it("watches one directory: wildcards in the file name only", () => {
    const p = parseGlobPattern("/var/log/app/*.log", false);
    expect(p.dir).toBe("/var/log/app");
    expect([p.matches("a.log"), p.matches("a.txt"), p.matches(".a.log")]).toEqual([true, false, false]);
    expect(parseGlobPattern("/var/log/app/{api,web}.log", false).matches("web.log")).toBe(true);
    expect(parseGlobPattern("/var/log/app", true)).toMatchObject({ dir: "/var/log/app", glob: "*" });
    expect(() => parseGlobPattern("/var/log/*/x.log", false)).toThrow(/file name only/);
    expect(() => parseGlobPattern("/var/log/**", false)).toThrow(/file name only/);
    expect(() => parseGlobPattern("/var/log/a.log", false)).toThrow(/neither a glob nor a directory/);
  });

  it("knows rotated generations by name", () => {
    for (const name of [
      "x.log.1",
      "x.log.12",
      "x.log.2.gz",
      "x.log.gz",
      "x.log-20261204",
      "x.log.old",
      "x.zst",
    ])
      expect(isRotatedName(name), name).toBe(true);
    for (const name of ["x.log", "app-api.log", "x.1.log", "2026.log"])
      expect(isRotatedName(name), name).toBe(false);
  });
});
