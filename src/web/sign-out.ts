/**
 * The Sign out button, shown only when the server signs browsers in. The page cannot read its session cookie
 * (HttpOnly), so it asks /healthz without cookies: with authentication on, that answer names no streams
 * (docs/security.md); with it off, or behind a proxy that signs users in itself, there is nothing to sign out of.
 */

/** Whether the server requires sign-in, from a cookie-less /healthz answer. */
export function authRequired(health: unknown): boolean {
  return typeof health === "object" && health !== null && !("streams" in health);
}

export function installSignOut(button: HTMLButtonElement, base = document.baseURI): void {
  void fetch(new URL("healthz", base), { credentials: "omit", cache: "no-store" })
    .then((r) => (r.ok ? r.json() : null))
    .then((health: unknown) => {
      if (health !== null && authRequired(health)) button.hidden = false;
    })
    .catch(() => {
      // No answer: the button stays hidden; signing out is not possible without the server either.
    });
  button.addEventListener("click", () => {
    button.disabled = true;
    void fetch(new URL("auth/logout", base), { method: "POST", credentials: "same-origin" })
      .catch(() => {
        // Even if the request failed, the sign-in page is where the user asked to go.
      })
      // Back to this very view after signing in again (as when a session ends by itself).
      .finally(() => {
        const next = `${location.pathname}${location.search}${location.hash}`;
        location.assign(new URL(`login?next=${encodeURIComponent(next)}`, base).href);
      });
  });
}
