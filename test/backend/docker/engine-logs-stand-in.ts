import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";

/**
 * A STAND-IN for the Docker Engine's log calls, not a real engine (none can run containers on this machine): an
 * HTTP server on a Unix socket answering in the shapes of the Docker Engine API v1.43 reference
 * (https://docs.docker.com/reference/api/engine/version/v1.43/):
 * - `GET /v1.43/containers/json?all=1`: ContainerSummary objects (Id, Names with a leading "/", State, Status);
 * - `GET /v1.43/events`: held open, no events (EventMessage lines are tested in engine-api.test.ts);
 * - `GET /v1.43/containers/{id}/json`: ContainerInspectResponse, of which Config.Tty and HostConfig.LogConfig;
 * - `GET /v1.43/containers/{id}/logs?follow=1&stdout=1&stderr=1&timestamps=1&tail=N[&since=S]` ("Get container
 *   logs"): the body is the "Stream format" of "Attach to a container" — for a container without a TTY, frames of
 *   an 8-byte header ([stream type 1 stdout / 2 stderr, 0, 0, 0, uint32 big-endian length]) and payload; with a
 *   TTY the raw bytes — each log line preceded by its RFC3339Nano time and a space (`timestamps`); a driver
 *   that cannot be read answers an error status with `{"message": "..."}` (the daemon says "configured logging
 *   driver does not support reading"). What each logs request sends is the test's script (`onLogs`).
 */
export interface StandInContainer {
  id: string;
  name: string;
  driver: string;
  tty: boolean;
}

export type LogsScript = (query: URLSearchParams, res: ServerResponse, connection: number) => void;

export class EngineLogsStandIn {
  readonly requests: string[] = [];
  /** The logs requests, in order (their query). */
  readonly logRequests: URLSearchParams[] = [];
  private readonly open = new Set<ServerResponse>();
  private server: Server | null = null;

  constructor(
    readonly socketPath: string,
    readonly containers: StandInContainer[],
    public onLogs: LogsScript,
  ) {}

  async start(): Promise<void> {
    this.server = createServer((req, res) => this.answer(req, res));
    const server = this.server;
    await new Promise<void>((resolve) => server.listen(this.socketPath, resolve));
  }

  private answer(req: IncomingMessage, res: ServerResponse): void {
    this.requests.push(req.url ?? "");
    const url = new URL(req.url ?? "/", "http://docker");
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { "Content-Type": "application/json" });
      res.end(JSON.stringify(body));
    };
    if (url.pathname === "/v1.43/containers/json") {
      json(
        200,
        this.containers.map((c) => ({
          Id: c.id,
          Names: [`/${c.name}`],
          State: "running",
          Status: "Up 1 minute",
        })),
      );
      return;
    }
    if (url.pathname === "/v1.43/events") {
      res.writeHead(200, { "Content-Type": "application/json" });
      res.flushHeaders();
      this.hold(res);
      return;
    }
    const m = /^\/v1\.43\/containers\/([0-9a-f]{64})\/(json|logs)$/.exec(url.pathname);
    const container = this.containers.find((c) => c.id === m?.[1]);
    if (m === null || container === undefined) {
      json(404, { message: `No such container: ${m?.[1] ?? url.pathname}` });
      return;
    }
    if (m[2] === "json") {
      json(200, {
        Id: container.id,
        Name: `/${container.name}`,
        State: { Status: "running", Running: true },
        Config: { Tty: container.tty, Image: "alpine:3.20" },
        HostConfig: { LogConfig: { Type: container.driver, Config: {} } },
      });
      return;
    }
    this.logRequests.push(url.searchParams);
    if (container.driver !== "local" && container.driver !== "journald" && container.driver !== "json-file") {
      json(501, { message: "configured logging driver does not support reading" });
      return;
    }
    res.writeHead(200, {
      "Content-Type": container.tty
        ? "application/vnd.docker.raw-stream"
        : "application/vnd.docker.multiplexed-stream",
    });
    res.flushHeaders();
    this.hold(res);
    this.onLogs(url.searchParams, res, this.logRequests.length);
  }

  private hold(res: ServerResponse): void {
    this.open.add(res);
    res.on("close", () => this.open.delete(res));
  }

  async stop(): Promise<void> {
    for (const res of this.open) res.destroy();
    const server = this.server;
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
  }
}

/** One frame of the multiplexed stream: stream type 1 (stdout) or 2 (stderr), then the payload. */
export function frame(stream: 1 | 2, payload: string | Buffer, length?: number): Buffer {
  const body = typeof payload === "string" ? Buffer.from(payload, "utf8") : payload;
  const header = Buffer.alloc(8);
  header[0] = stream;
  header.writeUInt32BE(length ?? body.length, 4);
  return Buffer.concat([header, body]);
}

/** A time as the daemon stamps a line with `timestamps=1` (RFC3339NanoFixed: nine fraction digits). */
export function stamp(second: number, nanos: number): string {
  const base = new Date(Date.UTC(2026, 11, 4, 23, 0, second)).toISOString().slice(0, 19);
  return `${base}.${String(nanos).padStart(9, "0")}Z`;
}
