import { describe, expect, test } from "vitest";
import { useClosers } from "../helpers/closer.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { request } from "./http-client.js";
import { closeWs, openWs, READ, startSecured } from "./security-harness.js";

const tempDir = useTempDirs("livetrail-sec-");
const track = useClosers();

describe("behind a trusted reverse proxy", () => {
  test("forwarded client addresses are limited one by one; forwarded headers from untrusted peers are ignored", async () => {
    const proxied = track(
      await startSecured(await tempDir(), {
        trustedProxies: ["127.0.0.1"],
        httpPerMinute: 2,
        rateWindowMs: 60_000,
      }),
    );
    const as = (client: string) =>
      request(`${proxied.url}/api/streams`, { headers: { "x-forwarded-for": client } });
    const first = [await as("203.0.113.7"), await as("203.0.113.7"), await as("203.0.113.7")].map(
      (r) => r.status,
    );
    expect(first).toEqual([200, 200, 429]);
    expect((await as("198.51.100.9")).status).toBe(200); // another client behind the same proxy
    // Without a forwarded address the request is the proxy's own (loopback): exempt.
    for (let i = 0; i < 4; i++) expect((await request(`${proxied.url}/api/streams`)).status).toBe(200);

    const direct = track(await startSecured(await tempDir(), { httpPerMinute: 2, rateWindowMs: 60_000 }));
    // Not a trusted proxy: X-Forwarded-For cannot make a loopback client look remote (or a remote one local).
    for (let i = 0; i < 4; i++) {
      const r = await request(`${direct.url}/api/streams`, { headers: { "x-forwarded-for": "203.0.113.7" } });
      expect(r.status).toBe(200);
    }
  });

  test("X-Forwarded-Proto https from the proxy gives a Secure __Host- cookie and an https own origin", async () => {
    const s = track(
      await startSecured(await tempDir(), { readTokens: [READ], trustedProxies: ["127.0.0.1"] }),
    );
    const host = new URL(s.url).host;
    const forwarded = { "x-forwarded-proto": "https", "x-forwarded-host": "logs.example.com" };
    const login = await request(`${s.url}/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json", origin: "https://logs.example.com", ...forwarded },
      body: JSON.stringify({ token: READ }),
    });
    expect(login.status).toBe(204);
    const setCookie = login.headers["set-cookie"]?.[0] ?? "";
    expect(setCookie).toMatch(/^__Host-livetrail-session=/);
    expect(setCookie).toContain("Secure");
    const cookie = setCookie.split(";")[0] as string;
    const ok = await openWs(`${s.wsUrl}/ws`, {
      headers: { cookie, ...forwarded },
      origin: "https://logs.example.com",
    });
    expect(ok.ok).toBe(true);
    await closeWs(ok);
    // Over the proxy the http:// origin of the same host is another origin.
    const downgrade = await openWs(`${s.wsUrl}/ws`, {
      headers: { cookie, ...forwarded },
      origin: "http://logs.example.com",
    });
    expect(downgrade.ok ? 101 : downgrade.status).toBe(403);
    // Without the proxy headers the server's own origin is the address the client used.
    const local = await openWs(`${s.wsUrl}/ws`, { headers: { cookie }, origin: `http://${host}` });
    expect(local.ok).toBe(true);
    await closeWs(local);
  });
});
