/**
 * The error catalog: every code a client can receive, in one place. HTTP errors carry their status here (call
 * sites name only the code); WebSocket `error` frames and close codes are listed beside them. docs/protocol.md
 * lists the same codes, and test/protocol/errors-docs.test.ts fails when the two differ.
 */

/** HTTP error codes and their status (body: `{"error": CODE, "message": TEXT}`). */
export const HTTP_ERRORS = {
  bad_request: { status: 400 },
  bad_cursor: { status: 400 },
  bad_time: { status: 400 },
  bad_query: { status: 400 },
  bad_json: { status: 400 },
  limit_too_large: { status: 400 },
  empty_message: { status: 400 },
  bad_level: { status: 400 },
  bad_category: { status: 400 },
  /** Integrity: a proof asked for lines or sizes the sealed tree does not have (or from > to). */
  bad_proof_range: { status: 400 },
  /** Integrity: a posted cosignature that is not one (malformed, not on a checkpoint of this log, does not verify). */
  bad_cosignature: { status: 400 },
  unauthorized: { status: 401 },
  forbidden: { status: 403 },
  bad_origin: { status: 403 },
  /** Integrity: a cosignature by a key that is not among the server's witness keys (--witness-key). */
  unknown_witness: { status: 403 },
  unknown_stream: { status: 404 },
  no_file: { status: 404 },
  /** Integrity: the stream has no signed checkpoint (no sidecar, or nothing sealed yet). */
  not_sealed: { status: 404 },
  /** Integrity: no checkpoint of that size (consistency `to=`, checkpoint `size=`). */
  unknown_checkpoint: { status: 404 },
  not_appendable: { status: 409 },
  stale_cursor: { status: 410 },
  body_too_large: { status: 413 },
  entry_too_large: { status: 413 },
  unsupported_media_type: { status: 415 },
  unknown_host: { status: 421 },
  rate_limited: { status: 429 },
  too_many_connections: { status: 429 },
  io_error: { status: 500 },
  internal_error: { status: 500 },
  /** An append could not be written for another reason than a full disk (EROFS, EACCES, EIO, ...). */
  write_failed: { status: 500 },
  busy: { status: 503 },
  shutting_down: { status: 503 },
  server_full: { status: 503 },
  /** The stream's storage (Redis) cannot be reached right now. */
  source_unavailable: { status: 503 },
  /** An append found the disk or quota full (ENOSPC, EDQUOT, a write that stopped short): 507 Insufficient Storage. */
  disk_full: { status: 507 },
} as const satisfies Record<string, { status: number }>;

export type HttpErrorCode = keyof typeof HTTP_ERRORS;

/** Codes of WebSocket `error` frames (the connection stays open). */
export const WS_ERRORS = [
  "bad_json",
  "bad_message",
  "unknown_stream",
  "bad_cursor",
  "already_subscribed",
  "not_subscribed",
  "too_many_subscriptions",
  /** Reading history for a subscription failed (I/O error); the subscription is dropped, retry later. */
  "read_failed",
  /** `metrics-subscribe` to a server that samples no metrics (serve --no-host-metrics). */
  "metrics_off",
] as const;

export type ErrorCode = (typeof WS_ERRORS)[number];

/** WebSocket close codes used by the server (4000-4999 are application codes). */
export const CloseCode = {
  /** Server shutting down (RFC 6455 "going away"). */
  goingAway: 1001,
  /** A text frame that is not valid UTF-8 (sent by the ws library). */
  invalidPayload: 1007,
  /** Client message larger than the limit. */
  messageTooBig: 1009,
  /** `/ws/audit` only: the audit log could not be read (when connecting, or later while catching up). */
  unreadable: 1011,
  /** Client fell too far behind and its buffer limit was exceeded; reconnect with the last cursor. */
  slowClient: 4008,
  /** Too many messages per second from this client. */
  rateLimited: 4029,
} as const;
