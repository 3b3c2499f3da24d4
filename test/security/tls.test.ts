import { X509Certificate } from "node:crypto";
import { writeFile } from "node:fs/promises";
import { connect } from "node:tls";
import { generate } from "selfsigned";
import { describe, expect, test } from "vitest";
import { createServer } from "../../src/server/app.js";
import { CLI, finished, killStrays, start } from "../cli/run-cli.js";
import { startServe, stopServe } from "../cli/serve-child.js";
import { useClosers } from "../helpers/closer.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { request } from "./http-client.js";
import { bearer, closeWs, openWs, READ, startSecured } from "./security-harness.js";

const tempDir = useTempDirs("livetrail-sec-");
const track = useClosers();
killStrays();

/** Starts `livetrail serve ...` and resolves with its URL and what it printed so far. */
/** The SHA-256 fingerprint of the certificate a TLS server presents. */
function peerFingerprint(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect({ host: hostname, port: Number(port), rejectUnauthorized: false }, () => {
      resolve(socket.getPeerX509Certificate()?.fingerprint256 ?? "");
      socket.end();
    });
    socket.on("error", reject);
  });
}

describe("TLS", () => {
  test("a self-signed server speaks HTTPS and WSS to clients that trust its certificate, and nothing else", async () => {
    const s = track(await startSecured(await tempDir(), { readTokens: [READ], tls: { selfSigned: true } }));
    expect(s.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+$/);
    const ca = s.server.options.security.tls?.cert ?? "";
    expect(ca).toContain("BEGIN CERTIFICATE");
    const names = new X509Certificate(ca).subjectAltName ?? "";
    expect(names).toContain("DNS:localhost");
    expect(names).toContain("IP Address:127.0.0.1");

    const ok = await request(`${s.url}/api/streams`, { ca, headers: bearer(READ) });
    expect(ok.status).toBe(200);
    expect(ok.headers["strict-transport-security"]).toBeUndefined(); // never HSTS for a self-signed quick start
    await expect(request(`${s.url}/api/streams`)).rejects.toThrow(/self[- ]signed/i);
    // Plain HTTP to the HTTPS port gets a clear answer, not an empty reply.
    const plain = await request(`${s.url.replace("https", "http")}/api/streams`);
    expect(plain.status).toBe(400);
    expect(plain.body).toContain("use https://");

    const wss = await openWs(`${s.wsUrl}/ws`, { ca, headers: bearer(READ) });
    if (!wss.ok) throw new Error(`wss refused ${wss.status}`);
    expect(s.wsUrl).toMatch(/^wss:/);
    wss.ws.send(JSON.stringify({ type: "subscribe", stream: "audit", tail: 1 }));
    await waitFor(() => wss.messages.some((m) => m.type === "lines"), { message: "lines over WSS" });
    await closeWs(wss);
    const unauth = await openWs(`${s.wsUrl}/ws`, { ca });
    expect(unauth.ok ? 101 : unauth.status).toBe(401);
  });

  test("unusable certificate material is an options error, not a failed handshake later", async () => {
    expect(() =>
      createServer({
        streams: [{ name: "a", file: "/nonexistent" }],
        security: { tls: { cert: "junk", key: "junk" } },
      }),
    ).toThrow(/unusable TLS certificate or key/);
  });

  test("livetrail serve --tls-cert/--tls-key serves HTTPS with HSTS; tokens come from the environment", async () => {
    const dir = await tempDir();
    const made = await generate([{ name: "commonName", value: "test" }], {
      keyType: "ec",
      curve: "P-256",
      extensions: [{ name: "subjectAltName", altNames: [{ type: 7, ip: "127.0.0.1" }] }],
    });
    await writeFile(dir.file("cert.pem"), made.cert);
    await writeFile(dir.file("key.pem"), made.private, { mode: 0o600 });
    await writeFile(dir.file("audit.log"), "[2025-12-17T17:40:37Z] hello\n");
    const { child, url } = await startServe(
      [dir.file("audit.log"), "--tls-cert", dir.file("cert.pem"), "--tls-key", dir.file("key.pem")],
      { LIVETRAIL_READ_TOKENS: `${READ},other-token-000000000000` },
    );
    try {
      expect(url).toMatch(/^https:/);
      expect((await request(`${url}/api/streams`, { ca: made.cert })).status).toBe(401);
      const ok = await request(`${url}/api/streams`, { ca: made.cert, headers: bearer(READ) });
      expect(ok.status).toBe(200);
      expect(ok.headers["strict-transport-security"]).toMatch(/max-age=\d+/);
      expect(await peerFingerprint(url)).toBe(new X509Certificate(made.cert).fingerprint256);
    } finally {
      await stopServe(child);
    }
  });

  test("livetrail serve --tls-self-signed prints the fingerprint of the certificate it presents", async () => {
    const dir = await tempDir();
    await writeFile(dir.file("audit.log"), "[2025-12-17T17:40:37Z] hello\n");
    // Its key is kept under $XDG_STATE_HOME/livetrail: a temp one, not the user's.
    const { child, url, stderr } = await startServe([dir.file("audit.log"), "--tls-self-signed"], {
      XDG_STATE_HOME: dir.path,
    });
    try {
      const printed = await waitFor(() => /certificate SHA-256 ([0-9A-F:]{95})/.exec(stderr())?.[1], {
        message: "the fingerprint on stderr",
      });
      expect(await peerFingerprint(url)).toBe(printed);
    } finally {
      await stopServe(child);
    }
  });

  test("serve refuses half or conflicting TLS settings and short tokens with a usage error (exit 2)", async () => {
    const dir = await tempDir();
    for (const args of [
      ["--tls-cert", dir.file("c.pem")],
      ["--tls-self-signed", "--tls-key", dir.file("k.pem"), "--tls-cert", dir.file("c.pem")],
      ["--read-token", "tiny-token"],
    ]) {
      const result = await finished(
        start(process.execPath, [CLI, "serve", dir.file("a.log"), "--port", "0", ...args]),
      );
      expect(result.code, args.join(" ")).toBe(2);
      expect(result.stderr).toMatch(/^livetrail: /);
      expect(result.stderr).not.toContain("tiny-token");
    }
  });
});
