import { WebSocket } from "ws";
import { type CheckResult, fail, ok, warn } from "./check-result.js";

const UPGRADE_FIX =
  'nginx: proxy_http_version 1.1; proxy_set_header Upgrade $http_upgrade; proxy_set_header Connection "upgrade"; ' +
  "proxy_read_timeout 1h (docs/deploy.md)";
const FORWARDED_FIX =
  "have the proxy set X-Forwarded-Proto $scheme and X-Forwarded-Host $host, and start livetrail with " +
  "--trust-proxy PROXY_ADDRESS (docs/deploy.md)";

/**
 * A request through the reverse proxy at `url` as a browser makes it: `/healthz`, a WebSocket upgrade to `/ws`
 * carrying the page's Origin (which the server accepts only when it sees its public host and scheme, i.e. when
 * X-Forwarded-Host/Proto arrive from a trusted proxy, or the Host is passed on), and over https a sign-in whose
 * cookie is `__Host-` only when the server knows the client used https (X-Forwarded-Proto).
 */
export async function checkProxy(url: string, token: string | null): Promise<CheckResult[]> {
  const base = new URL(url);
  if (!base.pathname.endsWith("/")) base.pathname += "/";
  const auth: Record<string, string> = token === null ? {} : { authorization: `Bearer ${token}` };
  const results: CheckResult[] = [];

  try {
    const response = await fetch(new URL("healthz", base), { signal: AbortSignal.timeout(10_000) });
    const body = (await response.json().catch(() => null)) as { status?: unknown } | null;
    if (response.status !== 200 || body?.status !== "ok") {
      results.push(
        fail(
          "proxy",
          `${base.href}healthz answered ${response.status}, not livetrail's {"status":"ok"}`,
          "point the proxy's location at livetrail (proxy_pass http://127.0.0.1:8080)",
        ),
      );
      return results;
    }
    results.push(ok("proxy", `${base.href}healthz reaches livetrail`));
  } catch (error) {
    const why = String((error as Error).cause ?? (error as Error).message);
    results.push(fail("proxy", `${base.href}healthz: ${why}`, "check the URL and that the proxy runs"));
    return results;
  }

  results.push(await checkUpgrade(base, auth));
  if (base.protocol === "https:") results.push(await checkForwardedProto(base, token));
  return results;
}

function checkUpgrade(base: URL, auth: Record<string, string>): Promise<CheckResult> {
  const wsUrl = new URL("ws", base);
  wsUrl.protocol = base.protocol === "https:" ? "wss:" : "ws:";
  return new Promise((resolve) => {
    const ws = new WebSocket(wsUrl, { headers: { ...auth, origin: base.origin }, handshakeTimeout: 10_000 });
    const done = (result: CheckResult): void => {
      ws.terminate();
      resolve(result);
    };
    const timer = setTimeout(
      () =>
        done(
          fail(
            "proxy",
            `${wsUrl.href}: no hello within 10 s after the upgrade`,
            `${UPGRADE_FIX}; turn off proxy buffering`,
          ),
        ),
      10_000,
    );
    ws.on("unexpected-response", (_request, response) => {
      clearTimeout(timer);
      const status = response.statusCode ?? 0;
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => {
        if (body.length < 4096) body += chunk;
      });
      response.on("end", () => {
        const code = /"error":"([a-z_]+)"/.exec(body)?.[1];
        if (code === "bad_origin" || code === "unknown_host") {
          done(
            fail(
              "proxy",
              `${wsUrl.href}: the server refused the page's origin ${base.origin} (${status} ${code}): it does not see its public host`,
              FORWARDED_FIX,
            ),
          );
        } else if (status === 401) {
          done(
            fail(
              "proxy",
              `${wsUrl.href}: 401 (the WebSocket needs the token)`,
              "set LIVETRAIL_TOKEN or --token-file",
            ),
          );
        } else {
          done(fail("proxy", `${wsUrl.href}: the upgrade got HTTP ${status} instead of 101`, UPGRADE_FIX));
        }
      });
    });
    ws.on("message", (data) => {
      clearTimeout(timer);
      const hello = /"type":"hello"/.test(data.toString());
      done(
        hello
          ? ok(
              "proxy",
              `${wsUrl.href}: WebSocket upgrade and hello through the proxy, origin ${base.origin} accepted`,
            )
          : fail("proxy", `${wsUrl.href}: the first message is not hello`, UPGRADE_FIX),
      );
    });
    ws.on("error", (error) => {
      clearTimeout(timer);
      done(fail("proxy", `${wsUrl.href}: ${error.message}`, UPGRADE_FIX));
    });
  });
}

async function checkForwardedProto(base: URL, token: string | null): Promise<CheckResult> {
  if (token === null) {
    return warn(
      "proxy",
      "X-Forwarded-Proto not checked: it needs a token to sign in with",
      "set LIVETRAIL_TOKEN or --token-file",
    );
  }
  try {
    const response = await fetch(new URL("auth/login", base), {
      method: "POST",
      // No Origin: as a script signs in. The origin is the upgrade check's; this one looks only at the cookie.
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token }),
      signal: AbortSignal.timeout(10_000),
    });
    const cookies = response.headers.getSetCookie();
    // End the session just made; what matters is what its cookie was called.
    const session = cookies[0]?.split(";")[0];
    if (session !== undefined) {
      await fetch(new URL("auth/logout", base), {
        method: "POST",
        headers: { cookie: session },
      }).catch(() => {});
    }
    if (response.status !== 204) {
      return warn(
        "proxy",
        `X-Forwarded-Proto not checked: sign-in answered ${response.status}`,
        "check the token",
      );
    }
    if (cookies.some((c) => c.startsWith("__Host-livetrail-session="))) {
      return ok("proxy", "X-Forwarded-Proto arrives: the server knows its clients use https (Secure cookie)");
    }
    return fail(
      "proxy",
      "the server thinks this https client uses http: X-Forwarded-Proto does not arrive or is not trusted, so session cookies are not Secure",
      FORWARDED_FIX,
    );
  } catch (error) {
    return warn("proxy", `X-Forwarded-Proto not checked: ${(error as Error).message}`, "check the URL");
  }
}
