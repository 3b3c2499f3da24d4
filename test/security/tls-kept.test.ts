import { X509Certificate } from "node:crypto";
import { readFile, stat, writeFile } from "node:fs/promises";
import { connect as connectTcp } from "node:net";
import { connect } from "node:tls";
import { describe, expect, test } from "vitest";
import { TlsMaterial } from "../../src/server/security/tls-material.js";
import { RENEW_BEFORE_MS, SELF_SIGNED_VALIDITY_MS } from "../../src/server/security/tls-store.js";
import { killStrays } from "../cli/run-cli.js";
import { startServe, stopServe } from "../cli/serve-child.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";

const tempDir = useTempDirs("livetrail-tls-kept-");
killStrays();

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

/** What a plain-HTTP client gets back from `url`'s port (raw bytes until the server closes). */
function plainHttpAnswer(url: string): Promise<string> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connectTcp({ host: hostname, port: Number(port) }, () => {
      socket.write(`GET /api/streams HTTP/1.1\r\nHost: ${hostname}:${port}\r\n\r\n`);
    });
    let text = "";
    socket.setEncoding("utf8").on("data", (d: string) => {
      text += d;
    });
    socket.on("end", () => resolve(text));
    socket.on("error", reject);
  });
}

describe("--tls-self-signed keeps its certificate", () => {
  test("a restarted server presents the same certificate, kept 0600 in --state-dir; plain HTTP gets a 400 that says so", async () => {
    const dir = await tempDir();
    await writeFile(dir.file("audit.log"), "[2025-12-17T17:40:37Z] hello\n");
    const args = [dir.file("audit.log"), "--tls-self-signed", "--state-dir", dir.file("state")];
    const first = await startServe(args, {});
    let fingerprint: string;
    try {
      fingerprint = await peerFingerprint(first.url);
      const kept = `SHA-256 ${fingerprint} (kept in ${dir.file("state/tls/self-signed-cert.pem")})`;
      await waitFor(() => first.stderr().includes(kept), { message: `stderr to say ${kept}` });
      const answer = await plainHttpAnswer(first.url);
      expect(answer).toMatch(/^HTTP\/1\.1 400 /);
      expect(answer).toContain("use https://");
    } finally {
      await stopServe(first.child);
    }
    expect((await stat(dir.file("state/tls/self-signed-key.pem"))).mode & 0o777).toBe(0o600);
    expect((await stat(dir.file("state/tls/self-signed-cert.pem"))).mode & 0o777).toBe(0o600);
    expect((await stat(dir.file("state/tls"))).mode & 0o777).toBe(0o700);

    const second = await startServe(args, {});
    try {
      expect(await peerFingerprint(second.url)).toBe(fingerprint);
      await waitFor(() => second.stderr().includes("(reused from "), { message: "stderr to say reused" });
    } finally {
      await stopServe(second.child);
    }
  });

  test("without --state-dir it is kept under $XDG_STATE_HOME/livetrail", async () => {
    const dir = await tempDir();
    await writeFile(dir.file("audit.log"), "[2025-12-17T17:40:37Z] hello\n");
    const { child, url } = await startServe([dir.file("audit.log"), "--tls-self-signed"], {
      XDG_STATE_HOME: dir.path,
    });
    try {
      const kept = new X509Certificate(
        await readFile(dir.file("livetrail/tls/self-signed-cert.pem"), "utf8"),
      );
      expect(await peerFingerprint(url)).toBe(kept.fingerprint256);
    } finally {
      await stopServe(child);
    }
  });

  test("it is reused until less than 30 days are left, then replaced (injected clock)", async () => {
    const dir = await tempDir();
    const start = Date.now();
    const load = async (at: number) => {
      const tls = new TlsMaterial({ selfSigned: true, dir: dir.path, now: () => at });
      await tls.load();
      return { fingerprint: tls.fingerprint(), reused: tls.kept?.reused };
    };
    const made = await load(start);
    expect(made.reused).toBe(false);
    const nearlyDue = start + SELF_SIGNED_VALIDITY_MS - RENEW_BEFORE_MS - 60 * 60 * 1000;
    expect(await load(nearlyDue)).toEqual({ fingerprint: made.fingerprint, reused: true });
    const due = start + SELF_SIGNED_VALIDITY_MS - RENEW_BEFORE_MS + 60 * 60 * 1000;
    const renewed = await load(due);
    expect(renewed.reused).toBe(false);
    expect(renewed.fingerprint).not.toBe(made.fingerprint);
    expect(await load(due)).toEqual({ fingerprint: renewed.fingerprint, reused: true });
  });

  test("a kept pair that is damaged or names other hosts is replaced, not served", async () => {
    const dir = await tempDir();
    const first = new TlsMaterial({ selfSigned: true, dir: dir.path });
    await first.load();
    const other = new TlsMaterial({ selfSigned: true, dir: dir.path, hosts: ["logs.example.test"] });
    await other.load();
    expect(other.kept?.reused).toBe(false);
    expect(new X509Certificate(other.cert ?? "").checkHost("logs.example.test")).toBe("logs.example.test");
    await writeFile(dir.file("tls/self-signed-key.pem"), "not a key\n");
    const repaired = new TlsMaterial({ selfSigned: true, dir: dir.path, hosts: ["logs.example.test"] });
    await repaired.load();
    expect(repaired.kept?.reused).toBe(false);
    expect(repaired.fingerprint()).not.toBe(other.fingerprint());
  });
});
