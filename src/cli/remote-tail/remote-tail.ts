import { type RawData, WebSocket } from "ws";
import { frameLines } from "../../protocol/lines-frame.js";
import type { ServerMessage } from "../../protocol/messages.js";
import { CliError } from "../cli-error.js";
import { LineOutput } from "./line-output.js";
import { watchOutputClosed } from "./output-closed.js";
import {
  authHeaders,
  defaultStream,
  isTime,
  type RemoteTarget,
  remoteTarget,
  startAt,
} from "./remote-target.js";

export interface RemoteTailOptions {
  url: string;
  stream?: string;
  /** A cursor, or an ISO time (the first line stamped at or after it). */
  since?: string;
  /** Without --since: start with the last N lines (0..100000). */
  tail: number;
  /** Keep following after catch-up (false: stop at `live`). */
  follow: boolean;
  json: boolean;
  grep?: string;
  tokenFile?: string;
}

/** Backoff between reconnects: from 250 ms, doubling, at most 5 s, with jitter so many clients do not stampede. */
const FIRST_DELAY_MS = 250;
const MAX_DELAY_MS = 5000;

/** How one connection ended: reconnect, or stop (caught up without --follow, output gone, signal). */
type Outcome = { retry: string } | { stop: true };

/**
 * `livetrail tail URL`: follows a stream of a livetrail server over `/ws`, like `kubectl logs -f`. It keeps the
 * cursor of the last line it printed (or of the last gap/rotation) and, when the connection drops or the server
 * restarts, reconnects with backoff and subscribes with `since` = that cursor: the server's resume rules
 * (docs/protocol.md) make that exactly the lines after it, so none is missed or printed twice.
 */
export async function remoteTail(options: RemoteTailOptions): Promise<void> {
  const target = await remoteTarget(options.url, options.tokenFile);
  const output = new LineOutput({
    json: options.json,
    terminal: process.stdout.isTTY === true,
    ...(options.grep === undefined ? {} : { grep: options.grep }),
  });
  let stream = options.stream ?? null;
  let cursor: string | null = null;
  if (options.since !== undefined && isTime(options.since)) {
    stream ??= await defaultStream(target);
    const start = await startAt(target, stream, options.since);
    if (start.first !== null) write(output.format([start.first]));
    cursor = start.cursor;
  } else if (options.since !== undefined) {
    cursor = options.since;
  }

  let stop: () => void = () => {};
  const stopped = new Promise<Outcome>((resolve) => {
    stop = () => resolve({ stop: true });
  });
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  const unwatch = watchOutputClosed(stop);

  const state: SessionState = { stream, cursor, subscribedOnce: false };
  let delay = FIRST_DELAY_MS;
  try {
    for (;;) {
      const connection = connect(target, options, output, state, () => {
        delay = FIRST_DELAY_MS; // caught up: the next outage starts its backoff afresh
      });
      let outcome: Outcome;
      try {
        outcome = await Promise.race([connection.done, stopped]);
      } finally {
        connection.close();
      }
      if ("stop" in outcome) return;
      // A server never reached is a wrong URL or one that is down: say so rather than retry forever. Once it has
      // answered, an outage is a restart or a network blip, waited out.
      if (!state.subscribedOnce) throw new CliError(`cannot follow ${target.ws.href}: ${outcome.retry}`);
      const wait = Math.round(delay * (0.8 + Math.random() * 0.4));
      process.stderr.write(`livetrail: ${target.base.host}: ${outcome.retry}; reconnecting in ${wait} ms\n`);
      delay = Math.min(delay * 2, MAX_DELAY_MS);
      const slept = await Promise.race([sleep(wait).then(() => null), stopped]);
      if (slept !== null) return;
    }
  } finally {
    unwatch();
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
  }
}

interface SessionState {
  /** The stream followed (null until the first hello names the default). */
  stream: string | null;
  /** Resume point: the cursor after the last line printed, or where the server said delivery continues. */
  cursor: string | null;
  subscribedOnce: boolean;
}

