import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { LineSplitter } from "../../src/core/line-splitter.js";

interface Out {
  text: string;
  start: number;
  end: number;
  truncatedFrom: number | undefined;
}

/** Feeds the bytes in the given pieces and returns every line the splitter emits. */
function split(bytes: Uint8Array, cuts: number[], maxLineBytes?: number, startOffset = 0): Out[] {
  const splitter = new LineSplitter({ ...(maxLineBytes ? { maxLineBytes } : {}), startOffset });
  const out: Out[] = [];
  const sink = (text: string, start: number, end: number, truncatedFrom: number | undefined) => {
    out.push({ text, start, end, truncatedFrom });
  };
  let from = 0;
  for (const cut of [...cuts].sort((a, b) => a - b)) {
    splitter.push(bytes.subarray(from, cut), sink);
    from = cut;
  }
  splitter.push(bytes.subarray(from), sink);
  expect(splitter.retainedBytes).toBeLessThanOrEqual(maxLineBytes ?? 65_536);
  return out;
}

const cutsOf = (length: number) => fc.array(fc.integer({ min: 0, max: length }), { maxLength: 40 });

// Text with ASCII, 2-, 3- and 4-byte characters, CR in the middle, NUL; no LF (that ends the line).
const lineText = fc
  .array(fc.constantFrom("a", "Z", " ", "é", "€", "😀", "\r", "\0", "ü", "语", "\t"), { maxLength: 30 })
  .map((chars) => chars.join(""))
  .filter((text) => !text.endsWith("\r"));
const linesWithTerminators = fc.array(fc.tuple(lineText, fc.constantFrom("\n", "\r\n")), { maxLength: 30 });

describe("LineSplitter", () => {
  it("property: random chunkings of random lines (multibyte, CRLF) come out exactly as the lines written", () => {
    fc.assert(
      fc.property(
        linesWithTerminators.chain((lines) => {
          const bytes = Buffer.from(lines.map(([text, end]) => text + end).join(""));
          return fc.tuple(fc.constant(lines), fc.constant(bytes), cutsOf(bytes.length), fc.nat(1000));
        }),
        ([lines, bytes, cuts, base]) => {
          const out = split(bytes, cuts, undefined, base);
          expect(out.map((l) => l.text)).toEqual(lines.map(([text]) => text));
          let offset = base;
          for (const [i, [text, end]] of lines.entries()) {
            const length = Buffer.byteLength(text + end);
            expect(out[i]).toEqual({ text, start: offset, end: offset + length, truncatedFrom: undefined });
            offset += length;
          }
          expect(bytes.length).toBe(offset - base);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("property: arbitrary bytes decode per line exactly as TextDecoder does (invalid UTF-8 -> U+FFFD)", () => {
    const decoder = new TextDecoder();
    fc.assert(
      fc.property(
        fc
          .uint8Array({ maxLength: 300 })
          .chain((bytes) => fc.tuple(fc.constant(bytes), cutsOf(bytes.length))),
        ([bytes, cuts]) => {
          const out = split(bytes, cuts);
          const expected: string[] = [];
          let from = 0;
          for (let i = bytes.indexOf(10); i >= 0; i = bytes.indexOf(10, from)) {
            const contentEnd = i > from && bytes[i - 1] === 13 ? i - 1 : i;
            expected.push(decoder.decode(bytes.subarray(from, contentEnd)));
            from = i + 1;
          }
          expect(out.map((l) => l.text)).toEqual(expected);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it("property: over-long lines keep a head of at most maxLineBytes, cut at a character, and their real length", () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 24 }),
        linesWithTerminators.chain((lines) => {
          const bytes = Buffer.from(lines.map(([text, end]) => text + end).join(""));
          return fc.tuple(fc.constant(lines), fc.constant(bytes), cutsOf(bytes.length));
        }),
        (max, [lines, bytes, cuts]) => {
          const out = split(bytes, cuts, max);
          expect(out.length).toBe(lines.length);
          for (const [i, [text]] of lines.entries()) {
            const line = out[i] as Out;
            const length = Buffer.byteLength(text);
            if (length <= max) {
              expect(line.text).toBe(text);
              expect(line.truncatedFrom).toBeUndefined();
            } else {
              expect(line.truncatedFrom).toBe(length);
              expect(Buffer.byteLength(line.text)).toBeLessThanOrEqual(max);
              expect(Buffer.byteLength(line.text)).toBeGreaterThan(max - 4);
              expect(text.startsWith(line.text)).toBe(true);
            }
          }
        },
      ),
      { numRuns: 500 },
    );
  });

  it("holds at most maxLineBytes of a 10 MB line fed in small pieces", () => {
    const splitter = new LineSplitter({ maxLineBytes: 1000 });
    const out: Out[] = [];
    const piece = Buffer.alloc(4096, 0x61);
    for (let i = 0; i < 2560; i++) {
      splitter.push(piece, (text, start, end, truncatedFrom) =>
        out.push({ text, start, end, truncatedFrom }),
      );
      expect(splitter.retainedBytes).toBeLessThanOrEqual(1000);
    }
    splitter.push(Buffer.from("\r\n"), (text, start, end, truncatedFrom) =>
      out.push({ text, start, end, truncatedFrom }),
    );
    expect(out).toEqual([
      { text: "a".repeat(1000), start: 0, end: 2560 * 4096 + 2, truncatedFrom: 2560 * 4096 },
    ]);
  });

  it("a CRLF split exactly at the limit still reports the content length without the CR", () => {
    const out = split(Buffer.from("abcd\r\nxy\n"), [5], 4);
    expect(out).toEqual([
      { text: "abcd", start: 0, end: 6, truncatedFrom: undefined },
      { text: "xy", start: 6, end: 9, truncatedFrom: undefined },
    ]);
  });

  it("flushPartial emits a held partial line once, with its exact range", () => {
    const splitter = new LineSplitter({ startOffset: 10 });
    const out: Out[] = [];
    const sink = (text: string, start: number, end: number, truncatedFrom: number | undefined) =>
      out.push({ text, start, end, truncatedFrom });
    splitter.push(Buffer.from("done\nhalf €"), sink);
    expect(splitter.lineStart).toBe(15);
    expect(splitter.offset).toBe(23);
    expect(splitter.flushPartial(sink)).toBe(true);
    expect(splitter.flushPartial(sink)).toBe(false);
    expect(out).toEqual([
      { text: "done", start: 10, end: 15, truncatedFrom: undefined },
      { text: "half €", start: 15, end: 23, truncatedFrom: undefined },
    ]);
    expect(splitter.lineStart).toBe(23);
  });

  it("rejects a nonsensical limit", () => {
    expect(() => new LineSplitter({ maxLineBytes: 0 })).toThrow(RangeError);
  });
});
