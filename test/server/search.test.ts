import { writeFile } from "node:fs/promises";
import { describe, expect, it, onTestFinished } from "vitest";
import { searchFile } from "../../src/backend/file/search.js";
import { patternEngine } from "../../src/backend/pattern.js";
import { searchTexts } from "../../src/backend/ring/ring-search.js";
import { useTempDirs } from "../helpers/temp-dir.js";

const tempDir = useTempDirs("livetrail-search-");

/** Deterministic pseudo-random numbers, so a failure can be reproduced. */
function rng(seed: number): () => number {
  let x = seed;
  return () => {
    x = (Math.imul(x, 1664525) + 1013904223) >>> 0;
    return x / 2 ** 32;
  };
}

const WORDS = [
  "error",
  "Error",
  "ok",
  "naïve",
  "café",
  "日本語",
  "warn",
  "a b",
  "x\ty",
  "fail",
  "ÉCOLE",
  "zz",
  "",
  // Non-ASCII characters that any-case matching equates with ASCII letters (long s, Kelvin sign).
  "\u017Ftatus",
  "\u212Aelvin",
  "DISK",
  "risk",
  "Ksk",
];

function randomLines(seed: number, count: number): string[] {
  const r = rng(seed);
  return Array.from({ length: count }, () =>
    Array.from({ length: Math.floor(r() * 6) }, () => WORDS[Math.floor(r() * WORDS.length)]).join(" "),
  );
}

/** Forces re2js (LIVETRAIL_NATIVE_RE2=0) or lets the native module load, for the rest of the test. */
function useEngine(engine: "re2" | "re2js"): void {
  const before = process.env.LIVETRAIL_NATIVE_RE2;
  if (engine === "re2js") process.env.LIVETRAIL_NATIVE_RE2 = "0";
  else delete process.env.LIVETRAIL_NATIVE_RE2;
  onTestFinished(() => {
    if (before === undefined) delete process.env.LIVETRAIL_NATIVE_RE2;
    else process.env.LIVETRAIL_NATIVE_RE2 = before;
  });
  expect(patternEngine()).toBe(engine);
}

