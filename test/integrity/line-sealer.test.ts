import { readFile, rename, writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import type { FeedEvent } from "../../src/backend/backend.js";
import { FileBackend } from "../../src/backend/file/file-backend.js";
import { RingBackend } from "../../src/backend/ring/ring-backend.js";
import { exactLineData, type Line } from "../../src/core/line.js";
import { parseCheckpointLog } from "../../src/integrity/checkpoint-log.js";
import { LineSealer } from "../../src/integrity/line-sealer.js";
import { generateKey } from "../../src/integrity/note.js";
import { sealKeyFromString } from "../../src/integrity/seal-key.js";
import { readSealPoint } from "../../src/integrity/seal-point.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { Rfc6962Tree } from "./rfc6962-reference.js";

const tempDir = useTempDirs();
const key = sealKeyFromString(generateKey("stream").signerKey);

async function lastPoint(sidecar: string) {
  const records = parseCheckpointLog(await readFile(`${sidecar}/checkpoints`)).records;
  const last = records.at(-1);
  return last === undefined ? null : readSealPoint(last.note, [key.verifier]);
}

/** The lines of some bytes as leaf data: cut at LF, the LF dropped, a CR kept; an unterminated tail is a line. */
function entries(bytes: Buffer): Buffer[] {
  const out: Buffer[] = [];
  let from = 0;
  for (let lf = bytes.indexOf(10); lf !== -1; lf = bytes.indexOf(10, from)) {
    out.push(bytes.subarray(from, lf));
    from = lf + 1;
  }
  if (from < bytes.length) out.push(bytes.subarray(from));
  return out;
}

describe("exact bytes of a line", () => {
  it("are its text when valid and whole (LF, CRLF, unterminated), else unknown", () => {
    const line = (text: string, start: number, end: number, extra: Partial<Line> = {}): Line => ({
      seq: 1,
      text,
      start,
      end,
      cursor: "",
      ...extra,
    });
    expect(exactLineData(line("héllo", 0, 7))).toEqual(Buffer.from("héllo"));
    expect(exactLineData(line("héllo", 0, 8))).toEqual(Buffer.from("héllo\r"));
    expect(exactLineData(line("tail", 10, 14, { unterminated: true }))).toEqual(Buffer.from("tail"));
    expect(exactLineData(line("a\uFFFDb", 0, 4))).toBeNull();
    expect(exactLineData(line("head", 0, 100_001, { truncatedFrom: 100_000 }))).toBeNull();
  });

  it("the ring backend gives them for exact lines and null for the lines it never held as bytes", async () => {
    const ring = new RingBackend("r", { maxLines: 100, maxBytes: 10_000, maxLineBytes: 8 });
    const lines: Line[] = [];
    await ring.follow({ tail: 0 }, (e: FeedEvent) => {
      if (e.type === "lines") lines.push(...e.lines);
    });
    ring.write(Buffer.from("ok\r\nbad \xff byte\ntoo long a line\nend", "latin1"));
    ring.end();
    const bytes = await ring.exactBytes(lines);
    expect(bytes.map((b) => b?.toString("latin1") ?? null)).toEqual(["ok\r\n", null, null, "end"]);
  });

  it("the file backend reads them from the followed file, and says null once the file was replaced", async () => {
    const dir = await tempDir();
    const path = dir.file("a.log");
    const content = Buffer.from(
      "plain\nbad \xff\xfe\ncrlf\r\nthis line is longer than sixteen bytes\n",
      "latin1",
    );
    await writeFile(path, content);
    const backend = new FileBackend("a", path, { maxLineBytes: 16, watch: false, pollIntervalMs: 20 });
    const lines: Line[] = [];
    const feed = await backend.follow({ tail: 100 }, (e) => {
      if (e.type === "lines") lines.push(...e.lines);
    });
    try {
      await waitFor(() => lines.length === 4);
      const got = await backend.exactBytes(lines);
      expect(Buffer.concat(got as Buffer[]).equals(content)).toBe(true);
      await rename(path, dir.file("a.log.1"));
      await writeFile(path, "another file\n");
      expect(await backend.exactBytes(lines.slice(0, 1))).toEqual([null]);
    } finally {
      await feed.close();
    }
  });
});

describe("LineSealer", () => {
  it("seals a file stream's lines as the feed delivers them, exact bytes where the text is not", async () => {
    const dir = await tempDir();
    const path = dir.file("a.log");
    const content = Buffer.from("one\nbad \xff\ncrlf\r\nthis line is longer than sixteen bytes\n", "latin1");
    await writeFile(path, content);
    const backend = new FileBackend("a", path, { maxLineBytes: 16, watch: false, pollIntervalMs: 20 });
    const errors: Error[] = [];
    const sealer = await LineSealer.open({
      key,
      sidecar: `${path}.seal`,
      identity: "stream:a",
      exactBytes: (lines) => backend.exactBytes(lines),
      everyMs: 10,
      onError: (e) => errors.push(e),
    });
    const feed = await backend.follow({ tail: 100 }, (e) => {
      if (e.type === "lines") sealer.push(e.lines);
    });
    try {
      await waitFor(async () => (await lastPoint(`${path}.seal`))?.size === 4);
      const more = Buffer.from("fifth\n");
      await writeFile(path, Buffer.concat([content, more]));
      await waitFor(async () => (await lastPoint(`${path}.seal`))?.size === 5);
      const point = await lastPoint(`${path}.seal`);
      expect(point?.root.equals(new Rfc6962Tree(entries(Buffer.concat([content, more]))).mth())).toBe(true);
      expect(point).toMatchObject({ identity: "stream:a", bytes: content.length + more.length });
      expect(errors).toEqual([]);
    } finally {
      await feed.close();
      await sealer.close();
    }
  });

  it("seals a ring stream; a line whose bytes are gone stops sealing with a clear error", async () => {
    const dir = await tempDir();
    const ring = new RingBackend("stdin", { maxLines: 100, maxBytes: 10_000 });
    const errors: Error[] = [];
    const sealer = await LineSealer.open({
      key,
      sidecar: dir.file("stdin.seal"),
      identity: "ring:stdin",
      exactBytes: (lines) => ring.exactBytes(lines),
      everyLines: 2,
      onError: (e) => errors.push(e),
    });
    await ring.follow({ tail: 0 }, (e) => {
      if (e.type === "lines") sealer.push(e.lines);
    });
    ring.write(Buffer.from("a\r\nb\n"));
    await sealer.flush();
    expect(
      (await lastPoint(dir.file("stdin.seal")))?.root.equals(
        new Rfc6962Tree(entries(Buffer.from("a\r\nb\n"))).mth(),
      ),
    ).toBe(true);
    ring.write(Buffer.from("c \xff\n", "latin1"));
    await sealer.flush();
    expect(errors.map((e) => e.message)).toEqual([
      "line 3: its exact bytes are not available from the source, so it cannot be sealed",
    ]);
    expect((await lastPoint(dir.file("stdin.seal")))?.size).toBe(2);
    await sealer.close();
  });
});
