import { describe, expect, test } from "vitest";
import { SessionStore } from "../../src/server/security/session-store.js";
import { useClosers } from "../helpers/closer.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { request } from "./http-client.js";
import { bearer, READ, startSecured, WRITE } from "./security-harness.js";

const tempDir = useTempDirs("livetrail-sec-");
const track = useClosers();

const login = (url: string, body: string, headers: Record<string, string> = {}, ca?: string) =>
  request(`${url}/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
    ...(ca === undefined ? {} : { ca }),
  });

function cookieAttributes(setCookie: string[] | undefined): { name: string; value: string; attrs: string[] } {
  const [pair = "", ...attrs] = (setCookie?.[0] ?? "").split(";").map((p) => p.trim());
  const eq = pair.indexOf("=");
  return { name: pair.slice(0, eq), value: pair.slice(eq + 1), attrs: attrs.map((a) => a.toLowerCase()) };
}

describe("sign-in and the session cookie", () => {
  test("a valid token gives an HttpOnly, SameSite=Strict cookie (not Secure over plain HTTP) that reads", async () => {
    const s = track(await startSecured(await tempDir(), { readTokens: [READ], sessionTtlMs: 3_600_000 }));
    const r = await login(s.url, JSON.stringify({ token: READ }));
    expect(r.status).toBe(204);
    const c = cookieAttributes(r.headers["set-cookie"]);
    expect(c.name).toBe("livetrail-session");
    expect(c.value).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(c.value).not.toContain(READ);
    expect(c.attrs).toContain("httponly");
    expect(c.attrs).toContain("samesite=strict");
    expect(c.attrs).toContain("path=/");
    expect(c.attrs).toContain("max-age=3600");
    expect(c.attrs).not.toContain("secure");
    const cookie = `${c.name}=${c.value}`;
    expect((await request(`${s.url}/api/streams`, { headers: { cookie } })).status).toBe(200);
    // Two sign-ins are two sessions: ids are random, not derived from the token.
    const again = cookieAttributes(
      (await login(s.url, JSON.stringify({ token: READ }))).headers["set-cookie"],
    );
    expect(again.value).not.toBe(c.value);
  });

  test("over HTTPS the cookie is __Host- prefixed and Secure", async () => {
    const s = track(await startSecured(await tempDir(), { readTokens: [READ], tls: { selfSigned: true } }));
    const ca = s.server.options.security.tls?.cert ?? undefined;
    const r = await login(s.url, JSON.stringify({ token: READ }), {}, ca);
    expect(r.status).toBe(204);
    const c = cookieAttributes(r.headers["set-cookie"]);
    expect(c.name).toBe("__Host-livetrail-session");
    expect(c.attrs).toEqual(expect.arrayContaining(["secure", "httponly", "samesite=strict", "path=/"]));
    const cookie = `${c.name}=${c.value}`;
    expect((await request(`${s.url}/api/streams`, { headers: { cookie }, ca })).status).toBe(200);
  });

  test("wrong or malformed sign-ins get 401/400 and no cookie", async () => {
    const s = track(await startSecured(await tempDir(), { readTokens: [READ] }));
    for (const [body, status] of [
      [JSON.stringify({ token: `${READ}0` }), 401],
      [JSON.stringify({ token: "" }), 400],
      [JSON.stringify({ nope: READ }), 400],
      [JSON.stringify({ token: "x".repeat(5000) }), 400],
    ] as const) {
      const r = await login(s.url, body);
      expect(r.status, body.slice(0, 40)).toBe(status);
      expect(r.headers["set-cookie"]).toBeUndefined();
    }
  });

  test("a session cookie can read but never write", async () => {
    const s = track(await startSecured(await tempDir(), { readTokens: [READ], writeTokens: [WRITE] }));
    const r = await login(s.url, JSON.stringify({ token: WRITE }));
    const c = cookieAttributes(r.headers["set-cookie"]);
    const cookie = `${c.name}=${c.value}`;
    const post = await request(`${s.url}/api/streams/audit/entries`, {
      method: "POST",
      headers: { cookie, "content-type": "application/json" },
      body: JSON.stringify({ message: "via cookie" }),
    });
    expect(post.status).toBe(403);
  });

  test("the no-JavaScript form post signs in with a redirect; a bad token redirects back with an error", async () => {
    const s = track(await startSecured(await tempDir(), { readTokens: [READ] }));
    const form = { "content-type": "application/x-www-form-urlencoded" };
    const ok = await request(`${s.url}/auth/login`, { method: "POST", headers: form, body: `token=${READ}` });
    expect(ok.status).toBe(303);
    expect(ok.headers.location).toBe("/");
    expect(cookieAttributes(ok.headers["set-cookie"]).attrs).toContain("httponly");
    const bad = await request(`${s.url}/auth/login`, {
      method: "POST",
      headers: form,
      body: "token=wrong-wrong-wrong-wrong",
    });
    expect(bad.status).toBe(303);
    expect(bad.headers.location).toBe("/login?error=1");
    expect(bad.headers["set-cookie"]).toBeUndefined();
  });

  test("sign-in from a foreign origin is refused (login CSRF)", async () => {
    const s = track(await startSecured(await tempDir(), { readTokens: [READ] }));
    const r = await login(s.url, JSON.stringify({ token: READ }), { origin: "https://evil.example" });
    expect(r.status).toBe(403);
    expect(r.headers["set-cookie"]).toBeUndefined();
    expect((await login(s.url, JSON.stringify({ token: READ }), { origin: s.url })).status).toBe(204);
  });

  test("sign-in attempts are rate limited per address, loopback included, then recover", async () => {
    const s = track(
      await startSecured(await tempDir(), { readTokens: [READ], loginPerMinute: 3, rateWindowMs: 1000 }),
    );
    const statuses: number[] = [];
    for (let i = 0; i < 6; i++)
      statuses.push((await login(s.url, JSON.stringify({ token: "wrong-wrong-wrong-wrong" }))).status);
    expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);
    expect(statuses).toContain(429);
    const limited = await login(s.url, JSON.stringify({ token: READ }));
    if (limited.status === 429) expect(Number(limited.headers["retry-after"])).toBeGreaterThanOrEqual(1);
    // The window passes: a right token works again (waited for, not slept on).
    const { waitFor } = await import("../helpers/wait-for.js");
    await waitFor(async () => (await login(s.url, JSON.stringify({ token: READ }))).status === 204, {
      timeoutMs: 10_000,
      intervalMs: 200,
      message: "the sign-in limit to recover",
    });
    // Bearer requests are not sign-ins: never counted against the sign-in limit.
    expect((await request(`${s.url}/api/streams`, { headers: bearer(READ) })).status).toBe(200);
  });
});

describe("session store", () => {
  test("sessions expire, unknown and malformed ids are refused, and the store stays bounded", () => {
    let now = 1_000;
    const store = new SessionStore(60_000, 3, () => now);
    const a = store.create();
    expect(store.get(a)).not.toBeNull();
    expect(store.get(`${a.slice(0, -1)}${a.endsWith("A") ? "B" : "A"}`)).toBeNull();
    expect(store.get("../../etc/passwd")).toBeNull();
    now += 60_000;
    expect(store.get(a)).toBeNull();
    const ids = [store.create(), store.create(), store.create(), store.create()];
    expect(store.size).toBe(3);
    expect(store.get(ids[0] as string)).toBeNull(); // the oldest made room
    expect(store.get(ids[3] as string)).not.toBeNull();
    store.delete(ids[3] as string);
    expect(store.get(ids[3] as string)).toBeNull();
    store.close();
    expect(store.size).toBe(0);
  });
});
