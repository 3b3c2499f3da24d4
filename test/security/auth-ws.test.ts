import { describe, expect, test } from "vitest";
import { resolveSecurity } from "../../src/server/security/security-options.js";
import { useClosers } from "../helpers/closer.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { request } from "./http-client.js";
import { bearer, closeWs, openWs, READ, startSecured, type Upgrade } from "./security-harness.js";

const tempDir = useTempDirs("livetrail-sec-");
const track = useClosers();

/** Signs in through the real endpoint and returns the cookie header value. */
async function signIn(url: string, token: string): Promise<string> {
  const r = await request(`${url}/auth/login`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ token }),
  });
  expect(r.status).toBe(204);
  const cookie = r.headers["set-cookie"]?.[0] ?? "";
  return cookie.split(";")[0] as string;
}

function opened(u: Upgrade): asserts u is Extract<Upgrade, { ok: true }> {
  if (!u.ok) throw new Error(`upgrade refused with ${u.status}: ${u.body}`);
}

describe("WebSocket authentication", () => {
  test("/ws and /ws/audit refuse missing and wrong tokens with 401 and accept a bearer token", async () => {
    const s = track(await startSecured(await tempDir(), { readTokens: [READ] }));
    for (const path of ["/ws", "/ws/audit"]) {
      const none = await openWs(s.wsUrl + path);
      expect(none.ok ? 101 : none.status, `${path} without a token`).toBe(401);
      const wrong = await openWs(s.wsUrl + path, { headers: bearer(`${READ}-wrong`) });
      expect(wrong.ok ? 101 : wrong.status, `${path} with a wrong token`).toBe(401);
      const ok = await openWs(s.wsUrl + path, { headers: bearer(READ) });
      opened(ok);
      await closeWs(ok);
    }
    const client = await openWs(`${s.wsUrl}/ws`, { headers: bearer(READ) });
    opened(client);
    client.ws.send(JSON.stringify({ type: "subscribe", stream: "audit", tail: 10 }));
    await waitFor(() => client.messages.some((m) => m.type === "live"), { message: "live" });
    const texts = client.messages.flatMap((m) => (m.type === "lines" ? m.lines.map((l) => l.text) : []));
    expect(texts).toEqual(["[2025-12-17T17:40:37Z] first line", "[2025-12-17T17:40:38Z] second line"]);
    await closeWs(client);
  });

  test("a session cookie opens a WebSocket only together with the page's own Origin", async () => {
    const s = track(await startSecured(await tempDir(), { readTokens: [READ] }));
    const cookie = await signIn(s.url, READ);
    const own = s.url;
    const good = await openWs(`${s.wsUrl}/ws`, { headers: { cookie }, origin: own });
    opened(good);
    await closeWs(good);
    const noOrigin = await openWs(`${s.wsUrl}/ws`, { headers: { cookie } });
    expect(noOrigin.ok ? 101 : noOrigin.status).toBe(403);
    const foreign = await openWs(`${s.wsUrl}/ws`, { headers: { cookie }, origin: "https://evil.example" });
    expect(foreign.ok ? 101 : foreign.status).toBe(403);
    const forged = await openWs(`${s.wsUrl}/ws`, {
      headers: { cookie: "livetrail-session=AAAA" },
      origin: own,
    });
    expect(forged.ok ? 101 : forged.status).toBe(401);
    // Signing out ends the session server-side: the old cookie no longer opens anything.
    await request(`${s.url}/auth/logout`, { method: "POST", headers: { cookie } });
    const after = await openWs(`${s.wsUrl}/ws`, { headers: { cookie }, origin: own });
    expect(after.ok ? 101 : after.status).toBe(401);
  });

  test("query tokens open WebSockets only when enabled", async () => {
    const off = track(await startSecured(await tempDir(), { readTokens: [READ] }));
    const refused = await openWs(`${off.wsUrl}/ws?token=${READ}`);
    expect(refused.ok ? 101 : refused.status).toBe(401);
    const on = track(await startSecured(await tempDir(), { readTokens: [READ], allowQueryToken: true }));
    const wrong = await openWs(`${on.wsUrl}/ws?token=nope-nope-nope-nope`);
    expect(wrong.ok ? 101 : wrong.status).toBe(401);
    const ok = await openWs(`${on.wsUrl}/ws/audit?token=${READ}`);
    opened(ok);
    await closeWs(ok);
  });
});

