import { mkdir, symlink, writeFile } from "node:fs/promises";
import { connect } from "node:net";
import { describe, expect, test } from "vitest";
import { finished, killStrays, start } from "../cli/run-cli.js";
import { useClosers } from "../helpers/closer.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { startServer } from "../server/harness.js";
import { request } from "./http-client.js";
import { bearer, closeWs, openWs, READ, sha256 } from "./security-harness.js";

const tempDir = useTempDirs("livetrail-sec-");
const track = useClosers();
killStrays();

/** Sends a raw request line (no client-side path normalisation) and returns the status code. */
function rawStatus(url: string, path: string): Promise<number> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = connect(Number(port), hostname, () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${hostname}:${port}\r\nConnection: close\r\n\r\n`);
    });
    let data = "";
    socket.setEncoding("utf8");
    socket.on("data", (d: string) => {
      data += d;
    });
    socket.on("end", () => resolve(Number(/^HTTP\/1\.1 (\d{3})/.exec(data)?.[1] ?? 0)));
    socket.on("error", reject);
  });
}

describe("only configured files are ever read", () => {
  test("traversal, absolute paths and symlinks next to the log get 400/404, never the file's content", async () => {
    const dir = await tempDir();
    const web = `${dir.path}/web`;
    await mkdir(web);
    await writeFile(`${web}/index.html`, "<!doctype html><title>t</title>");
    await writeFile(dir.file("secret.txt"), "TOP-SECRET-CONTENT\n");
    await writeFile(dir.file("audit.log"), "[2025-12-17T17:40:37Z] public line\n");
    await symlink(dir.file("secret.txt"), dir.file("link.log"));
    const s = track(await startServer([{ name: "audit", file: dir.file("audit.log") }], { staticDir: web }));
    const paths = [
      "/api/streams/..%2Fsecret.txt/lines",
      "/api/streams/..%2F..%2F..%2Fetc%2Fpasswd/lines",
      "/api/streams/%2Fetc%2Fpasswd/lines",
      "/api/streams/link.log/lines",
      "/api/streams/secret.txt/search?q=SECRET",
      "/api/streams/audit%00/lines",
      "/api/streams/.../lines",
      "/api/streams/link.log/events",
      "/../secret.txt",
      "/..%2Fsecret.txt",
      "/%2e%2e/%2e%2e/etc/passwd",
      "/%2e%2e%2fsecret.txt",
      "/..\\secret.txt",
      "/web/../secret.txt",
      "//etc/passwd",
      "/etc/passwd",
    ];
    for (const path of paths) {
      const status = await rawStatus(s.url, path);
      expect([400, 403, 404], path).toContain(status);
      const r = await request(s.url + path).catch(() => null);
      if (r !== null) expect(r.body, path).not.toMatch(/TOP-SECRET|root:/);
    }
    // Stream names on the WebSocket are names too, never paths.
    const ws = await openWs(`${s.wsUrl}/ws`);
    if (!ws.ok) throw new Error("refused");
    for (const stream of ["../secret.txt", "/etc/passwd", "link.log", "audit/../secret.txt"]) {
      ws.ws.send(JSON.stringify({ type: "subscribe", stream, id: stream }));
    }
    await waitFor(() => ws.messages.filter((m) => m.type === "error").length === 4, {
      message: "four errors",
    });
    expect(ws.messages.filter((m) => m.type === "error").map((m) => (m as { code: string }).code)).toEqual(
      Array(4).fill("unknown_stream"),
    );
    expect(JSON.stringify(ws.messages)).not.toContain("TOP-SECRET");
    await closeWs(ws);
  });
});

describe("tokens never reach the logs", () => {
  test("with request logging on, bearer, query and sign-in tokens (right or wrong) are not written", async () => {
    const dir = await tempDir();
    await writeFile(dir.file("audit.log"), "[2025-12-17T17:40:37Z] hello\n");
    const wrong = "wrong-token-value-that-must-not-appear";
    const script = `
      const { createServer } = await import(${JSON.stringify(new URL("../../dist/server/app.js", import.meta.url).href)});
      const s = createServer({ streams: [{ name: "audit", file: ${JSON.stringify(dir.file("audit.log"))} }], port: 0,
        staticDir: null, logger: { level: "trace" }, security: { readTokens: [${JSON.stringify(READ)}], allowQueryToken: true } });
      const a = await s.listen();
      process.stderr.write("URL " + a.url + "\\n");
      process.stdin.on("data", () => s.close().then(() => process.exit(0)));`;
    const child = start(process.execPath, ["--input-type=module", "-e", script]);
    const output = finished(child, 60_000);
    let err = "";
    child.stderr?.on("data", (d: Buffer) => {
      err += d.toString();
    });
    const url = await waitFor(() => /URL (\S+)/.exec(err)?.[1], {
      timeoutMs: 30_000,
      message: "the server URL",
    });
    await request(`${url}/api/streams`, { headers: bearer(READ) });
    await request(`${url}/api/streams`, { headers: bearer(wrong) });
    await request(`${url}/api/streams/audit/events?token=${wrong}`);
    // Spellings the query parser decodes to `token` (or that only look like it) are redacted just the same.
    await request(`${url}/api/streams/audit/events?%74oken=${wrong}`);
    await request(`${url}/api/streams/audit/events?q=1;token=${wrong}`);
    const encoded = await openWs(`${url.replace("http", "ws")}/ws?%74oken=${READ}`);
    expect(encoded.ok).toBe(true); // the server does take the encoded key as `token`
    await closeWs(encoded);
    await request(`${url}/auth/login`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ token: wrong }),
    });
    const ws = await openWs(`${url.replace("http", "ws")}/ws?token=${READ}`);
    await closeWs(ws);
    child.stdin?.write("stop\n");
    const result = await output;
    expect(result.stdout).toContain('"msg":"request"'); // logging was really on (one line per request)
    expect(result.stdout).toContain("/api/streams/audit/events?[redacted]");
    expect(result.stdout).toContain("/ws?[redacted]");
    expect(result.stdout + result.stderr).not.toContain(READ);
    expect(result.stdout + result.stderr).not.toContain(wrong);
  });
});

describe("the server never writes to the log", () => {
  test("reads, searches, streams and refused writes leave the file byte-for-byte unchanged", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await writeFile(file, "[2025-12-17T17:40:37Z] a\n[2025-12-17T17:40:38Z] b\npartial no newline");
    const hash = await sha256(file);
    const s = track(await startServer([{ name: "audit", file }], { security: { readTokens: [READ] } }));
    const h = bearer(READ);
    await request(`${s.url}/api/streams/audit/lines?after=start`, { headers: h });
    await request(`${s.url}/api/streams/audit/search?q=a&regex=1`, { headers: h });
    await request(`${s.url}/api/audit`, { headers: h });
    await request(`${s.url}/api/streams/audit/entries`, { method: "POST", headers: h, body: "{}" });
    const ws = await openWs(`${s.wsUrl}/ws`, { headers: h });
    if (!ws.ok) throw new Error("refused");
    ws.ws.send(JSON.stringify({ type: "subscribe", stream: "audit", tail: 100 }));
    await waitFor(() => ws.messages.some((m) => m.type === "live"), { message: "live" });
    await closeWs(ws);
    expect(await sha256(file)).toBe(hash);
    expect(await rawStatus(s.url, "/healthz")).toBe(200);
  });
});

describe("no answer carries a server path", () => {
  test("an I/O failure is io_error naming the OS error; cursor errors name no file", async () => {
    const dir = await tempDir();
    const odd = dir.file("a-directory.log");
    await mkdir(odd);
    const file = dir.file("audit.log");
    await writeFile(file, "[2025-12-17T17:40:37Z] one\n[2025-12-17T17:40:38Z] two\n");
    const { url } = track(
      await startServer(
        [
          { name: "audit", file },
          { name: "odd", file: odd },
        ],
        { logger: false },
      ),
    );
    const answers: { status: number; body: string }[] = [];
    for (const path of [
      "/api/streams/odd/lines",
      "/api/streams/odd/lines?after=start",
      "/api/audit",
      // A well-formed cursor of audit.log that is not at a line boundary, and one of another file.
      "/api/streams/audit/lines?after=",
    ]) {
      let target = path;
      if (path.endsWith("after=")) {
        const page = (await (await fetch(`${url}/api/streams/audit/lines?limit=1`)).json()) as {
          lines: { c: string }[];
        };
        const c = page.lines[0]?.c as string;
        const parts = c.split(".");
        parts[3] = "1";
        target = `${path}${encodeURIComponent(parts.join("."))}`;
      }
      const res = await fetch(`${url}${target}`);
      answers.push({ status: res.status, body: await res.text() });
    }
    for (const { body } of answers) {
      expect(body).not.toContain(dir.path);
      expect(body).not.toMatch(/\/tmp\/|at .*\.js:\d+/);
    }
    expect(answers[0]?.status).toBe(500);
    expect(JSON.parse(answers[0]?.body as string)).toMatchObject({ error: "io_error" });
    expect(JSON.parse(answers[0]?.body as string).message).toContain("EISDIR");
    expect(answers[3]?.status).toBe(400);
    expect(JSON.parse(answers[3]?.body as string)).toMatchObject({ error: "bad_cursor" });
  });
});
