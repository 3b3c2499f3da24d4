import { writeFile } from "node:fs/promises";
import { describe, expect, test } from "vitest";
import { securityFromFlags } from "../../src/cli/security-flags.js";
import { TokenSet } from "../../src/server/security/token-set.js";
import { useClosers } from "../helpers/closer.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { request, streamStatus } from "./http-client.js";
import { bearer, READ, READ2, startSecured, WRITE } from "./security-harness.js";

const tempDir = useTempDirs("livetrail-sec-");
const track = useClosers();

const PROTECTED = [
  "/api/streams",
  "/api/streams/audit/lines",
  "/api/streams/audit/search?q=line",
  "/api/audit",
  "/metrics",
  "/",
];

describe("HTTP authentication with tokens", () => {
  test("missing and wrong tokens get 401 on every protected route; valid read tokens (any of several) pass", async () => {
    const s = track(await startSecured(await tempDir(), { readTokens: [READ, READ2], writeTokens: [WRITE] }));
    for (const path of PROTECTED) {
      const none = await request(s.url + path);
      expect(none.status, `${path} without a token`).toBe(401);
      expect(none.headers["www-authenticate"]).toMatch(/^Bearer realm="livetrail"/);
      const wrong = await request(s.url + path, { headers: bearer(`${READ}x`) });
      expect(wrong.status, `${path} with a wrong token`).toBe(401);
      expect(wrong.headers["www-authenticate"]).toContain('error="invalid_token"');
      const prefix = await request(s.url + path, { headers: bearer(READ.slice(0, -1)) });
      expect(prefix.status, `${path} with a token prefix`).toBe(401);
      const basic = await request(s.url + path, { headers: { authorization: `Basic ${READ}` } });
      expect(basic.status, `${path} with another scheme`).toBe(401);
    }
    for (const token of [READ, READ2, WRITE]) {
      const ok = await request(`${s.url}/api/streams`, { headers: bearer(token) });
      expect(ok.status).toBe(200);
      expect(ok.json<{ name: string }[]>()[0]?.name).toBe("audit");
      const lines = await request(`${s.url}/api/streams/audit/lines`, { headers: bearer(token) });
      expect(lines.json<{ lines: { text: string }[] }>().lines.map((l) => l.text)).toContain(
        "[2025-12-17T17:40:38Z] second line",
      );
    }
    const lower = await request(`${s.url}/api/streams`, { headers: { authorization: `bearer ${READ}` } });
    expect(lower.status).toBe(200);
  });

  test("a wrong token is never echoed back", async () => {
    const s = track(await startSecured(await tempDir(), { readTokens: [READ] }));
    const secret = "attempted-secret-token-value-42";
    for (const path of ["/api/streams", "/api/streams/audit/events", "/ws", "/auth/login"]) {
      const r = await request(s.url + path, {
        method: path === "/auth/login" ? "POST" : "GET",
        headers: { ...bearer(secret), "content-type": "application/json" },
        body: path === "/auth/login" ? JSON.stringify({ token: secret }) : undefined,
      });
      expect(r.status).toBeGreaterThanOrEqual(400);
      expect(r.body).not.toContain(secret);
      expect(JSON.stringify(r.headers)).not.toContain(secret);
    }
  });

  test("the SSE stream needs a token too, and streams with one", async () => {
    const s = track(await startSecured(await tempDir(), { readTokens: [READ] }));
    expect((await request(`${s.url}/api/streams/audit/events?tail=1`)).status).toBe(401);
    expect(await streamStatus(`${s.url}/api/streams/audit/events?tail=1`, bearer(READ))).toBe(200);
  });

  test("/healthz and the sign-in page stay public; a browser is sent to the sign-in page", async () => {
    const s = track(await startSecured(await tempDir(), { readTokens: [READ] }));
    // Up or not for everyone; what it serves only for a caller with credentials.
    const anonymous = await request(`${s.url}/healthz`);
    expect(anonymous.status).toBe(200);
    expect(JSON.parse(anonymous.body)).toEqual({ status: "ok" });
    const wrong = await request(`${s.url}/healthz`, { headers: bearer(`${READ}-wrong`) });
    expect(JSON.parse(wrong.body)).toEqual({ status: "ok" });
    const known = await request(`${s.url}/healthz`, { headers: bearer(READ) });
    expect(JSON.parse(known.body)).toMatchObject({ status: "ok", streams: [{ name: "audit" }] });
    for (const path of ["/login", "/login.js", "/login.css"])
      expect((await request(s.url + path)).status).toBe(200);
    const page = await request(`${s.url}/?x=1`, { headers: { accept: "text/html,*/*" } });
    expect(page.status).toBe(302);
    expect(page.headers.location).toBe(`/login?next=${encodeURIComponent("/?x=1")}`);
    // Path tricks do not reach a protected route through a public one.
    for (const path of [
      "/healthz/../api/streams",
      "/login/../api/streams",
      "/healthz%2F..%2Fapi%2Fstreams",
    ]) {
      const r = await request(s.url + path);
      expect([401, 404], path).toContain(r.status);
    }
  });

  test("without tokens the server is open as before and has no sign-in or append routes", async () => {
    const s = track(await startSecured(await tempDir(), {}));
    expect((await request(`${s.url}/api/streams`)).status).toBe(200);
    expect((await request(`${s.url}/api/audit`)).status).toBe(200);
    expect((await request(`${s.url}/login`)).status).toBe(404);
    const post = await request(`${s.url}/api/streams/audit/entries`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ message: "x" }),
    });
    expect(post.status).toBe(404);
  });

  test("a trusted proxy's identity header signs in; the same header from anyone else does not", async () => {
    const trusted = track(
      await startSecured(await tempDir(), {
        trustedProxies: ["127.0.0.1"],
        identityHeader: "X-Forwarded-User",
      }),
    );
    expect((await request(`${trusted.url}/api/streams`)).status).toBe(401);
    expect(
      (await request(`${trusted.url}/api/streams`, { headers: { "x-forwarded-user": "alice" } })).status,
    ).toBe(200);
    expect(
      (await request(`${trusted.url}/api/streams`, { headers: { "x-forwarded-user": " " } })).status,
    ).toBe(401);
    const untrusted = track(
      await startSecured(await tempDir(), {
        trustedProxies: ["10.0.0.0/8"],
        identityHeader: "X-Forwarded-User",
      }),
    );
    expect(
      (await request(`${untrusted.url}/api/streams`, { headers: { "x-forwarded-user": "alice" } })).status,
    ).toBe(401);
  });

  test("query tokens work only when enabled, and only on streaming routes", async () => {
    const off = track(await startSecured(await tempDir(), { readTokens: [READ] }));
    expect((await request(`${off.url}/api/streams/audit/events?token=${READ}`)).status).toBe(401);
    const on = track(await startSecured(await tempDir(), { readTokens: [READ], allowQueryToken: true }));
    expect((await request(`${on.url}/api/streams?token=${READ}`)).status).toBe(401);
    expect((await request(`${on.url}/api/streams/audit/events?token=${READ}x`)).status).toBe(401);
    expect(await streamStatus(`${on.url}/api/streams/audit/events?token=${READ}`)).toBe(200);
  });
});

