import type { FastifyError, FastifyInstance, FastifyReply } from "fastify";
import { SourceUnavailableError } from "../../backend/backend.js";
import { HTTP_ERRORS, type HttpErrorCode } from "../../protocol/errors.js";
import type { HttpError } from "../../protocol/messages.js";
import { clientErrorOf } from "../client-errors.js";

/** Every HTTP error the API sends: a stable code, its status from the catalog, a readable message. */
export function sendError(reply: FastifyReply, error: HttpErrorCode, message: string): FastifyReply {
  const body: HttpError = { error, message };
  return reply.code(HTTP_ERRORS[error].status).send(body);
}

/** Descriptions of the I/O failures a client may be told about, by errno code (the OS's text names the path). */
const IO_FAILURES: Record<string, string> = {
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EIO: "input/output error",
  EISDIR: "it is a directory",
  EROFS: "read-only file system",
  ENOSPC: "no space left on device",
  EDQUOT: "disk quota exceeded",
  EMFILE: "too many open files",
  ENFILE: "too many open files",
  ENOTDIR: "a part of its path is not a directory",
  ELOOP: "too many symbolic links",
};

/**
 * The last word on errors no route mapped. Fastify's own client errors (4xx) keep its answer; anything else is
 * logged in full here and answered with a catalog code and a message that names no server path and no stack.
 */
export function registerErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError, request, reply) => {
    if (error.statusCode !== undefined && error.statusCode < 500) throw error;
    // Any route that reads a stream (the list of streams too) while its storage is down: 503, not a 500.
    if ((error as Error) instanceof SourceUnavailableError) {
      request.log.warn({ err: error }, "stream storage unavailable");
      return sendError(reply, "source_unavailable", error.message);
    }
    request.log.error({ err: error }, "request failed");
    const failure = typeof error.code === "string" ? IO_FAILURES[error.code] : undefined;
    if (failure !== undefined) {
      return sendError(
        reply,
        "io_error",
        `the stream's source could not be accessed (${error.code}: ${failure})`,
      );
    }
    return sendError(reply, "internal_error", "internal server error");
  });
}

/** Maps errors from history reads and searches to client answers; anything else is a 500 (rethrown). */
export function sendReadError(reply: FastifyReply, cause: unknown): FastifyReply {
  const { http, message } = clientErrorOf(cause);
  if (http === null) throw cause;
  return sendError(reply, http, message);
}