describe("WebSocket origin check (cross-site WebSocket hijacking)", () => {
  test("a foreign Origin is refused even with a valid token; own and allow-listed origins pass", async () => {
    const s = track(
      await startSecured(await tempDir(), { readTokens: [READ], allowOrigins: ["https://dash.example.com"] }),
    );
    for (const origin of [
      "https://evil.example",
      "null",
      "http://127.0.0.1:1",
      "https://dash.example.com.evil.example",
    ]) {
      const r = await openWs(`${s.wsUrl}/ws`, { headers: bearer(READ), origin });
      expect(r.ok ? 101 : r.status, origin).toBe(403);
    }
    for (const origin of [s.url, "https://dash.example.com", "HTTPS://DASH.example.com:443"]) {
      const r = await openWs(`${s.wsUrl}/ws`, { headers: bearer(READ), origin });
      opened(r);
      await closeWs(r);
    }
  });

  test("without tokens the origin check still guards the WebSocket; non-browser clients (no Origin) pass", async () => {
    const s = track(await startSecured(await tempDir(), {}));
    const foreign = await openWs(`${s.wsUrl}/ws/audit`, { origin: "https://evil.example" });
    expect(foreign.ok ? 101 : foreign.status).toBe(403);
    const rebinding = await openWs(`${s.wsUrl}/ws`, { origin: `http://localhost:${new URL(s.url).port}` });
    expect(rebinding.ok ? 101 : rebinding.status).toBe(403);
    const plain = await openWs(`${s.wsUrl}/ws`);
    opened(plain);
    await closeWs(plain);
    const own = await openWs(`${s.wsUrl}/ws`, { origin: s.url });
    opened(own);
    await closeWs(own);
  });

  test("a tokenless loopback server answers only to loopback Host names by default (DNS rebinding: 421)", async () => {
    const s = track(await startSecured(await tempDir(), {}));
    const port = new URL(s.url).port;
    const rebound = await request(`${s.url}/api/audit`, { headers: { host: `rebind.evil.example:${port}` } });
    expect(rebound.status).toBe(421);
    expect(rebound.body).not.toContain("first line");
    const ws = await openWs(`${s.wsUrl}/ws/audit`, {
      headers: { host: `rebind.evil.example:${port}` },
      origin: `http://rebind.evil.example:${port}`,
    });
    expect(ws.ok ? 101 : ws.status).toBe(421);
    for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, "127.0.0.1", `[::1]:${port}`]) {
      const r = await request(`${s.url}/api/audit`, { headers: { host } });
      expect(r.status, host).toBe(200);
      expect(r.body, host).toContain("first line");
      const own = await openWs(`${s.wsUrl}/ws/audit`, { headers: { host }, origin: `http://${host}` });
      opened(own);
      await closeWs(own);
    }
  });

  test("the loopback default is off with tokens and on other binds; --allowed-host replaces it", async () => {
    const withTokens = track(await startSecured(await tempDir(), { readTokens: [READ] }));
    const named = await request(`${withTokens.url}/api/streams`, {
      headers: { ...bearer(READ), host: "logs.example.com" },
    });
    expect(named.status).toBe(200);
    const listed = track(await startSecured(await tempDir(), { allowedHosts: ["logs.example.com"] }));
    expect(
      (await request(`${listed.url}/api/streams`, { headers: { host: "logs.example.com" } })).status,
    ).toBe(200);
    expect((await request(`${listed.url}/api/streams`, { headers: { host: "localhost" } })).status).toBe(421);
    // Tests listen on loopback only, so the other binds are checked on the resolved options.
    expect(resolveSecurity({}, "0.0.0.0").allowedHosts).toBeNull();
    expect(resolveSecurity({}, "::").allowedHosts).toBeNull();
    expect([...(resolveSecurity({}, "::1").allowedHosts ?? [])].sort()).toEqual([
      "127.0.0.1",
      "[::1]",
      "localhost",
    ]);
    expect(resolveSecurity({}, "127.0.0.2").allowedHosts?.has("127.0.0.2")).toBe(true);
    // Given as an address, an IPv6 host is matched as requests spell it: in brackets.
    const ipv6 = resolveSecurity({ allowedHosts: ["::1", "[::2]", " Logs.Example.com "] }).allowedHosts;
    expect([...(ipv6 ?? [])].sort()).toEqual(["[::1]", "[::2]", "logs.example.com"]);
  });

  test("--allowed-host refuses other Host names (DNS rebinding) with 421", async () => {
    const s = track(await startSecured(await tempDir(), { allowedHosts: ["127.0.0.1"] }));
    expect((await request(`${s.url}/api/streams`)).status).toBe(200);
    const rebound = await request(`${s.url}/api/streams`, { headers: { host: "attacker.example" } });
    expect(rebound.status).toBe(421);
    const ws = await openWs(`${s.wsUrl}/ws`, { headers: { host: "attacker.example" } });
    expect(ws.ok ? 101 : ws.status).toBe(421);
  });
});
