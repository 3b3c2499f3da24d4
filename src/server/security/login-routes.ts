import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { sendError } from "../routes/http-errors.js";
import { sessionCookieName } from "./credentials.js";
import { LOGIN_CSS, LOGIN_HTML, LOGIN_JS } from "./login-page.js";
import { checkOrigin, foreignOriginMessage } from "./origin-check.js";
import type { ResolvedSecurity } from "./security-options.js";
import type { SessionStore } from "./session-store.js";

/** Paths that stay public when authentication is on (route patterns, so no path trick can widen them). */
export const LOGIN_PATHS = new Set(["/login", "/login.js", "/login.css", "/auth/login", "/auth/logout"]);

export type LoginLimiter = (request: FastifyRequest) => Promise<{ allowed: boolean; retryAfterS: number }>;

/**
 * `GET /login` (+ its script and style), `POST /auth/login` (token -> session cookie) and `POST /auth/logout`.
 * Sessions grant read access only: writing needs a bearer write token, so a cookie can never be used to write.
 */
export async function registerLoginRoutes(
  app: FastifyInstance,
  security: ResolvedSecurity,
  sessions: SessionStore,
  limitLogin: LoginLimiter,
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
    scope.get("/login", asset("text/html; charset=utf-8", LOGIN_HTML));
    scope.get("/login.js", asset("text/javascript; charset=utf-8", LOGIN_JS));
    scope.get("/login.css", asset("text/css; charset=utf-8", LOGIN_CSS));

    scope.post<{ Body: { token: string } }>(
      "/auth/login",
      {
        bodyLimit: 8192,
        schema: {
          body: {
            type: "object",
            required: ["token"],
            properties: { token: { type: "string", minLength: 1, maxLength: 4096 } },
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
        if (security.tokens.check(request.body.token) === null) {
          if (form) return reply.redirect("/login?error=1", 303);
          return sendError(reply, "unauthorized", "that token is not valid");
        }
        const secure = request.protocol === "https";
        reply.setCookie(sessionCookieName(secure), sessions.create(), {
          httpOnly: true,
          sameSite: "strict",
          secure,
          path: "/",
          maxAge: Math.floor(security.sessionTtlMs / 1000),
        });
        if (form) return reply.redirect("/", 303);
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
