import { request } from "node:http";

/**
 * The few calls of the Docker Engine API (v1.43) livetrail makes, over its Unix socket: the containers with their
 * names and state, the stream of container events, and (for containers on a log driver other than json-file,
 * whose files are read directly) a container's log stream. Deliberately thin: the log stream's bytes are handed
 * on as they come (log-frames.ts decodes them).
 */
export const ENGINE_API_VERSION = "v1.43";

/** An item of `GET /containers/json?all=1` (the fields used). */
export interface EngineContainer {
  Id: string;
  /** With a leading "/": ["/web"]. */
  Names: string[];
  /** created, restarting, running, removing, paused, exited or dead. */
  State: string;
  /** "Up 2 hours", "Exited (0) 3 minutes ago". */
  Status: string;
}

/** An item of `GET /events` (the fields used). */
export interface EngineEvent {
  Type: string;
  /** start, die, destroy, ... */
  Action: string;
  Actor: { ID: string; Attributes?: Record<string, string> };
  time?: number;
}

/** The events livetrail follows: a container started, stopped or was removed. */
const EVENTS_FILTER = JSON.stringify({ type: ["container"], event: ["start", "die", "destroy"] });
/** An answer (or one event line) larger than this is not the Engine API's: refused, not buffered. */
const MAX_BODY_BYTES = 16 * 1024 * 1024;
const REQUEST_TIMEOUT_MS = 5000;

/** What `GET /containers/{id}/json` says that the log stream needs. */
export interface EngineInspect {
  /** Config.Tty: the log stream is then raw bytes, not frames. */
  tty: boolean;
  /** HostConfig.LogConfig.Type. */
  logDriver: string | undefined;
}

/** The query of `GET /containers/{id}/logs` (always follow, stdout, stderr, timestamps). */
export interface EngineLogsQuery {
  tail: number;
  /** A UNIX time in seconds with a fraction ("1733355986.123456789"), or none. */
  since?: string;
}

export class EngineApiError extends Error {
  override name = "EngineApiError";
  /** The HTTP status of a refusal (the daemon's answer), when there was one. */
  status?: number;
}

/** The socket of a `--docker-host unix:///path`; only Unix sockets are supported (no TCP, no TLS). */
export function socketPathOf(host: string): string {
  if (!host.startsWith("unix://") || host.length <= "unix://".length) {
    throw new EngineApiError(`the Docker host must be unix:///path/to/docker.sock, got "${host}"`);
  }
  return host.slice("unix://".length);
}

export class EngineApi {
  readonly socketPath: string;

  constructor(readonly host: string) {
    this.socketPath = socketPathOf(host);
  }

  /** Every container, running or not. */
  async containers(): Promise<EngineContainer[]> {
    const body = await this.get(`/${ENGINE_API_VERSION}/containers/json?all=1`);
    if (!Array.isArray(body)) throw new EngineApiError("GET /containers/json did not answer a list");
    return body.filter(isContainer);
  }

