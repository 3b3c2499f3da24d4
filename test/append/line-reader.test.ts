import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type ByteLine, readLines } from "../../src/append/line-reader.js";

async function collect(chunks: Buffer[], maxBytes: number): Promise<{ batches: number; lines: ByteLine[] }> {
  async function* source(): AsyncGenerator<Buffer> {
    yield* chunks;
  }
  const lines: ByteLine[] = [];
  let batches = 0;
  for await (const batch of readLines(source(), maxBytes)) {
    batches++;
    lines.push(...batch);
  }
  return { batches, lines };
}

/** Cuts `bytes` at the given positions (clamped, sorted). */
function cut(bytes: Buffer, at: number[]): Buffer[] {
  const points = [...new Set(at.map((p) => p % (bytes.length + 1)))].sort((a, b) => a - b);
  const chunks: Buffer[] = [];
  let from = 0;
  for (const p of [...points, bytes.length]) {
    chunks.push(bytes.subarray(from, p));
    from = p;
  }
  return chunks;
}

describe("readLines", () => {
  it("gives back exactly the lines written, however the bytes are chunked (property)", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.string({ unit: "binary", maxLength: 30 }).map((s) => s.replaceAll("\n", "")),
          { maxLength: 20 },
        ),
        fc.boolean(),
        fc.array(fc.nat(), { maxLength: 10 }),
        async (texts, lastTerminated, at) => {
          const body = texts.map((t, i) => (i < texts.length - 1 || lastTerminated ? `${t}\n` : t)).join("");
          const { lines } = await collect(cut(Buffer.from(body), at), 1000);
          const expected = texts.filter((t, i) => i < texts.length - 1 || lastTerminated || t !== "");
          expect(lines.map((l) => l.bytes.toString())).toEqual(expected);
          expect(lines.map((l) => l.number)).toEqual(expected.map((_, i) => i + 1));
          expect(lines.map((l) => l.length)).toEqual(expected.map((t) => Buffer.byteLength(t)));
          expect(lines.every((l, i) => l.terminated === (i < texts.length - 1 || lastTerminated))).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it("keeps only the head of an over-long line but reports its real length", async () => {
    const long = Buffer.alloc(100_000, 0x61);
    const { lines } = await collect(
      [long.subarray(0, 40_000), long.subarray(40_000), Buffer.from("\nok\n")],
      10,
    );
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatchObject({ number: 1, length: 100_000, terminated: true });
    expect(lines[0]?.bytes.toString()).toBe("aaaaaaaaaa");
    expect(lines[1]).toMatchObject({ number: 2, length: 2, terminated: true });
  });

  it("yields the lines a chunk completed as one batch", async () => {
    const { batches, lines } = await collect([Buffer.from("a\nb\nc"), Buffer.from("\nd\n")], 100);
    expect(batches).toBe(2);
    expect(lines.map((l) => l.bytes.toString())).toEqual(["a", "b", "c", "d"]);
  });

  it("reports a CR before the LF as part of the line", async () => {
    const { lines } = await collect([Buffer.from("a\r\n")], 100);
    expect(lines[0]?.bytes).toEqual(Buffer.from("a\r"));
  });
});
