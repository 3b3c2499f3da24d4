import { createServer, type Server, type ServerResponse } from "node:http";
import { describe, expect, it } from "vitest";
import type { StreamBackend } from "../../../src/backend/backend.js";
import { DockerContainers } from "../../../src/backend/docker/docker-containers.js";
import { EngineApi, type EngineEvent } from "../../../src/backend/docker/engine-api.js";
import { useTempDirs } from "../../helpers/temp-dir.js";
import { waitFor } from "../../helpers/wait-for.js";
import { containerSummary } from "./container-summary.js";
import { makeContainer } from "./docker-dir.js";
import { toJsonLog } from "./json-file.js";

const tempDir = useTempDirs("livetrail-engine-");

/**
 * A STAND-IN for the Docker Engine, not a real one (none can run containers on this machine): an HTTP server on a
 * Unix socket answering the two calls livetrail makes with bodies in the shapes of the Docker Engine API v1.43
 * reference (https://docs.docker.com/reference/api/engine/version/v1.43/): `GET /containers/json` returns
 * ContainerSummary objects (Id, Names with a leading "/", Image, ImageID, Command, Created, State, Status, ...);
 * `GET /events` streams EventMessage objects (Type, Action, Actor {ID, Attributes}, scope, time, timeNano), one
 * JSON document per line, for as long as the connection stays open.
 */
class EngineStandIn {
  readonly requests: string[] = [];
  private readonly watchers = new Set<ServerResponse>();
  private server: Server | null = null;

  constructor(
    readonly socketPath: string,
    public containers: { id: string; name: string; state: string }[],
  ) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => {
      this.requests.push(req.url ?? "");
      const url = new URL(req.url ?? "/", "http://docker");
      if (url.pathname === "/v1.43/containers/json" && url.searchParams.get("all") === "1") {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.end(JSON.stringify(this.containers.map((c) => containerSummary(c))));
      } else if (url.pathname === "/v1.43/events") {
        res.writeHead(200, { "Content-Type": "application/json" });
        res.flushHeaders();
        this.watchers.add(res);
        res.on("close", () => this.watchers.delete(res));
      } else {
        res.writeHead(404, { "Content-Type": "application/json" });
        res.end(JSON.stringify({ message: `page not found` }));
      }
    });
    const server = this.server;
    await new Promise<void>((resolve) => server.listen(this.socketPath, resolve));
  }

  get watching(): number {
    return this.watchers.size;
  }

  /** An event as the daemon sends it to every `/events` watcher. */
  emit(id: string, name: string, action: string, extra: Record<string, string> = {}): void {
    const now = Date.now();
    const event = {
      status: action,
      id,
      from: "alpine:3.20",
      Type: "container",
      Action: action,
      Actor: { ID: id, Attributes: { image: "alpine:3.20", name, ...extra } },
      scope: "local",
      time: Math.floor(now / 1000),
      timeNano: now * 1_000_000,
    };
    for (const res of this.watchers) res.write(`${JSON.stringify(event)}\n`);
  }

  async stop(): Promise<void> {
    for (const res of this.watchers) res.end();
    const server = this.server;
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

describe("EngineApi against a stand-in of Engine API v1.43 on a Unix socket", () => {
  it("lists containers and streams container events with the start/die/destroy filter", async () => {
    const dir = await tempDir();
    const id = "a".repeat(64);
    const engine = new EngineStandIn(dir.file("docker.sock"), [{ id, name: "web", state: "running" }]);
    await engine.start();
    try {
      const api = new EngineApi(`unix://${engine.socketPath}`);
      const list = await api.containers();
      expect(list.map((c) => [c.Id, c.Names, c.State])).toEqual([[id, ["/web"], "running"]]);
      const seen: EngineEvent[] = [];
      const stop = new AbortController();
      const done = api.events((e) => seen.push(e), stop.signal);
      await waitFor(() => engine.watching === 1, { message: "the events request" });
      const filters = new URL(engine.requests.at(-1) as string, "http://docker").searchParams.get("filters");
      expect(JSON.parse(filters as string)).toEqual({
        type: ["container"],
        event: ["start", "die", "destroy"],
      });
      engine.emit(id, "web", "die", { exitCode: "137" });
      await waitFor(() => seen.length === 1, { message: "the die event" });
      expect(seen[0]).toMatchObject({ Type: "container", Action: "die", Actor: { ID: id } });
      stop.abort();
      await done;
    } finally {
      await engine.stop();
    }
  });

  it("a socket nobody listens on is an error to the caller, not a crash", async () => {
    const dir = await tempDir();
    const api = new EngineApi(`unix://${dir.file("none.sock")}`);
    await expect(api.containers()).rejects.toMatchObject({ code: "ENOENT" });
    expect(() => new EngineApi("tcp://127.0.0.1:2375")).toThrow(/unix:\/\//);
  });
});

describe("DockerContainers: container state from the Engine API, or a note that it is not reachable", () => {
  const collect = (source: DockerContainers) => {
    const streams = new Map<string, StreamBackend>();
    return {
      streams,
      start: () => source.start((name, backend) => void streams.set(name, backend)),
    };
  };

  it("takes states from the API's list and follows start/die/destroy events", async () => {
    const dir = await tempDir();
    const web = await makeContainer(dir.path, { name: "web", log: toJsonLog(["hi"]), running: true });
    const engine = new EngineStandIn(dir.file("docker.sock"), [{ id: web.id, name: "web", state: "paused" }]);
    await engine.start();
    const source = new DockerContainers({
      root: dir.path,
      host: `unix://${engine.socketPath}`,
      rescanMs: 100,
    });
    const { streams, start } = collect(source);
    try {
      await start();
      const about = () => streams.get("web")?.about?.();
      // The API's word wins over the file's (config.v2.json says running).
      expect(about()).toEqual({ kind: "container", state: "paused" });
      await waitFor(() => engine.watching === 1, { message: "the events request" });
      engine.emit(web.id, "web", "die");
      await waitFor(() => about()?.state === "exited", { message: "die" });
      engine.emit(web.id, "web", "start");
      await waitFor(() => about()?.state === "running", { message: "start" });
      engine.emit(web.id, "web", "destroy");
      await waitFor(() => about()?.state === "removed", { message: "destroy" });
      // A container the server has not seen yet: its event makes the source look at the directory again.
      const later = await makeContainer(dir.path, { name: "later", log: toJsonLog(["x"]) });
      engine.emit(later.id, "later", "start");
      await waitFor(() => streams.has("later"), { message: "the later container" });
    } finally {
      await source.close();
      await engine.stop();
    }
  });

  it("without a reachable API: states from config.v2.json, and every container stream says the API is not reachable", async () => {
    const dir = await tempDir();
    await makeContainer(dir.path, { name: "db", log: toJsonLog(["up"]), running: false });
    const notes: string[] = [];
    const source = new DockerContainers({
      root: dir.path,
      host: `unix://${dir.file("docker.sock")}`,
      onNote: (m) => notes.push(m),
    });
    const { streams, start } = collect(source);
    try {
      await start();
      const about = streams.get("db")?.about?.();
      expect(about).toMatchObject({ kind: "container", state: "exited" });
      expect(about?.note).toMatch(/Docker Engine API at unix:\/\/.*docker\.sock is not reachable \(ENOENT\)/);
      expect(notes.filter((n) => n.includes("not reachable"))).toHaveLength(1);
    } finally {
      await source.close();
    }
  });
});
