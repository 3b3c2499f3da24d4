import { readdirSync } from "node:fs";
import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { fileURLToPath } from "node:url";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { describe, expect, test } from "vitest";
import { useClosers } from "../helpers/closer.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { makeLines, startServer, writeLines } from "./harness.js";

const tempDir = useTempDirs("livetrail-compress-");
const track = useClosers();
const WEB = fileURLToPath(new URL("../../dist/web/", import.meta.url));

interface Raw {
  status: number;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

function get(url: string, encoding: string): Promise<Raw> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(url, { headers: { "accept-encoding": encoding }, agent: false }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

function decoded(r: Raw): Buffer {
  const encoding = r.headers["content-encoding"];
  if (encoding === "br") return brotliDecompressSync(r.body);
  if (encoding === "gzip") return gunzipSync(r.body);
  if (encoding === undefined) return r.body;
  throw new Error(`unexpected content-encoding ${encoding}`);
}

async function served() {
  const dir = await tempDir();
  const file = dir.file("audit.log");
  // ~3 MB of log text: large enough that /api/audit streams in many chunks.
  await writeLines(file, makeLines(0, 40_000, "compress-me"));
  return track(await startServer([{ name: "audit", file }], { staticDir: WEB }));
}

describe("compression and caching", () => {
  test("page, hashed asset, API JSON and /api/audit decode to the same bytes with br, gzip and none", async () => {
    const s = await served();
    const asset = readdirSync(`${WEB}assets`).find((f) => f.endsWith(".js") && !f.startsWith("filter"));
    const paths = ["/", `/assets/${asset}`, "/api/streams/audit/lines?limit=500", "/api/audit"];
    for (const path of paths) {
      const plain = await get(`${s.url}${path}`, "identity");
      expect(plain.status, path).toBe(200);
      expect(plain.headers["content-encoding"], path).toBeUndefined();
      for (const encoding of ["br", "gzip"]) {
        const r = await get(`${s.url}${path}`, encoding);
        expect(r.status, `${path} ${encoding}`).toBe(200);
        expect(r.headers["content-encoding"], `${path} ${encoding}`).toBe(encoding);
        expect(r.body.length, `${path} ${encoding}`).toBeLessThan(plain.body.length / 2);
        expect(decoded(r).equals(plain.body), `${path} ${encoding}`).toBe(true);
      }
    }
    // /api/audit goes out as it is read and compressed: chunked, never buffered whole to learn its length.
    const audit = await get(`${s.url}/api/audit`, "gzip");
    expect(audit.headers["content-length"]).toBeUndefined();
    expect(audit.headers["transfer-encoding"]).toBe("chunked");
  });

  test("hashed assets are cached as immutable for a year, index.html is revalidated", async () => {
    const s = await served();
    const asset = readdirSync(`${WEB}assets`).find((f) => f.endsWith(".css"));
    for (const encoding of ["br", "identity"]) {
      const a = await get(`${s.url}/assets/${asset}`, encoding);
      expect(a.headers["cache-control"]).toBe("public, max-age=31536000, immutable");
      expect(a.headers.vary).toMatch(/accept-encoding/i);
      expect(a.headers["content-type"]).toMatch(/^text\/css/);
      const page = await get(`${s.url}/`, encoding);
      expect(page.headers["cache-control"]).toBe("no-cache");
    }
  });

  test("Server-Sent Events are never compressed (a compressor would hold events back)", async () => {
    const s = await served();
    const first = await new Promise<{ headers: IncomingHttpHeaders; text: string }>((resolve, reject) => {
      const req = httpRequest(
        `${s.url}/api/streams/audit/events?tail=1`,
        { headers: { "accept-encoding": "br, gzip" }, agent: false },
        (res) => {
          let text = "";
          res.setEncoding("utf8").on("data", (chunk: string) => {
            text += chunk;
            if (text.includes("compress-me")) {
              resolve({ headers: res.headers, text });
              req.destroy();
            }
          });
        },
      );
      req.on("error", (error) => {
        if (!req.destroyed) reject(error);
      });
      req.end();
    });
    expect(first.headers["content-type"]).toMatch(/^text\/event-stream/);
    expect(first.headers["content-encoding"]).toBeUndefined();
    expect(first.text).toContain("compress-me");
  });
});
