import { SearchQueryError, SourceMissingError, SourceUnavailableError } from "../backend/backend.js";
import { CursorError, StaleCursorError } from "../core/cursor.js";
import type { ErrorCode, HttpErrorCode } from "../protocol/errors.js";

/** What a client is told about an error from a backend read: the HTTP code, the WebSocket code, the message. */
export interface ClientError {
  /** null: not the client's doing (an I/O failure): HTTP answers 500, a subscription `read_failed`. */
  http: HttpErrorCode | null;
  ws: ErrorCode;
  message: string;
}

/** The one mapping from backend errors to client answers, used by every route and subscription. */
export function clientErrorOf(error: unknown): ClientError {
  const message = error instanceof Error ? error.message : String(error);
  if (error instanceof CursorError) return { http: "bad_cursor", ws: "bad_cursor", message };
  if (error instanceof StaleCursorError) return { http: "stale_cursor", ws: "read_failed", message };
  if (error instanceof SearchQueryError) return { http: "bad_query", ws: "read_failed", message };
  if (error instanceof SourceMissingError) return { http: "no_file", ws: "read_failed", message };
  if (error instanceof SourceUnavailableError)
    return { http: "source_unavailable", ws: "read_failed", message };
  return { http: null, ws: "read_failed", message };
}