function connect(
  target: RemoteTarget,
  options: RemoteTailOptions,
  output: LineOutput,
  state: SessionState,
  caughtUp: () => void,
): { done: Promise<Outcome>; close(): void } {
  const ws = new WebSocket(target.ws, {
    headers: authHeaders(target),
    perMessageDeflate: false,
    handshakeTimeout: 10_000,
  });
  let settle: (outcome: Outcome | CliError) => void = () => {};
  const done = new Promise<Outcome>((resolve, reject) => {
    settle = (outcome) => (outcome instanceof CliError ? reject(outcome) : resolve(outcome));
  });
  // A refusal that arrives after a signal won the race has nobody left to tell.
  done.catch(() => {});
  // The server pings every heartbeatMs; silence for two of them means the connection is dead (a half-open TCP
  // connection after a network change never says so by itself).
  let liveness: NodeJS.Timeout | undefined;
  const alive = (heartbeatMs: number): void => {
    clearTimeout(liveness);
    liveness = setTimeout(() => ws.terminate(), 2 * heartbeatMs + 5000);
  };
  let heartbeatMs = 20_000;
  let lastError = "";

  ws.on("unexpected-response", (_request, response) => {
    let body = "";
    response.setEncoding("utf8");
    response.on("data", (chunk: string) => {
      if (body.length < 4096) body += chunk;
    });
    response.on("end", () => {
      const status = response.statusCode ?? 0;
      let detail = "";
      try {
        detail = (JSON.parse(body) as { message?: string }).message ?? "";
      } catch {}
      const text = `${status}${detail === "" ? "" : ` ${detail}`}`;
      // Refusals that waiting does not fix end the command; limits and server trouble are retried.
      if (status === 401)
        settle(new CliError(`${target.ws.href}: ${text} (set LIVETRAIL_TOKEN or --token-file)`));
      else if (status >= 400 && status < 500 && status !== 429 && status !== 408)
        settle(new CliError(`${target.ws.href}: ${text}`));
      else settle({ retry: `refused: ${text}` });
    });
  });
  ws.on("error", (error) => {
    lastError = (error as NodeJS.ErrnoException).code ?? error.message;
  });
  ws.on("ping", () => alive(heartbeatMs));
  ws.on("close", (code) => {
    clearTimeout(liveness);
    settle({
      retry: lastError !== "" ? lastError : code === 1001 ? "server going away" : `closed (${code})`,
    });
  });
  ws.on("message", (data: RawData) => {
    alive(heartbeatMs);
    let message: ServerMessage;
    try {
      message = JSON.parse(data.toString()) as ServerMessage;
    } catch {
      return;
    }
    handle(message);
  });

  const notice = (text: string): void => {
    process.stderr.write(`livetrail: ${state.stream}: ${text}\n`);
  };

  function handle(message: ServerMessage): void {
    switch (message.type) {
      case "hello": {
        heartbeatMs = message.heartbeatMs;
        alive(heartbeatMs);
        const known = message.streams.map((s) => s.name);
        state.stream ??= message.streams.find((s) => s.default)?.name ?? known[0] ?? null;
        if (state.stream === null || !known.includes(state.stream)) {
          settle(
            new CliError(
              `no stream "${state.stream ?? ""}" on ${target.base.host}; it serves: ${known.join(", ")}`,
            ),
          );
          return;
        }
        // Resume after the last line printed; a stream that had no file yet has only new lines: take them all.
        const start =
          state.cursor !== null
            ? { since: state.cursor }
            : { tail: state.subscribedOnce ? 100_000 : options.tail };
        state.subscribedOnce = true;
        ws.send(JSON.stringify({ type: "subscribe", stream: state.stream, ...start }));
        return;
      }
      case "lines": {
        if (message.stream !== state.stream) return;
        const text = output.format(frameLines(message));
        state.cursor = message.cursor;
        if (text !== "" && !write(text) && !ws.isPaused) {
          // Our reader is slow: stop reading the socket; the server holds what it sends then catches us up.
          ws.pause();
          process.stdout.once("drain", () => ws.resume());
        }
        return;
      }
      case "live":
        if (message.cursor !== null) state.cursor = message.cursor;
        caughtUp();
        if (!options.follow) settle({ stop: true });
        return;
      case "truncated":
        state.cursor = message.cursor;
        notice("file truncated; following from the start");
        return;
      case "rotated":
        state.cursor = message.cursor;
        notice("file replaced; following the new file");
        return;
      case "restarted":
        state.cursor = message.cursor;
        notice("the source started over");
        return;
      case "missing":
        notice("no such file on the server; waiting for it to appear");
        return;
      case "gap": {
        state.cursor = message.to;
        const skipped = message.skipped === undefined ? "" : `, ${message.skipped} skipped`;
        notice(`lines cannot be delivered (${message.reason}${skipped}); continuing at ${message.to}`);
        return;
      }
      case "error":
        if (message.code === "bad_cursor") settle(new CliError(`--since: ${message.message}`, 2));
        else if (message.code === "unknown_stream") settle(new CliError(message.message));
        else if (message.code === "read_failed") settle({ retry: `server: ${message.message}` });
        else notice(`server error ${message.code}: ${message.message}`);
        return;
      default:
        return;
    }
  }

  return {
    done,
    close: () => {
      clearTimeout(liveness);
      ws.terminate();
    },
  };
}

function write(text: string): boolean {
  return process.stdout.write(text);
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
