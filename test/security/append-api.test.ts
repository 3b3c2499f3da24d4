import { appendFile, readFile } from "node:fs/promises";
import { describe, expect, test } from "vitest";
import { canMount, type TinyFs, useTinyFs } from "../append/tiny-fs.js";
import { useClosers } from "../helpers/closer.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { startServer } from "../server/harness.js";
import { request } from "./http-client.js";
import { bearer, READ, sha256, startSecured, WRITE } from "./security-harness.js";

const tempDir = useTempDirs("livetrail-sec-");
// Before useClosers: after each test the servers close first, then the file systems are unmounted.
const tinyFs = useTinyFs();
const track = useClosers();

const post = (url: string, body: string, headers: Record<string, string> = bearer(WRITE)) =>
  request(`${url}/api/streams/audit/entries`, {
    method: "POST",
    headers: { "content-type": "application/json", ...headers },
    body,
  });

const STAMP = /^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\] /;

describe("POST /api/streams/:name/entries", () => {
  test("a write token appends one line per entry through the appender; levels and categories as `log` writes them", async () => {
    const s = track(await startSecured(await tempDir(), { readTokens: [READ], writeTokens: [WRITE] }));
    const before = await readFile(s.file, "utf8");
    const one = await post(s.url, JSON.stringify({ message: "Restarted Grafana", level: "ok" }));
    expect(one.status).toBe(201);
    expect(one.json()).toMatchObject({ stream: "audit", entries: 1 });
    const many = await post(
      s.url,
      JSON.stringify({
        entries: [{ message: "a" }, { message: "b", level: "error", category: "db" }],
        level: "warn",
      }),
    );
    expect(many.status).toBe(201);
    const added = (await readFile(s.file, "utf8")).slice(before.length).split("\n").slice(0, -1);
    expect(added.map((l) => l.replace(STAMP, ""))).toEqual([
      "OK: Restarted Grafana",
      "WARN: a",
      "ERROR: db: b",
    ]);
    expect((await readFile(s.file, "utf8")).startsWith(before)).toBe(true);
  });

  test("an entry starts on its own line when the file ends with a foreign unterminated line", async () => {
    const s = track(await startSecured(await tempDir(), { writeTokens: [WRITE] }));
    await appendFile(s.file, "foreign partial");
    const before = await readFile(s.file, "utf8");
    const r = await post(s.url, JSON.stringify({ entries: [{ message: "a" }, { message: "b" }] }));
    expect(r.status).toBe(201);
    const added = (await readFile(s.file, "utf8")).slice(before.length);
    expect(r.json()).toMatchObject({ entries: 2, bytes: Buffer.byteLength(added) });
    expect(added.startsWith("\n")).toBe(true);
    expect(
      added
        .slice(1)
        .split("\n")
        .map((l) => l.replace(STAMP, "")),
    ).toEqual(["a", "b", ""]);
  });

  test("the server stamps every entry: a client-sent time (or any other unknown field) cannot back-date it", async () => {
    const s = track(await startSecured(await tempDir(), { writeTokens: [WRITE] }));
    const before = await readFile(s.file, "utf8");
    for (const time of ['"2020-01-01T00:00:00Z"', "0", "{}"]) {
      const body = `{"entries":[{"message":"stamped here","time":${time}}]}`;
      expect((await post(s.url, body)).status).toBe(201);
    }
    const added = (await readFile(s.file, "utf8")).slice(before.length).split("\n").slice(0, -1);
    expect(added).toHaveLength(3);
    for (const line of added) {
      expect(line).toMatch(/^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\] stamped here$/);
      expect(line.startsWith("[2020-")).toBe(false);
    }
  });

  test("multi-line and control-character injections become one visibly escaped line", async () => {
    const s = track(await startSecured(await tempDir(), { writeTokens: [WRITE] }));
    const before = await readFile(s.file, "utf8");
    const evil = "ok\n[2025-01-01T00:00:00Z] forged admin login\r\u001b[2J\u0000\u2028end\u202e";
    expect((await post(s.url, JSON.stringify({ message: evil }))).status).toBe(201);
    const added = (await readFile(s.file, "utf8")).slice(before.length);
    expect(added.split("\n")).toHaveLength(2); // one line and the final newline
    expect(added.replace(STAMP, "")).toBe(
      "ok\\n[2025-01-01T00:00:00Z] forged admin login\\r\\x1b[2J\\x00\\u2028end\\u202e\n",
    );
  });

  test("read tokens and missing tokens cannot write, and the file stays byte-for-byte unchanged", async () => {
    const s = track(await startSecured(await tempDir(), { readTokens: [READ], writeTokens: [WRITE] }));
    const hash = await sha256(s.file);
    const read = await post(s.url, JSON.stringify({ message: "x" }), bearer(READ));
    expect(read.status).toBe(403);
    expect(read.json()).toMatchObject({ error: "forbidden" });
    expect((await post(s.url, JSON.stringify({ message: "x" }), {})).status).toBe(401);
    expect((await post(s.url, JSON.stringify({ message: "x" }), bearer(`${WRITE}x`))).status).toBe(401);
    expect(await sha256(s.file)).toBe(hash);
  });

  test("oversized, malformed and invalid bodies are refused with clear codes and write nothing", async () => {
    const s = track(
      await startSecured(await tempDir(), {
        writeTokens: [WRITE],
        maxBodyBytes: 200_000,
        maxEntriesPerRequest: 5,
      }),
    );
    const hash = await sha256(s.file);
    const cases: [string, number, string][] = [
      [JSON.stringify({ message: "x".repeat(70_000) }), 413, "entry_too_large"],
      [JSON.stringify({ message: "y".repeat(300_000) }), 413, "body_too_large"],
      ["{not json", 400, "bad_json"],
      [JSON.stringify({ message: 42 }), 400, "bad_request"],
      [JSON.stringify({ message: ["a"] }), 400, "bad_request"],
      [JSON.stringify({ message: "" }), 400, "bad_request"],
      [JSON.stringify({ message: "   " }), 400, "empty_message"],
      [JSON.stringify({ message: "a", level: "fatal" }), 400, "bad_request"],
      [JSON.stringify({ message: "a", category: "two words" }), 400, "bad_request"],
      [JSON.stringify({}), 400, "bad_request"],
      [JSON.stringify({ message: "a", entries: [{ message: "b" }] }), 400, "bad_request"],
      [JSON.stringify({ entries: [] }), 400, "bad_request"],
      [JSON.stringify({ entries: Array.from({ length: 6 }, () => ({ message: "m" })) }), 400, "bad_request"],
      // One bad entry among good ones: nothing is written.
      [
        JSON.stringify({ entries: [{ message: "fine" }, { message: "z".repeat(70_000) }] }),
        413,
        "entry_too_large",
      ],
      ["[".repeat(10_000), 400, "bad_json"],
    ];
    for (const [body, status, code] of cases) {
      const r = await post(s.url, body);
      expect(r.status, body.slice(0, 50)).toBe(status);
      expect(r.json<{ error: string }>().error, body.slice(0, 50)).toBe(code);
    }
    const text = await request(`${s.url}/api/streams/audit/entries`, {
      method: "POST",
      headers: { "content-type": "text/plain", ...bearer(WRITE) },
      body: "hello",
    });
    expect(text.status).toBe(415);
    expect(await sha256(s.file)).toBe(hash);
    expect((await request(`${s.url}/healthz`)).status).toBe(200);
  });

  test("only configured streams can be written: names never become paths", async () => {
    const dir = await tempDir();
    const s = track(await startSecured(dir, { writeTokens: [WRITE] }));
    const hash = await sha256(s.file);
    for (const name of [
      "..%2Faudit.log",
      "%2Fetc%2Fpasswd",
      "audit.log",
      "..",
      "%2e%2e",
      "audit%00",
      "AUDIT",
    ]) {
      const r = await request(`${s.url}/api/streams/${name}/entries`, {
        method: "POST",
        headers: { "content-type": "application/json", ...bearer(WRITE) },
        body: JSON.stringify({ message: "x" }),
      });
      expect([400, 404], name).toContain(r.status);
    }
    expect(await sha256(s.file)).toBe(hash);
    const { readdir } = await import("node:fs/promises");
    expect(await readdir(dir.path)).toEqual(["audit.log"]);
  });
});

