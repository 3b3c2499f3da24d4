import { randomBytes } from "node:crypto";
import { mkdir, rm, writeFile } from "node:fs/promises";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { StreamBackend } from "../../../src/backend/backend.js";
import { DockerContainers } from "../../../src/backend/docker/docker-containers.js";
import { useTempDirs } from "../../helpers/temp-dir.js";
import { waitFor } from "../../helpers/wait-for.js";
import { makeContainer } from "./docker-dir.js";
import { toJsonLog } from "./json-file.js";

const tempDir = useTempDirs("livetrail-containers-");

describe("DockerContainers: one stream per json-file container, as containers appear", () => {
  it("names streams after config.v2.json (else the short id), skips other drivers, finds later containers", async () => {
    const dir = await tempDir();
    const web = await makeContainer(dir.path, { name: "web", log: toJsonLog(["w"]) });
    const odd = await makeContainer(dir.path, { name: "bad/name!", log: toJsonLog(["o"]) });
    const clash = await makeContainer(dir.path, { name: "audit", log: toJsonLog(["a"]) });
    await makeContainer(dir.path, { name: "local", driver: "local" });
    // Not a container directory: ignored.
    await writeFile(join(dir.path, "containers", "README"), "x");
    const notes: string[] = [];
    const streams = new Map<string, StreamBackend>();
    const source = new DockerContainers({
      root: dir.path,
      host: null,
      taken: ["audit"],
      rescanMs: 60_000,
      onNote: (m) => notes.push(m),
    });
    try {
      await source.start((name, backend) => void streams.set(name, backend));
      expect([...streams.keys()].sort()).toEqual(
        [`audit-${clash.id.slice(0, 12)}`, odd.id.slice(0, 12), "web"].sort(),
      );
      expect(notes).toEqual([
        expect.stringMatching(/^container local \([0-9a-f]{12}\) logs with the "local" driver: not served/),
      ]);
      expect((await streams.get("web")?.tail(5))?.lines.map((l) => l.text)).toEqual(["w"]);
      // No Engine API asked for: no note on the streams.
      expect(streams.get("web")?.about?.()).toEqual({ kind: "container", state: "running" });

      // Created later: fs.watch on containers/ (the rescan is a minute away) makes it a stream.
      await makeContainer(dir.path, { name: "late", log: toJsonLog(["l"]) });
      await waitFor(() => streams.has("late"), { message: "the late container" });

      // Removed (Docker deletes its directory): the stream stays, its source is missing.
      await rm(join(dir.path, "containers", web.id), { recursive: true });
      await source.scan();
      expect(streams.has("web")).toBe(true);
      expect((await streams.get("web")?.info(null))?.exists).toBe(false);
    } finally {
      await source.close();
    }
  });

  it("a root without containers/ is reported and waited for", async () => {
    const dir = await tempDir();
    const notes: string[] = [];
    const streams = new Map<string, StreamBackend>();
    const source = new DockerContainers({
      root: dir.path,
      host: null,
      rescanMs: 50,
      onNote: (m) => notes.push(m),
    });
    try {
      await source.start((name, backend) => void streams.set(name, backend));
      expect(notes[0]).toMatch(/cannot read .*containers \(ENOENT\)/);
      await makeContainer(dir.path, { name: "first", log: toJsonLog(["1"]) });
      await waitFor(() => streams.has("first"), { message: "the first container" });
      expect(notes.at(-1)).toMatch(/readable again/);
    } finally {
      await source.close();
    }
  });

  it("a container directory seen before Docker wrote its files becomes a stream once they are written", async () => {
    const dir = await tempDir();
    const id = randomBytes(32).toString("hex");
    await mkdir(join(dir.path, "containers", id), { recursive: true });
    const streams = new Map<string, StreamBackend>();
    // The rescan is a minute away: only a watch can find the files written into the directory.
    const source = new DockerContainers({ root: dir.path, host: null, rescanMs: 60_000 });
    try {
      await source.start((name, backend) => void streams.set(name, backend));
      expect(streams.size).toBe(0);
      await makeContainer(dir.path, { id, name: "slow", log: toJsonLog(["s"]) });
      await waitFor(() => streams.has("slow"), { message: "the container once configured" });
      expect((await streams.get("slow")?.tail(5))?.lines.map((l) => l.text)).toEqual(["s"]);
    } finally {
      await source.close();
    }
  });
});
