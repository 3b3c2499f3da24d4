/**
 * The WebSocket protocol at `/ws`, shared by the server and the web client (no runtime imports here).
 * Described for humans in docs/protocol.md; keep both in step.
 */
export const PROTOCOL_VERSION = 1;

export type Level = "error" | "warn" | "ok" | "info";

/** A line as it travels to clients. */
export interface WireLine {
  /** Per-stream sequence number (consecutive for consecutive lines). */
  seq: number;
  /** The line text, never HTML. */
  text: string;
  /** Cursor after this line: resume from it to receive the next line. */
  c: string;
  /** ISO-8601 timestamp parsed from a `[...]` prefix, when present. */
  ts?: string;
  /** Level guessed from the text. Absent means "info". */
  level?: Exclude<Level, "info">;
  /** Present when the line was cut at the size limit: its real length in bytes. */
  trunc?: number;
}

export interface StreamInfo {
  name: string;
  default: boolean;
}

// ---- client -> server ----
export type ClientMessage =
  | { type: "subscribe"; stream: string; since?: string; tail?: number; id?: string }
  | { type: "unsubscribe"; stream: string; id?: string }
  | { type: "ping"; t?: number };

// ---- server -> client ----
export type ServerMessage =
  | { type: "hello"; v: number; server: string; streams: StreamInfo[]; heartbeatMs: number }
  | { type: "subscribed"; stream: string; id?: string; cursor: string | null }
  | { type: "unsubscribed"; stream: string; id?: string }
  | { type: "lines"; stream: string; lines: WireLine[] }
  | { type: "truncated"; stream: string; cursor: string }
  | { type: "rotated"; stream: string; cursor: string }
  | { type: "missing"; stream: string }
  | {
      type: "gap";
      stream: string;
      reason: "file-changed" | "file-gone" | "truncated" | "offset-beyond-end" | "slow-client";
      /** Last cursor the client got (null when unknown). */
      from: string | null;
      /** Where delivery continues; lines between from and to can be fetched over HTTP while the file holds them. */
      to: string;
      /** Lines skipped, when known. */
      skipped?: number;
    }
  | { type: "error"; code: ErrorCode; message: string; id?: string; stream?: string }
  | { type: "pong"; t?: number };

export type ErrorCode =
  | "bad_json"
  | "bad_message"
  | "unknown_stream"
  | "bad_cursor"
  | "already_subscribed"
  | "not_subscribed"
  | "too_many_subscriptions"
  | "rate_limited";

/** WebSocket close codes used by the server (4000-4999 are application codes). */
export const CloseCode = {
  /** Server shutting down (RFC 6455 "going away"). */
  goingAway: 1001,
  /** Client message larger than the limit. */
  messageTooBig: 1009,
  /** Client fell too far behind and its buffer limit was exceeded; reconnect with the last cursor. */
  slowClient: 4008,
  /** Heartbeat not answered. */
  heartbeatTimeout: 4009,
  /** Too many messages per second from this client. */
  rateLimited: 4029,
} as const;
