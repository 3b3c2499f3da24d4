import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { sendError } from "../routes/http-errors.js";
import { sessionCookieName } from "./credentials.js";
import { LOGIN_CSS, LOGIN_JS, loginHtml } from "./login-page.js";
import { checkOrigin, foreignOriginMessage, ownOrigin } from "./origin-check.js";
import type { ResolvedSecurity } from "./security-options.js";
import type { SessionStore } from "./session-store.js";

/** Paths that stay public when authentication is on (route patterns, so no path trick can widen them). */
export const LOGIN_PATHS = new Set(["/login", "/login.js", "/login.css", "/auth/login", "/auth/logout"]);

/** Longest `next` followed (the dashboard's own carry its view in the fragment); a longer one becomes "/". */
const MAX_NEXT_LENGTH = 8192;
/** The base for resolving `next` when the request names no usable Host (only the path is ever used). */
const FALLBACK_ORIGIN = "http://livetrail.invalid";

/**
 * Where the browser may go after signing in: a path on this server, never another site (no open redirect).
 * `next` is resolved against this origin exactly as a browser resolves a URL (WHATWG URL: tabs and newlines
 * dropped, backslashes read as slashes, `.`/`..` and their percent-encodings applied) and must stay on it;
 * then only its path, query and fragment are kept, with leading slashes collapsed to one. The result starts
 * with exactly one "/" followed by neither a slash nor a backslash, so no browser reads it as `//host`; control
 * characters and spaces come out percent-encoded. Anything else (absolute URLs elsewhere, `javascript:`,
 * non-strings, overlong values) gives "/".
 */
export function safeNext(raw: unknown, origin: string | null): string {
  if (typeof raw !== "string" || raw === "" || raw.length > MAX_NEXT_LENGTH) return "/";
  const base = origin ?? FALLBACK_ORIGIN;
  let url: URL;
  try {
    url = new URL(raw, base);
  } catch {
    return "/";
  }
  if (url.origin !== new URL(base).origin) return "/";
  const path = `/${url.pathname.replace(/^[/\\]+/, "")}${url.search}${url.hash}`;
  // What a browser makes of the result must be this origin again (it is by construction; checked anyway).
  if (!/^\/(?![/\\])/.test(path) || new URL(path, base).origin !== url.origin) return "/";
  return path;
}

export type LoginLimiter = (request: FastifyRequest) => Promise<{ allowed: boolean; retryAfterS: number }>;
/** Told of every session started, with the token that started it (the session's requests count as that token's). */
export type SignInListener = (sessionId: string, token: string) => void;

/**
 * `GET /login` (+ its script and style), `POST /auth/login` (token -> session cookie) and `POST /auth/logout`.
 * Sessions grant read access only: writing needs a bearer write token, so a cookie can never be used to write.
 */
export async function registerLoginRoutes(
  app: FastifyInstance,
  security: ResolvedSecurity,
  sessions: SessionStore,
  limitLogin: LoginLimiter,
  onSignIn: SignInListener = () => {},
): Promise<void> {
  // Encapsulated: the urlencoded parser (the no-JavaScript form post) exists only for these routes.
  await app.register(async (scope) => {
    scope.addContentTypeParser(
      "application/x-www-form-urlencoded",
      { parseAs: "string", bodyLimit: 8192 },
      (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );

    const asset = (type: string, body: string) => async (_request: FastifyRequest, reply: FastifyReply) =>
      reply.type(type).header("cache-control", "no-store").send(body);
    // The page carries `next` in its form (already made safe), so the no-JavaScript post can follow it too.
    scope.get<{ Querystring: { next?: unknown } }>("/login", async (request, reply) =>
      reply
        .type("text/html; charset=utf-8")
        .header("cache-control", "no-store")
        .send(loginHtml(safeNext(request.query.next, ownOrigin(request)))),
    );
    scope.get("/login.js", asset("text/javascript; charset=utf-8", LOGIN_JS));
    scope.get("/login.css", asset("text/css; charset=utf-8", LOGIN_CSS));

    scope.post<{ Body: { token: string; next?: string } }>(
      "/auth/login",
      {
        bodyLimit: 8192,
        schema: {
          body: {
            type: "object",
            required: ["token"],
            properties: {
              token: { type: "string", minLength: 1, maxLength: 4096 },
              // Checked by safeNext, which turns anything unusable into "/" rather than refusing the sign-in.
              next: { type: "string" },
            },
          },
        },
        // Never echo the body (the token) in a validation message.
        attachValidation: true,
      },
      async (request, reply) => {
        const form =
          request.headers["content-type"]?.startsWith("application/x-www-form-urlencoded") ?? false;
        // Login CSRF: another site must not sign a victim's browser in to the attacker's session.
        if (checkOrigin(request, security.allowOrigins) === "foreign") {
          return sendError(reply, "bad_origin", foreignOriginMessage(request));
        }
        const limit = await limitLogin(request);
        if (!limit.allowed) {
          reply.header("retry-after", String(limit.retryAfterS));
          return sendError(reply, "rate_limited", "too many sign-in attempts; wait and retry");
        }
        if (request.validationError !== undefined) {
          return sendError(reply, "bad_request", 'send {"token": "..."}');
        }
        const next = safeNext(request.body.next, ownOrigin(request));
        if (security.tokens.check(request.body.token) === null) {
          if (form) {
            const back = next === "/" ? "" : `&next=${encodeURIComponent(next)}`;
            return reply.redirect(`/login?error=1${back}`, 303);
          }
          return sendError(reply, "unauthorized", "that token is not valid");
        }
        const secure = request.protocol === "https";
        const sessionId = sessions.create();
        onSignIn(sessionId, request.body.token);
        reply.setCookie(sessionCookieName(secure), sessionId, {
          httpOnly: true,
          sameSite: "strict",
          secure,
          path: "/",
          maxAge: Math.floor(security.sessionTtlMs / 1000),
        });
        if (form) return reply.redirect(next, 303);
        return reply.code(204).send();
      },
    );

    scope.post("/auth/logout", async (request, reply) => {
      for (const secure of [true, false]) {
        const name = sessionCookieName(secure);
        const id = request.cookies[name];
        if (id !== undefined) sessions.delete(id);
        reply.clearCookie(name, { path: "/", httpOnly: true, sameSite: "strict", secure });
      }
      return reply.code(204).send();
    });
  });
}