describe("token configuration", () => {
  test("tokens come from repeated flags, comma-separated environment variables and a token file", async () => {
    const dir = await tempDir();
    const file = dir.file("tokens");
    await writeFile(file, `# rotation in progress\nread ${READ2}\n\nwrite ${WRITE}\n`);
    const { security } = await securityFromFlags(
      { readToken: [READ], tokenFile: file },
      {
        LIVETRAIL_READ_TOKENS: " env-read-token-000000000001 , env-read-token-000000000002,",
        LIVETRAIL_WRITE_TOKENS: "",
      },
    );
    expect(security?.readTokens).toEqual([
      READ,
      "env-read-token-000000000001",
      "env-read-token-000000000002",
      READ2,
    ]);
    expect(security?.writeTokens).toEqual([WRITE]);
  });

  test("short or malformed tokens are refused with a message that does not contain them", async () => {
    for (const token of ["tiny1", "has space in the token value", "has,comma,in,the,token,value"]) {
      let message = "";
      try {
        new TokenSet([token], []);
      } catch (error) {
        message = (error as Error).message;
      }
      expect(message).toMatch(/invalid read token/);
      expect(message).not.toContain(token);
    }
    const dir = await tempDir();
    const file = dir.file("tokens");
    await writeFile(file, "admin supersecretvalue12345\n");
    await expect(securityFromFlags({ tokenFile: file }, {})).rejects.toThrow(/line 1/);
    await expect(securityFromFlags({ tokenFile: file }, {})).rejects.not.toThrow(/supersecret/);
  });

  test("a token grants its own scope only; write wins when a token is both", () => {
    const set = new TokenSet([READ, WRITE], [WRITE]);
    expect(set.check(READ)).toBe("read");
    expect(set.check(WRITE)).toBe("write");
    expect(set.check(`${READ}\u0000`)).toBeNull();
    expect(set.check("")).toBeNull();
    expect(set.check("x".repeat(100_000))).toBeNull();
  });
});
