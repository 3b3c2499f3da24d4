import type { ErrorCode } from "./errors.js";
import type { ClientMessage } from "./messages.js";

/** Outcome of reading one client frame: the message, or the error frame fields to answer with. */
export type ParsedClientMessage =
  | { ok: true; message: ClientMessage }
  | { ok: false; code: ErrorCode; message: string; id?: string };

/** Upper bound on `tail` in a subscribe: keeps one request from asking for the whole file at once. */
export const MAX_TAIL = 100_000;
/** Longest metrics history a client may ask for (seconds): what the server keeps, 24 hours. */
export const MAX_METRICS_HISTORY = 86_400;
const MAX_NAME = 200;
const MAX_ID = 200;
const MAX_CURSOR = 200;

/**
 * Parses and validates one text frame from a client. Pure: never throws, never does I/O. Unknown fields are
 * ignored (forward compatible); known fields with wrong types are rejected with `bad_message`.
 */
export function parseClientMessage(raw: string): ParsedClientMessage {
  let value: unknown;
  try {
    value = JSON.parse(raw);
  } catch {
    return { ok: false, code: "bad_json", message: "frame is not valid JSON" };
  }
  if (typeof value !== "object" || value === null || Array.isArray(value)) {
    return { ok: false, code: "bad_message", message: "message must be a JSON object" };
  }
  const m = value as Record<string, unknown>;
  const id = optionalString(m.id, MAX_ID);
  if (id === false)
    return { ok: false, code: "bad_message", message: `"id" must be a string of at most ${MAX_ID} chars` };
  const fail = (message: string): ParsedClientMessage =>
    id === undefined
      ? { ok: false, code: "bad_message", message }
      : { ok: false, code: "bad_message", message, id };

  switch (m.type) {
    case "subscribe": {
      if (!isName(m.stream)) return fail(`"stream" must be a non-empty string of at most ${MAX_NAME} chars`);
      const since = optionalString(m.since, MAX_CURSOR);
      if (since === false) return fail(`"since" must be a cursor string`);
      let tail: number | undefined;
      if (m.tail !== undefined) {
        if (typeof m.tail !== "number" || !Number.isInteger(m.tail) || m.tail < 0 || m.tail > MAX_TAIL) {
          return fail(`"tail" must be an integer from 0 to ${MAX_TAIL}`);
        }
        tail = m.tail;
      }
      if (since !== undefined && tail !== undefined) return fail(`give either "since" or "tail", not both`);
      if (m.frames !== undefined && m.frames !== "json" && m.frames !== "binary")
        return fail(`"frames" must be "json" or "binary"`);
      const message: ClientMessage = { type: "subscribe", stream: m.stream };
      if (m.frames !== undefined) message.frames = m.frames;
      if (since !== undefined) message.since = since;
      if (tail !== undefined) message.tail = tail;
      if (id !== undefined) message.id = id;
      return { ok: true, message };
    }
    case "unsubscribe": {
      if (!isName(m.stream)) return fail(`"stream" must be a non-empty string of at most ${MAX_NAME} chars`);
      const message: ClientMessage = { type: "unsubscribe", stream: m.stream };
      if (id !== undefined) message.id = id;
      return { ok: true, message };
    }
    case "ping": {
      if (m.t !== undefined && (typeof m.t !== "number" || !Number.isFinite(m.t)))
        return fail(`"t" must be a number`);
      return { ok: true, message: m.t === undefined ? { type: "ping" } : { type: "ping", t: m.t } };
    }
    case "metrics-subscribe": {
      const h = m.history;
      if (
        h !== undefined &&
        (typeof h !== "number" || !Number.isInteger(h) || h < 0 || h > MAX_METRICS_HISTORY)
      )
        return fail(`"history" must be an integer number of seconds from 0 to ${MAX_METRICS_HISTORY}`);
      const message: ClientMessage = { type: "metrics-subscribe" };
      if (h !== undefined) message.history = h;
      if (id !== undefined) message.id = id;
      return { ok: true, message };
    }
    case "metrics-unsubscribe":
      return { ok: true, message: id === undefined ? { type: m.type } : { type: m.type, id } };
    default:
      return fail(
        typeof m.type === "string"
          ? `unknown message type "${m.type.slice(0, 40)}"`
          : `"type" must be one of subscribe, unsubscribe, ping, metrics-subscribe, metrics-unsubscribe`,
      );
  }
}

function isName(v: unknown): v is string {
  return typeof v === "string" && v.length > 0 && v.length <= MAX_NAME;
}

/** undefined when absent, the string when valid, false when present but invalid. */
function optionalString(v: unknown, max: number): string | undefined | false {
  if (v === undefined) return undefined;
  return typeof v === "string" && v.length > 0 && v.length <= max ? v : false;
}
