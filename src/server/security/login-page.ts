/**
 * The sign-in page: HTML, an external script and a style sheet, so the strict Content-Security-Policy (no
 * inline script or style) applies to it as to the dashboard. The token goes in a POST body only; without
 * JavaScript the form still posts (urlencoded) and the server answers with a redirect to the form's `next`.
 *
 * `next` (where to go after signing in) is the one thing that varies: the server checks it (safeNext in
 * login-routes.ts: a path on this origin, else "/") and writes only that result into the form, escaped.
 */
export function loginHtml(next: string): string {
  // A function, not a string: "$`" or "$'" in next must not be read as replacement patterns.
  return LOGIN_HTML.replace("{{next}}", () => escapeAttribute(next));
}

function escapeAttribute(text: string): string {
  return text
    .replaceAll("&", "&amp;")
    .replaceAll('"', "&quot;")
    .replaceAll("'", "&#39;")
    .replaceAll("<", "&lt;")
    .replaceAll(">", "&gt;");
}

const LOGIN_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>Sign in · livetrail</title>
<link rel="stylesheet" href="/login.css">
<script src="/login.js" defer></script>
</head>
<body>
<main>
<h1>livetrail</h1>
<form id="login" method="post" action="/auth/login">
<input id="next" name="next" type="hidden" value="{{next}}">
<label for="token">Access token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Sign in</button>
<p id="message" role="alert"></p>
</form>
</main>
</body>
</html>
`;

export const LOGIN_JS = `"use strict";
(() => {
  const form = document.getElementById("login");
  const input = document.getElementById("token");
  const message = document.getElementById("message");
  const params = new URLSearchParams(location.search);
  if (params.get("error") === "1") message.textContent = "That token is not valid.";
  // Where to go after signing in: the form's next, which the server already reduced to a path on this origin
  // (never location.search: "/.//evil.example" resolves to the path "//evil.example", another site). Checked
  // again here so that nothing but "/" followed by something other than a slash or backslash is ever followed.
  const given = document.getElementById("next")?.value || "/";
  const resolved = new URL(given, location.origin);
  const target = resolved.origin === location.origin && /^\\/(?![\\/\\\\])/.test(given) ? given : "/";
  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    message.textContent = "";
    let response;
    try {
      response = await fetch("/auth/login", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ token: input.value }),
        credentials: "same-origin",
      });
    } catch {
      message.textContent = "The server cannot be reached.";
      return;
    }
    if (response.ok) {
      // A redirect keeps the fragment of the page first asked for (it holds the dashboard's view): pass it on.
      location.replace(target.includes("#") ? target : target + location.hash);
      return;
    }
    message.textContent =
      response.status === 429 ? "Too many attempts: wait a minute and try again." : "That token is not valid.";
    input.select();
  });
})();
`;

export const LOGIN_CSS = `:root { font-family: system-ui, sans-serif; }
body { display: grid; place-items: center; min-height: 100vh; margin: 0; }
main { width: min(22rem, 90vw); }
h1 { font-size: 1.4rem; margin: 0 0 1rem; }
form { display: grid; gap: 0.6rem; }
input, button { font: inherit; padding: 0.45rem 0.6rem; }
#message { min-height: 1.3em; margin: 0; color: #c62828; }
`;