describe("searchFile against a line-by-line reference", () => {
  const queries: { q: string; regex: boolean; caseSensitive: boolean }[] = [
    { q: "error", regex: false, caseSensitive: true },
    { q: "ERROR", regex: false, caseSensitive: false },
    { q: "café", regex: false, caseSensitive: false },
    { q: "日本", regex: false, caseSensitive: true },
    { q: "a b", regex: false, caseSensitive: true },
    { q: "^ok", regex: true, caseSensitive: true },
    { q: "ok$", regex: true, caseSensitive: false },
    { q: "^$", regex: true, caseSensitive: true },
    { q: "fail\\s+\\S", regex: true, caseSensitive: true },
    { q: "\\s$", regex: true, caseSensitive: true },
    { q: "[^z]*zz", regex: true, caseSensitive: true },
    { q: "(?:^|[^x])y", regex: true, caseSensitive: true },
    { q: "\\u00e9", regex: true, caseSensitive: true },
    { q: "é", regex: true, caseSensitive: false },
    { q: "x*", regex: true, caseSensitive: true },
    { q: "status", regex: false, caseSensitive: false },
    { q: "KELVIN", regex: false, caseSensitive: false },
    { q: "sk", regex: false, caseSensitive: false },
    { q: "disk ok", regex: false, caseSensitive: false },
    { q: "a.b", regex: false, caseSensitive: false },
    { q: "\\s", regex: false, caseSensitive: false },
  ];

  // Native RE2 over raw bytes, and re2js (what runs when the native module cannot be loaded).
  for (const [engine, eol] of [
    ["re2", "\n"],
    ["re2", "\r\n"],
    ["re2js", "\n"],
    ["re2js", "\r\n"],
  ] as const) {
    it(`finds exactly the matching lines with exact offsets and line numbers (${engine}, ${JSON.stringify(eol)} lines)`, async () => {
      useEngine(engine);
      const dir = await tempDir();
      const file = dir.file("s.log");
      const lines = randomLines(eol.length, 3000);
      const content = Buffer.from(lines.map((l) => l + eol).join(""));
      await writeFile(file, content);
      for (const query of queries) {
        const reference = new RegExp(
          query.regex ? query.q : query.q.replace(/[.*+?^${}()|[\]\\]/g, "\\$&"),
          query.caseSensitive ? "u" : "iu",
        );
        const expected: { seq: number; text: string; start: number; end: number }[] = [];
        let offset = 0;
        lines.forEach((text, i) => {
          const bytes = Buffer.byteLength(text + eol);
          if (reference.test(text)) expected.push({ seq: i + 1, text, start: offset, end: offset + bytes });
          offset += bytes;
        });
        const outcome = await searchFile(file, { ...query, limit: 10_000, timeoutMs: 30_000 });
        const got = outcome.matches.map(({ seq, text, start, end }) => ({ seq, text, start, end }));
        expect(got, JSON.stringify(query)).toEqual(expected);
        for (const m of outcome.matches) {
          expect(content.subarray(m.start, m.end).toString("utf8")).toBe(m.text + eol);
        }
        expect(outcome.timedOut).toBe(false);
        expect(outcome.scannedBytes).toBe(content.length);
      }
    }, 60_000);
  }

  it("ignores a last line without its newline yet, and handles lines longer than the read size", async () => {
    const dir = await tempDir();
    const file = dir.file("long.log");
    const long = `start ${"q".repeat(3 * 1024 * 1024)} needle-at-end`;
    // Longer than the 64 KiB head but within one read: the same rule.
    const late = `late ${"q".repeat(100_000)} needle-at-end`;
    await writeFile(file, `first needle\n${long}\nneedle after\n${late}\npartial needle`);
    // Long lines match only on their head (cut like the follower cuts them), so neither is found, in any mode.
    for (const caseSensitive of [true, false]) {
      const outcome = await searchFile(file, {
        q: "needle",
        regex: false,
        caseSensitive,
        limit: 100,
        timeoutMs: 30_000,
      });
      expect(outcome.matches.map((m) => [m.seq, m.text])).toEqual([
        [1, "first needle"],
        [3, "needle after"],
      ]);
    }
    const head = await searchFile(file, {
      q: "^start q",
      regex: true,
      caseSensitive: true,
      limit: 100,
      timeoutMs: 30_000,
    });
    expect(head.matches).toHaveLength(1);
    expect(head.matches[0]).toMatchObject({ seq: 2, start: 13, end: 13 + Buffer.byteLength(long) + 1 });
    expect(head.matches[0]?.truncatedFrom).toBe(Buffer.byteLength(long));
  });
});

describe("catastrophic patterns run in linear time", () => {
  for (const engine of ["re2", "re2js"] as const) {
    it(`completes (a+)+$ over long lines of a's with the right answer (${engine})`, async () => {
      useEngine(engine);
      const dir = await tempDir();
      const file = dir.file("evil.log");
      const evil = `${"a".repeat(60_000)}!`;
      await writeFile(file, `${evil}\nplain\n${"a".repeat(60_000)}\n${evil}\n`);
      const query = { regex: true, caseSensitive: true, limit: 100, timeoutMs: 60_000 };
      const none = await searchFile(file, { ...query, q: "(a+)+!x$" });
      expect(none).toMatchObject({ matches: [], timedOut: false, limited: false });
      const ends = await searchFile(file, { ...query, q: "^(a+)+$" });
      expect(ends.matches.map((m) => m.seq)).toEqual([3]);
      const bang = await searchFile(file, { ...query, q: "(a|aa)+!$", caseSensitive: false });
      expect(bang.matches.map((m) => m.seq)).toEqual([1, 4]);
      const ring = await searchTexts([evil, "plain", evil.slice(0, -1)], { ...query, q: "^(a+)+$" });
      expect(ring).toMatchObject({ indexes: [2], timedOut: false });
    });
  }

  it("rejects lookaround and backreferences as a query error", async () => {
    const dir = await tempDir();
    const file = dir.file("x.log");
    await writeFile(file, "ab\n");
    for (const q of ["a(?=b)", "(a)\\1"]) {
      await expect(
        searchFile(file, { q, regex: true, caseSensitive: true, limit: 1, timeoutMs: 5000 }),
      ).rejects.toThrow(/invalid regular expression: .*RE2 syntax/);
    }
  });
});
