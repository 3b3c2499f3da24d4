import type { FastifyReply } from "fastify";
import { HTTP_ERRORS, type HttpErrorCode } from "../../protocol/errors.js";
import type { HttpError } from "../../protocol/messages.js";
import { clientErrorOf } from "../client-errors.js";

/** Every HTTP error the API sends: a stable code, its status from the catalog, a readable message. */
export function sendError(reply: FastifyReply, error: HttpErrorCode, message: string): FastifyReply {
  const body: HttpError = { error, message };
  return reply.code(HTTP_ERRORS[error].status).send(body);
}

/** Maps errors from history reads and searches to client answers; anything else is a 500 (rethrown). */
export function sendReadError(reply: FastifyReply, cause: unknown): FastifyReply {
  const { http, message } = clientErrorOf(cause);
  if (http === null) throw cause;
  return sendError(reply, http, message);
}