  /**
   * Streams container events until `signal` aborts or the connection ends (resolves then; rejects when it
   * cannot connect). Each complete JSON line is one event.
   */
  events(onEvent: (event: EngineEvent) => void, signal: AbortSignal): Promise<void> {
    const path = `/${ENGINE_API_VERSION}/events?filters=${encodeURIComponent(EVENTS_FILTER)}`;
    return new Promise((resolve, reject) => {
      const req = request({ socketPath: this.socketPath, path, method: "GET", signal }, (res) => {
        if (res.statusCode !== 200) {
          res.resume();
          reject(new EngineApiError(`GET /events answered HTTP ${res.statusCode}`));
          return;
        }
        let carry = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          carry += chunk;
          for (let nl = carry.indexOf("\n"); nl >= 0; nl = carry.indexOf("\n")) {
            const line = carry.slice(0, nl).trim();
            carry = carry.slice(nl + 1);
            const event = parseEvent(line);
            if (event !== null) onEvent(event);
          }
          if (carry.length > MAX_BODY_BYTES) req.destroy(new EngineApiError("an event line is too long"));
        });
        res.on("end", () => resolve());
        res.on("error", () => resolve());
      });
      req.on("error", (error) => (signal.aborted ? resolve() : reject(error)));
      req.end();
    });
  }

  async inspect(id: string): Promise<EngineInspect> {
    const body = (await this.get(`/${ENGINE_API_VERSION}/containers/${encodeURIComponent(id)}/json`)) as {
      Config?: { Tty?: unknown };
      HostConfig?: { LogConfig?: { Type?: unknown } };
    } | null;
    const driver = body?.HostConfig?.LogConfig?.Type;
    return { tty: body?.Config?.Tty === true, logDriver: typeof driver === "string" ? driver : undefined };
  }

  /**
   * Follows a container's log stream (`docker logs -f`), handing each chunk of the body to `onChunk` as it
   * arrives; resolves when the stream ends (the container stopped) or `signal` aborts, rejects when the daemon
   * refuses (an EngineApiError with its message and status: "configured logging driver does not support reading").
   * `onChunk` may throw to end the stream with that error.
   */
  logs(
    id: string,
    query: EngineLogsQuery,
    onChunk: (chunk: Buffer) => void,
    signal: AbortSignal,
  ): Promise<void> {
    const params = new URLSearchParams({ follow: "1", stdout: "1", stderr: "1", timestamps: "1" });
    params.set("tail", String(query.tail));
    if (query.since !== undefined) params.set("since", query.since);
    const path = `/${ENGINE_API_VERSION}/containers/${encodeURIComponent(id)}/logs?${params}`;
    return new Promise((resolve, reject) => {
      const req = request({ socketPath: this.socketPath, path, method: "GET", signal }, (res) => {
        if (res.statusCode !== 200) {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size <= 64 * 1024) chunks.push(chunk);
          });
          res.on("end", () => {
            const error = new EngineApiError(
              daemonMessage(Buffer.concat(chunks).toString("utf8"), res.statusCode),
            );
            if (res.statusCode !== undefined) error.status = res.statusCode;
            reject(error);
          });
          res.on("error", reject);
          return;
        }
        let failure: Error | null = null;
        res.on("data", (chunk: Buffer) => {
          if (failure !== null) return;
          try {
            onChunk(chunk);
          } catch (error) {
            failure = error as Error;
            req.destroy();
          }
        });
        res.on("error", () => undefined); // a cut connection ends the stream like its end: the caller reconnects
        res.on("close", () => (failure === null ? resolve() : reject(failure)));
      });
      req.on("error", (error) => (signal.aborted ? resolve() : reject(error)));
      req.end();
    });
  }

  private get(path: string): Promise<unknown> {
    return new Promise((resolve, reject) => {
      const req = request(
        { socketPath: this.socketPath, path, method: "GET", timeout: REQUEST_TIMEOUT_MS },
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (chunk: Buffer) => {
            size += chunk.length;
            if (size > MAX_BODY_BYTES) req.destroy(new EngineApiError(`GET ${path}: answer too large`));
            else chunks.push(chunk);
          });
          res.on("end", () => {
            const text = Buffer.concat(chunks).toString("utf8");
            if (res.statusCode !== 200) {
              const error = new EngineApiError(
                `GET ${path} answered HTTP ${res.statusCode}: ${text.slice(0, 200)}`,
              );
              if (res.statusCode !== undefined) error.status = res.statusCode;
              reject(error);
              return;
            }
            try {
              resolve(JSON.parse(text));
            } catch {
              reject(new EngineApiError(`GET ${path}: the answer is not JSON`));
            }
          });
          res.on("error", reject);
        },
      );
      req.on("timeout", () =>
        req.destroy(new EngineApiError(`GET ${path}: no answer in ${REQUEST_TIMEOUT_MS} ms`)),
      );
      req.on("error", reject);
      req.end();
    });
  }
}

/** The daemon's error body is `{"message": "..."}`. */
function daemonMessage(text: string, status: number | undefined): string {
  try {
    const message = (JSON.parse(text) as { message?: unknown } | null)?.message;
    if (typeof message === "string" && message !== "") return message;
  } catch {
    // not JSON: the text itself
  }
  return `HTTP ${status}: ${text.slice(0, 200)}`;
}

function isContainer(value: unknown): value is EngineContainer {
  const c = value as Partial<EngineContainer> | null;
  return (
    typeof c === "object" &&
    c !== null &&
    typeof c.Id === "string" &&
    Array.isArray(c.Names) &&
    typeof c.State === "string"
  );
}

function parseEvent(line: string): EngineEvent | null {
  if (line === "") return null;
  try {
    const e = JSON.parse(line) as Partial<EngineEvent> | null;
    if (typeof e?.Action !== "string" || typeof e.Actor?.ID !== "string" || typeof e.Type !== "string")
      return null;
    return e as EngineEvent;
  } catch {
    return null;
  }
}
