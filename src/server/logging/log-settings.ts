import { type FastifyServerOptions, LogController } from "fastify";
import { redactUrl } from "../security/server-options.js";
import type { LogLevel } from "./log-level.js";
import { prettyLogStream } from "./pretty-stream.js";

/** How the server logs: pino (which Fastify carries) at `level`, JSON lines to `stream`, or readable text. */
export interface LogSettings {
  level: LogLevel | string;
  /** Human-readable lines instead of JSON (the CLI sets this when stderr is a terminal). */
  pretty?: boolean;
  /** Default: standard output, pino's own default (the CLI passes standard error). */
  stream?: NodeJS.WritableStream;
}

/**
 * Paths pino blanks in every record, whatever code logs them: the request serializer below already writes no
 * headers, these keep a future `log.info({ req })` or a library's error record from leaking a credential.
 */
const REDACT = [
  "req.headers.authorization",
  "req.headers.cookie",
  "req.headers['proxy-authorization']",
  "headers.authorization",
  "headers.cookie",
  "res.headers['set-cookie']",
  "token",
  "*.token",
];

/**
 * The Fastify constructor's logging settings. Fastify's own per-request lines are off: request-log.ts writes one
 * line per request and per session with what an operator needs, and nothing secret.
 */
export function loggingServerOptions(
  settings: boolean | LogSettings,
): Pick<FastifyServerOptions, "logger" | "logController"> {
  const logController = new LogController({ disableRequestLogging: true });
  if (settings === false) return { logger: false, logController };
  const { level, pretty, stream } = settings === true ? { level: "info" } : settings;
  const out = stream ?? process.stdout;
  return {
    logController,
    logger: {
      level,
      redact: { paths: REDACT, censor: "[redacted]" },
      stream: pretty === true ? prettyLogStream(out) : out,
      serializers: {
        req: (request: { method: string; url: string; ip?: string }) => ({
          method: request.method,
          url: redactUrl(request.url),
          remoteAddress: request.ip,
        }),
      },
      hooks: {
        // The CLI prints its own "serving ... at URL" banner; Fastify's "Server listening at" would say it twice.
        logMethod(args, method) {
          if (typeof args[0] === "string" && args[0].startsWith("Server listening at")) return;
          method.apply(this, args);
        },
      },
    },
  };
}
