import { readFile } from "node:fs/promises";
import { describe, expect, it, vi } from "vitest";
import { useClosers } from "../helpers/closer.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitForEvent } from "../helpers/wait-for.js";

// Each test runs real processes; on a shared, busy machine one can take many seconds to start.
vi.setConfig({ testTimeout: 180_000 });

const tempDir = useTempDirs();
const track = useClosers();

// The package's own entry point, as a Node program gets it with `import ... from "livetrail"` (dist/bin/index.js,
// built by the global setup). Typed from the source, so typechecking does not depend on a build.
const specifier = "livetrail";
const lib = (await import(specifier)) as typeof import("../../src/index.js");

describe('import from "livetrail"', () => {
  it("exports the appender, verify, the follower, parseEntry, the cursor codec, the server and the demo", () => {
    for (const name of [
      "appendEntries",
      "formatEntry",
      "escapeMessage",
      "verifyAuditFile",
      "Follower",
      "parseEntry",
      "encodeCursor",
      "decodeCursor",
      "CursorError",
      "createServer",
      "startDemo",
      "frameLines",
    ]) {
      expect(typeof (lib as Record<string, unknown>)[name], name).toBe("function");
    }
  });

  it("appends with the library and follows the file with the library", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await lib.appendEntries(file, ["before"], { now: new Date("2025-12-17T17:40:37Z") });
    const follower = track(new lib.Follower(file, { start: { tail: 1 } }));
    const seen: string[] = [];
    follower.on((event) => {
      if (event.type === "lines") seen.push(...event.lines.map((line) => line.text));
    });
    await follower.start();
    expect(seen).toEqual(["[2025-12-17T17:40:37Z] before"]);
    const arrived = waitForEvent(follower.on.bind(follower), (e) => e.type === "lines", {
      message: "the new line",
      timeoutMs: 60_000,
    });
    await lib.appendEntries(file, [{ message: "after", level: "error" }]);
    await arrived;
    expect(lib.parseEntry(seen[1] ?? "")).toMatchObject({ message: "ERROR: after", level: "error" });
    expect(lib.decodeCursor(follower.cursor ?? "").offset).toBe((await readFile(file)).length);
  });

  it("serves a file written with the library from a server made with the library", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await lib.appendEntries(file, ["Auto-repair: Restarted Grafana container"]);
    const server = track(lib.createServer({ streams: [{ name: "audit", file }], port: 0, staticDir: null }));
    const { url } = await server.listen();
    const response = await fetch(`${url}/api/audit`);
    expect(response.status).toBe(200);
    expect(await response.text()).toBe(await readFile(file, "utf8"));
  });
});
