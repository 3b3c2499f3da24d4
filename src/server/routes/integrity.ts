import type { FastifyInstance, FastifyReply } from "fastify";
import { BundleError, MAX_BUNDLE_LINES, makeBundle } from "../../integrity/bundle.js";
import type { ServerContext } from "../context.js";
import { CosignatureError } from "../integrity/cosignatures.js";
import { ProofRangeError } from "../integrity/sealed-log.js";
import type { SealedStream } from "../integrity/sealing.js";
import { sendError } from "./http-errors.js";

interface StreamParams {
  name: string;
}
type Query = Record<string, string | undefined>;

/** A posted cosigned checkpoint is a few hundred bytes; anything this large is not one. */
const COSIGNATURE_BODY_BYTES = 64 * 1024;
const TEXT = "text/plain; charset=utf-8";

/**
 * The integrity API (docs/integrity.md, "Serving and API"; docs/protocol.md): the newest signed checkpoint with
 * its cosignatures, inclusion and consistency proofs in the C2SP shapes, tlog-tiles tiles, the stream's state,
 * and cosignatures from witnesses. Behind the same authentication as the rest of /api.
 */
export function registerIntegrityRoutes(app: FastifyInstance, ctx: ServerContext): void {
  const sealedOf = async (name: string, reply: FastifyReply): Promise<SealedStream | undefined> => {
    if (ctx.streams.get(name) === undefined) {
      sendError(reply, "unknown_stream", `no stream named "${name}"`);
      return undefined;
    }
    const integrity = ctx.integrity.get(name);
    if (integrity === undefined) {
      sendError(reply, "not_sealed", `stream "${name}" is not a sealed file`);
      return undefined;
    }
    await integrity.log.refresh();
    return integrity;
  };
  // A proof or tile the tree does not hold answers with the error's code; anything else is the error handler's.
  const answer = async (reply: FastifyReply, make: () => Promise<string | Buffer>, type: string) => {
    try {
      const body = await make();
      return reply.type(type).header("cache-control", "no-store").send(body);
    } catch (error) {
      if (error instanceof ProofRangeError) return sendError(reply, error.code, error.message);
      if (error instanceof Error && error.name === "IntegrityError") {
        return sendError(reply, "bad_proof_range", error.message);
      }
      throw error;
    }
  };

  app.get<{ Params: StreamParams }>("/api/streams/:name/integrity", async (request, reply) => {
    const integrity = await sealedOf(request.params.name, reply);
    return integrity === undefined ? reply : integrity.info;
  });

  app.get<{ Params: StreamParams; Querystring: Query }>(
    "/api/streams/:name/checkpoint",
    async (request, reply) => {
      const integrity = await sealedOf(request.params.name, reply);
      if (integrity === undefined) return reply;
      const size = sizeParam(request.query.size);
      if (size === null) return sendError(reply, "bad_request", "size must be a tree size");
      return answer(
        reply,
        async () => {
          const entry = size === undefined ? integrity.log.newest : integrity.log.bySize(size);
          if (entry === null) throw new ProofRangeError("nothing is sealed yet", "not_sealed");
          if (entry === undefined)
            throw new ProofRangeError(`no checkpoint of size ${size}`, "unknown_checkpoint");
          return integrity.cosignatures.publish(entry.note);
        },
        TEXT,
      );
    },
  );

  app.get<{ Params: StreamParams; Querystring: Query }>(
    "/api/streams/:name/proof/inclusion",
    async (request, reply) => {
      const integrity = await sealedOf(request.params.name, reply);
      if (integrity === undefined) return reply;
      const { line, cursor } = request.query;
      if (cursor !== undefined) {
        return sendError(reply, "bad_request", "cursor= is not supported: give line= (1-based line number)");
      }
      const n = sizeParam(line);
      const size = sizeParam(request.query.size);
      if (n === undefined || n === null || n < 1)
        return sendError(reply, "bad_request", "line must be 1 or more");
      if (size === null) return sendError(reply, "bad_request", "size must be a tree size");
      return answer(reply, () => integrity.log.inclusion(n - 1, size), TEXT);
    },
  );

  app.get<{ Params: StreamParams; Querystring: Query }>(
    "/api/streams/:name/proof/consistency",
    async (request, reply) => {
      const integrity = await sealedOf(request.params.name, reply);
      if (integrity === undefined) return reply;
      const from = sizeParam(request.query.from);
      const to = sizeParam(request.query.to);
      if (from === undefined || from === null)
        return sendError(reply, "bad_request", "from must be a tree size");
      if (to === null) return sendError(reply, "bad_request", "to must be a tree size");
      if (to !== undefined && from > to)
        return sendError(reply, "bad_proof_range", `from ${from} is after to ${to}`);
      return answer(reply, () => integrity.log.consistency(from, to), TEXT);
    },
  );

  app.get<{ Params: StreamParams & { "*": string } }>("/api/streams/:name/tile/*", async (request, reply) => {
    const integrity = await sealedOf(request.params.name, reply);
    if (integrity === undefined) return reply;
    return answer(reply, () => integrity.log.tile(`tile/${request.params["*"]}`), "application/octet-stream");
  });

  app.get<{ Params: StreamParams; Querystring: Query }>(
    "/api/streams/:name/bundle",
    async (request, reply) => {
      const integrity = await sealedOf(request.params.name, reply);
      if (integrity === undefined) return reply;
      const from = sizeParam(request.query.from);
      const to = sizeParam(request.query.to);
      if (typeof from !== "number" || typeof to !== "number" || from < 1 || to < from) {
        return sendError(reply, "bad_request", "give from= and to= (1-based lines, from <= to)");
      }
      if (to - from + 1 > MAX_BUNDLE_LINES) {
        return sendError(reply, "bad_proof_range", `at most ${MAX_BUNDLE_LINES} lines a bundle`);
      }
      if (integrity.path === null) {
        return sendError(
          reply,
          "not_sealed",
          `stream "${integrity.name}" is not a sealed file: bundles need its file`,
        );
      }
      try {
        const bundle = await makeBundle(integrity.path, { from, to }, integrity.log.dir);
        return reply.header("cache-control", "no-store").send(bundle);
      } catch (error) {
        if (error instanceof BundleError) return sendError(reply, "bad_proof_range", error.message);
        throw error;
      }
    },
  );

  app.post<{ Params: StreamParams; Body: unknown }>(
    "/api/streams/:name/cosignature",
    { bodyLimit: COSIGNATURE_BODY_BYTES },
    async (request, reply) => {
      const integrity = await sealedOf(request.params.name, reply);
      if (integrity === undefined) return reply;
      if (typeof request.body !== "string") {
        return sendError(reply, "unsupported_media_type", "post the cosigned checkpoint note as text/plain");
      }
      const posted = request.body;
      // The text must be one of this log's checkpoints: the newest, or the one of the size it names.
      const size = Number(posted.split("\n", 2)[1]);
      const entry = Number.isSafeInteger(size) ? integrity.log.bySize(size) : undefined;
      const text = entry === undefined ? undefined : entry.note.slice(0, entry.note.lastIndexOf("\n\n") + 1);
      try {
        const witnesses = integrity.cosignatures.accept(posted, text, ctx.integrity.options.logKeys);
        return { stream: integrity.name, size, witnesses };
      } catch (error) {
        if (error instanceof CosignatureError) return sendError(reply, error.code, error.message);
        throw error;
      }
    },
  );
}

/** undefined when absent, null when not a tree size. */
function sizeParam(value: string | undefined): number | null | undefined {
  if (value === undefined) return undefined;
  if (!/^(0|[1-9]\d{0,15})$/.test(value)) return null;
  const n = Number(value);
  return Number.isSafeInteger(n) ? n : null;
}
