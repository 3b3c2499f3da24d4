import type { FastifyError, FastifyInstance } from "fastify";
import { AppendError, appendEntries, type EntryInput } from "../../append/appender.js";
import { EntryError, type EntryErrorCode, type EntryLevel, formatEntry } from "../../append/entry-format.js";
import { isAppendable, SourceUnavailableError } from "../../backend/backend.js";
import type { HttpErrorCode } from "../../protocol/errors.js";
import type { ServerContext } from "../context.js";
import type { ResolvedSecurity } from "../security/security-options.js";
import { sendError } from "./http-errors.js";

/** The appender's reasons for refusing an entry, as API error codes. */
const ENTRY_ERRORS: Record<EntryErrorCode, HttpErrorCode> = {
  "empty-message": "empty_message",
  "entry-too-large": "entry_too_large",
  "bad-level": "bad_level",
  "bad-category": "bad_category",
  "bad-time": "bad_time",
};

interface AppendEntry {
  message: string;
  level?: EntryLevel;
  category?: string;
}

interface AppendBody {
  message?: string;
  entries?: AppendEntry[];
  level?: EntryLevel;
  category?: string;
}

const LEVEL = { type: "string", enum: ["error", "warn", "ok", "info"] } as const;
const CATEGORY = { type: "string", pattern: "^[A-Za-z][A-Za-z0-9_.-]{0,31}$" } as const;
const MESSAGE = { type: "string", minLength: 1 } as const;

/**
 * `POST /api/streams/:name/entries` (registered only when a write token is configured): appends `{message}` or
 * `{entries: [...]}` to the stream's file through the same appender as `livetrail log`: one line per entry,
 * control characters and newlines made visible, at most 64 KiB per line, nothing written if any entry is bad.
 * Only a bearer write token may call it; read tokens, session cookies and proxy identities get 403.
 */
export function registerAppendRoute(
  app: FastifyInstance,
  ctx: ServerContext,
  security: ResolvedSecurity,
): void {
  const files = new Map<string, string>();
  for (const spec of ctx.options.streams)
    if (spec.backend === undefined && spec.file) files.set(spec.name, spec.file);

  app.post<{ Params: { name: string }; Body: AppendBody }>(
    "/api/streams/:name/entries",
    {
      bodyLimit: security.maxBodyBytes,
      schema: {
        body: {
          type: "object",
          properties: {
            message: MESSAGE,
            entries: {
              type: "array",
              minItems: 1,
              maxItems: security.maxEntriesPerRequest,
              items: {
                type: "object",
                required: ["message"],
                properties: { message: MESSAGE, level: LEVEL, category: CATEGORY },
              },
            },
            level: LEVEL,
            category: CATEGORY,
          },
        },
      },
      // Checked before the body is read: a reader cannot make the server parse a large upload.
      onRequest: async (request, reply) => {
        const principal = request.principal;
        if (principal === null) return sendError(reply, "unauthorized", "a write token is required");
        if (principal.scope !== "write" || principal.via !== "bearer") {
          return sendError(reply, "forbidden", "appending needs a write token (Authorization: Bearer)");
        }
        const type = request.headers["content-type"]?.split(";")[0]?.trim().toLowerCase();
        if (type !== "application/json") {
          return sendError(reply, "unsupported_media_type", "send application/json");
        }
      },
      // Fastify's validator coerces scalars (42 -> "42"); a message must be sent as a string.
      preValidation: async (request, reply) => {
        const body = request.body as Record<string, unknown> | null;
        if (typeof body !== "object" || body === null) return;
        const items = Array.isArray(body.entries) ? body.entries : [];
        const texts = [body.message, ...items.map((e) => (e as Record<string, unknown> | null)?.message)];
        if (texts.some((t) => t !== undefined && typeof t !== "string")) {
          return sendError(reply, "bad_request", "messages must be JSON strings");
        }
      },
      errorHandler: (error: FastifyError, _request, reply) => {
        if (error.validation !== undefined) {
          return sendError(reply, "bad_request", error.message.slice(0, 300));
        }
        if (error.code === "FST_ERR_CTP_BODY_TOO_LARGE") {
          return sendError(reply, "body_too_large", `the body is larger than ${security.maxBodyBytes} bytes`);
        }
        if (error.code === "FST_ERR_CTP_INVALID_MEDIA_TYPE") {
          return sendError(reply, "unsupported_media_type", "send application/json");
        }
        if (error.statusCode === 400) return sendError(reply, "bad_json", "the body is not valid JSON");
        throw error;
      },
    },
    async (request, reply) => {
      const { name } = request.params;
      const file = files.get(name);
      const hub = ctx.streams.get(name);
      if (hub === undefined) {
        return sendError(reply, "unknown_stream", `no stream named "${name}"`);
      }
      const appendable = isAppendable(hub.backend) ? hub.backend : null;
      if (file === undefined && appendable === null) {
        return sendError(reply, "not_appendable", `stream "${name}" is not a file`);
      }
      const body = request.body;
      if ((body.message === undefined) === (body.entries === undefined)) {
        return sendError(reply, "bad_request", 'give either "message" or "entries"');
      }
      // Only the fields the API documents reach the appender: the time of an entry is always the server's.
      const entries: EntryInput[] = (body.entries ?? [body as AppendEntry]).map((entry) => ({
        message: entry.message,
        level: entry.level,
        category: entry.category,
      }));
      try {
        const options = { level: body.level, category: body.category };
        const result =
          appendable !== null
            ? await appendable.appendLines(formatLines(entries, options))
            : await appendEntries(file as string, entries, options);
        return reply.code(201).send({ stream: name, entries: result.entries, bytes: result.bytes });
      } catch (error) {
        if (error instanceof EntryError) {
          return sendError(reply, ENTRY_ERRORS[error.code], error.message);
        }
        // The write failed or stopped short; the appender has taken back what it could. The log gets the file
        // and the errno, the client what happened (no server path).
        if (error instanceof SourceUnavailableError) {
          return sendError(reply, "source_unavailable", `not written: ${error.message}`);
        }
        // A Redis stream: nothing was added (the append is one atomic script).
        if (appendable !== null && !(error instanceof EntryError)) {
          request.log.error({ err: error }, "append failed");
          return sendError(reply, "write_failed", `not written: ${(error as Error).message}`);
        }
        if (error instanceof AppendError) {
          request.log.error({ err: error }, "append failed");
          return sendError(
            reply,
            error.diskFull ? "disk_full" : "write_failed",
            `not written: ${error.reason}`,
          );
        }
        // Opening the file (or creating its directory) failed: nothing was written.
        const errno = (error as NodeJS.ErrnoException).code;
        if (typeof errno === "string" && /^E[A-Z0-9]+$/.test(errno)) {
          request.log.error({ err: error }, "append failed");
          const full = errno === "ENOSPC" || errno === "EDQUOT";
          return sendError(
            reply,
            full ? "disk_full" : "write_failed",
            `not written: the stream's file could not be opened for appending (${errno}); nothing was written`,
          );
        }
        throw error;
      }
    },
  );
}

/** The entries as the appender would write them (same format, same checks), without their newlines. */
function formatLines(entries: EntryInput[], options: { level?: EntryLevel; category?: string }): string[] {
  const now = new Date();
  return entries.map((entry) =>
    formatEntry(entry.message, {
      level: entry.level ?? options.level,
      category: entry.category ?? options.category,
      time: now,
    }).slice(0, -1),
  );
}
