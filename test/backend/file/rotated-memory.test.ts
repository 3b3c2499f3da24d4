import { createWriteStream } from "node:fs";
import { stat, writeFile } from "node:fs/promises";
import { pipeline } from "node:stream/promises";
import { createGzip } from "node:zlib";
import { describe, expect, it } from "vitest";
import { FileBackend } from "../../../src/backend/file/file-backend.js";
import { useTempDirs } from "../../helpers/temp-dir.js";

const tempDir = useTempDirs("livetrail-rotated-memory-");

const UNCOMPRESSED_BYTES = 50 * 1024 * 1024;

/** Writes ~50 MB of entries through gzip, a chunk at a time, so the test itself never holds the file. */
async function writeLargeGz(path: string): Promise<number> {
  let lines = 0;
  async function* chunks() {
    let bytes = 0;
    const t0 = Date.UTC(2026, 0, 1);
    while (bytes < UNCOMPRESSED_BYTES) {
      let chunk = "";
      for (let i = 0; i < 2000; i++, lines++) {
        chunk += `[${new Date(t0 + lines * 10).toISOString().slice(0, 19)}Z] INFO: request ${lines} served by worker ${lines % 17} in ${lines % 97} ms\n`;
      }
      bytes += Buffer.byteLength(chunk);
      yield chunk;
    }
  }
  await pipeline(chunks(), createGzip(), createWriteStream(path));
  return lines;
}

/** The highest RSS seen while `work` runs (sampled every 2 ms), minus the RSS before it. */
async function rssGrowth(work: () => Promise<unknown>): Promise<number> {
  const before = process.memoryUsage.rss();
  let peak = before;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage.rss());
  }, 2);
  try {
    await work();
  } finally {
    clearInterval(sampler);
  }
  return Math.max(peak, process.memoryUsage.rss()) - before;
}

describe("a large .gz in the history", () => {
  it("is paged, sought and searched with memory far below its uncompressed size", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    const lines = await writeLargeGz(`${file}.1.gz`);
    await writeFile(file, "[2027-01-01T00:00:00Z] current\n");
    const backend = new FileBackend("audit", file);
    const growth: Record<string, number> = {};

    // The end of the .gz: the whole file inflated to find its last lines.
    const head = await backend.readAfter(null, 1);
    expect(head.lines[0]?.text).toMatch(/request 0 /);
    const pageBack = async () => {
      const page = await backend.readBefore(backend.cursorBefore(head.lines[0] as never), 1);
      expect(page.lines).toEqual([]);
      const tail = await backend.tail(1);
      const last = await backend.readBefore(backend.cursorBefore(tail.lines[0] as never), 200);
      expect(last.lines).toHaveLength(200);
      expect(last.lines.at(-1)?.text).toMatch(new RegExp(`request ${lines - 1} `));
    };
    // The first inflate of a process settles the allocator at a plateau that does not depend on the file's size
    // (peak RSS growth of one full pass, measured standalone: 10 MB file 10.7 MB, 50 MB 19.3 MB, 200 MB 15.2 MB);
    // what is checked is the growth of each operation beyond it.
    growth.firstPass = await rssGrowth(pageBack);
    growth.pageBack = await rssGrowth(pageBack);
    growth.seek = await rssGrowth(async () => {
      // Entries carry whole seconds: the second of the 300th line from the end.
      const second = Math.floor(((lines - 300) * 10) / 1000) * 1000;
      const near = await backend.seek(Date.UTC(2026, 0, 1) + second, 1);
      expect(near.lines[0]?.text).toMatch(new RegExp(`request ${second / 10} `));
    });
    // A search runs in a worker thread, whose own start costs RSS whatever it reads: measured on a one-line file.
    const small = await tempDir();
    await writeFile(small.file("small.log"), "[2027-01-01T00:00:00Z] current\n");
    const plain = new FileBackend("small", small.file("small.log"));
    growth.searchOneLine = await rssGrowth(() =>
      plain.search({ q: "current", regex: false, caseSensitive: true, limit: 10, timeoutMs: 60_000 }),
    );
    growth.search = await rssGrowth(async () => {
      const found = await backend.search({
        q: `request ${lines - 1} `,
        regex: false,
        caseSensitive: true,
        limit: 10,
        timeoutMs: 60_000,
      });
      expect(found.matches).toHaveLength(1);
    });
    const size = (await stat(`${file}.1.gz`)).size;
    console.log(
      `50 MB uncompressed (${(size / 1e6).toFixed(1)} MB gz, ${lines} lines): RSS growth MB`,
      Object.fromEntries(Object.entries(growth).map(([k, v]) => [k, +(v / 1e6).toFixed(1)])),
    );
    expect(growth.firstPass).toBeLessThan(UNCOMPRESSED_BYTES);
    for (const key of ["pageBack", "seek"]) expect(growth[key]).toBeLessThan(UNCOMPRESSED_BYTES / 3);
    // The worker inflates with little JS allocation, so its garbage waits longer for a collection: a looser bound.
    expect((growth.search as number) - (growth.searchOneLine as number)).toBeLessThan(UNCOMPRESSED_BYTES / 2);
  }, 120_000);
});
