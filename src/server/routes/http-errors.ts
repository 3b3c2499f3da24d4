import type { FastifyReply } from "fastify";
import { isMissing } from "../../backend/file/file-identity.js";
import type { HttpError } from "../../protocol/messages.js";

/** Every HTTP error the API sends: a stable code, a readable message (docs/protocol.md lists them). */
export function sendError(reply: FastifyReply, status: number, error: string, message: string): FastifyReply {
  const body: HttpError = { error, message };
  return reply.code(status).send(body);
}

/** Maps errors from history reads and searches to client answers; anything else is a 500 (rethrown). */
export function sendReadError(reply: FastifyReply, cause: unknown): FastifyReply {
  const name = cause instanceof Error ? cause.name : "";
  const message = cause instanceof Error ? cause.message : String(cause);
  if (name === "CursorError") return sendError(reply, 400, "bad_cursor", message);
  if (name === "StaleCursorError") return sendError(reply, 410, "stale_cursor", message);
  if (name === "SearchQueryError") return sendError(reply, 400, "bad_query", message);
  if (isMissing(cause)) return sendError(reply, 404, "no_file", "the stream's file does not exist (yet)");
  throw cause;
}