/** startSecured's server, its file on a tiny file system, padded with whole lines to `size` bytes. */
async function onTinyFs(fs: TinyFs, size: number) {
  const s = track(await startSecured({ ...fs, remove: async () => {} }, { writeTokens: [WRITE] }));
  const have = (await readFile(s.file)).length;
  await appendFile(s.file, `[2025-12-17T17:40:39Z] ${"p".repeat(size - have - 24)}\n`);
  expect((await readFile(s.file)).length).toBe(size);
  return s;
}

const STAMPED = /^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\] [^\n]*\n$/;

describe.skipIf(!canMount)("POST /api/streams/:name/entries when the write fails (a real tmpfs)", () => {
  test("a full disk answers 507 disk_full, the cut entry is taken out again, and the next entry is whole", async () => {
    const fs = await tinyFs("64k");
    const s = await onTinyFs(fs, 4096 - 40);
    await fs.fill();
    const before = await readFile(s.file);
    const r = await post(s.url, JSON.stringify({ message: `does not fit ${"d".repeat(100)}` }));
    expect(r.status).toBe(507);
    expect(r.json()).toEqual({
      error: "disk_full",
      message:
        "not written: disk full or file size limit: only 40 of 137 bytes could be written; " +
        "the cut entry was removed again, the file is as it was",
    });
    expect((await readFile(s.file)).equals(before)).toBe(true);

    // Nothing fits at all now that the page is full: ENOSPC from write(2), also 507.
    await appendFile(s.file, `${"q".repeat(39)}\n`);
    const full = await readFile(s.file);
    const none = await post(s.url, JSON.stringify({ message: "x" }));
    expect(none.status).toBe(507);
    expect(none.json()).toMatchObject({ error: "disk_full", message: expect.stringContaining("(ENOSPC)") });
    expect((await readFile(s.file)).equals(full)).toBe(true);

    await fs.free();
    const ok = await post(s.url, JSON.stringify({ message: "after freeing space" }));
    expect(ok.status).toBe(201);
    const added = (await readFile(s.file)).subarray(full.length).toString();
    expect(added).toMatch(STAMPED);
    expect(added).toContain("] after freeing space\n");
  });

  test("a read-only file system answers 500 write_failed and names no path", async () => {
    const fs = await tinyFs("64k");
    const s = await onTinyFs(fs, 1000);
    const before = await sha256(s.file);
    await fs.remount("ro");
    const r = await post(s.url, JSON.stringify({ message: "x" }));
    expect(r.status).toBe(500);
    expect(r.json()).toEqual({
      error: "write_failed",
      message:
        "not written: the stream's file could not be opened for appending (EROFS); nothing was written",
    });
    expect(r.body).not.toContain(fs.path);
    expect(await sha256(s.file)).toBe(before);
  });

  test("a file that refuses writes (/proc/version: EIO) answers 500 write_failed", async () => {
    const s = track(
      await startServer([{ name: "audit", file: "/proc/version" }], { security: { writeTokens: [WRITE] } }),
    );
    const r = await post(s.url, JSON.stringify({ message: "x" }));
    expect(r.status).toBe(500);
    expect(r.json()).toEqual({
      error: "write_failed",
      message: "not written: input/output error (EIO); nothing was written",
    });
  });
});
