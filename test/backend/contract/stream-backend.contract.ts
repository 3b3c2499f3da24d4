import { describe, expect, it } from "vitest";
import { type FeedEvent, SearchQueryError, type StreamBackend } from "../../../src/backend/backend.js";
import { SearchAbortedError } from "../../../src/backend/search-query.js";
import { CursorError } from "../../../src/core/cursor.js";
import { type Line, lineBytes } from "../../../src/core/line.js";
import { waitFor } from "../../helpers/wait-for.js";

/** A backend under test plus the means to change its source (a file, a ring fed in memory). */
export interface BackendFixture {
  backend: StreamBackend;
  /** Appends whole lines to the source. */
  append(lines: string[]): Promise<void>;
  /** A new backend over the same source, as after a server restart. */
  reopen(): Promise<StreamBackend>;
  close(): Promise<void>;
}

const stamp = (i: number) =>
  `[2025-12-17T10:${String(Math.floor(i / 60)).padStart(2, "0")}:${String(i % 60).padStart(2, "0")}Z]`;
export const numbered = (from: number, count: number) =>
  Array.from({ length: count }, (_, k) => `${stamp(from + k)} entry ${from + k}`);
const texts = (lines: readonly Line[]) => lines.map((l) => l.text);

/**
 * What the server relies on from any StreamBackend, whatever its source. Every implementation runs this suite
 * with its own fixture (each test gets a fresh source holding `initial` lines); what only one kind of source
 * does (file rotation, a ring's trimming) is tested beside that implementation.
 */
export function streamBackendContract(
  name: string,
  make: (initial: string[]) => Promise<BackendFixture>,
  /** `rawIsText: false`: openRaw gives the source's own bytes, which are not the lines' text (Docker's JSON records). */
  options: { rawIsText?: boolean } = {},
): void {
  describe(`StreamBackend contract: ${name}`, () => {
    const withFixture = (initial: string[], body: (f: BackendFixture) => Promise<void>) => async () => {
      const fixture = await make(initial);
      try {
        await body(fixture);
      } finally {
        await fixture.close();
      }
    };

    it(
      "live: follow() starts with the tail, then delivers appended lines; the feed's cursor tracks them",
      withFixture(numbered(0, 10), async ({ backend, append }) => {
        const seen: Line[] = [];
        const feed = await backend.follow({ tail: 3 }, (e: FeedEvent) => {
          if (e.type === "lines") seen.push(...e.lines);
        });
        try {
          expect(texts(seen)).toEqual(numbered(7, 3));
          await append(numbered(10, 2));
          await waitFor(() => seen.length === 5, { message: "appended lines" });
          expect(texts(seen)).toEqual([...numbered(7, 3), ...numbered(10, 2)]);
          expect(feed.cursor).toBe(seen[4]?.cursor);
          for (let i = 1; i < seen.length; i++) {
            expect(backend.continues(seen[i - 1] as Line, seen[i] as Line)).toBe(true);
          }
        } finally {
          await feed.close();
        }
      }),
    );

    it(
      "history: readAfter pages forward, readBefore back; cursors are ordered by compare(); atStart marks the first page",
      withFixture(numbered(0, 25), async ({ backend }) => {
        const first = await backend.readAfter(null, 10);
        expect(texts(first.lines)).toEqual(numbered(0, 10));
        expect(first.more).toBe(true);
        expect(first.atStart).toBe(true);
        const second = await backend.readAfter(first.cursor, 100);
        expect(texts(second.lines)).toEqual(numbered(10, 15));
        expect(second.more).toBe(false);
        expect(second.atStart).toBe(false);
        const back = await backend.readBefore(second.cursor, 5);
        expect(texts(back.lines)).toEqual(numbered(20, 5));
        expect(back.more).toBe(true);
        const further = await backend.readBefore(back.cursor, 100);
        expect(texts(further.lines)).toEqual(numbered(0, 20));
        expect(further.more).toBe(false);
        const all = [...first.lines, ...second.lines];
        for (const [i, line] of all.entries()) {
          const before = backend.cursorBefore(line);
          expect(backend.compare(before, line.cursor)).toBeLessThan(0);
          if (i > 0) expect(backend.compare(before, (all[i - 1] as Line).cursor)).toBe(0);
          const again = await backend.readAfter(before, 1);
          expect(again.lines[0]?.text).toBe(line.text);
        }
      }),
    );

    it(
      "history: readAfter keeps to maxBytes of source but always returns a line when one exists",
      withFixture(numbered(0, 20), async ({ backend }) => {
        const size = lineBytes((await backend.readAfter(null, 1)).lines[0] as Line);
        const page = await backend.readAfter(null, 100, size * 3 + 1);
        expect(page.lines).toHaveLength(3);
        expect(page.more).toBe(true);
        expect((await backend.readAfter(null, 100, 1)).lines).toHaveLength(1);
      }),
    );

    it(
      "tail(n) and tailCursor(n) give the last lines and the position before them",
      withFixture(numbered(0, 8), async ({ backend, append }) => {
        const tail = await backend.tail(3);
        expect(texts(tail.lines)).toEqual(numbered(5, 3));
        const from = (await backend.tailCursor(3)) as string;
        expect(texts((await backend.readAfter(from, 10)).lines)).toEqual(numbered(5, 3));
        expect(
          texts((await backend.readAfter((await backend.tailCursor(100)) as string, 100)).lines),
        ).toEqual(numbered(0, 8));
        await append(numbered(8, 1));
        expect(texts((await backend.readAfter(tail.cursor, 10)).lines)).toEqual(numbered(8, 1));
      }),
    );

    it(
      "seek(time) finds the first line at or after it",
      withFixture(numbered(0, 200), async ({ backend }) => {
        const at = Date.parse("2025-12-17T10:01:40Z"); // entry 100
        const found = await backend.seek(at, 2);
        expect(texts(found.lines)).toEqual(numbered(100, 2));
        expect((await backend.seek(Date.parse("2030-01-01T00:00:00Z"), 2)).lines).toEqual([]);
      }),
    );

    it(
      "search finds matching lines with cursors to resume from; a bad or non-RE2 regex is the caller's error; a hostile one runs in linear time",
      withFixture([...numbered(0, 30), `${"a".repeat(40)}!`], async ({ backend }) => {
        const query = { regex: false, caseSensitive: true, limit: 100, timeoutMs: 10_000 };
        const result = await backend.search({ ...query, q: "entry 2" });
        expect(texts(result.matches)).toEqual(numbered(0, 30).filter((t) => t.includes("entry 2")));
        const m = result.matches[0] as Line;
        expect(texts((await backend.readAfter(m.cursor, 1)).lines)).toEqual(numbered(3, 1));
        const anyCase = await backend.search({
          ...query,
          q: "ENTRY 1[0-2]$",
          regex: true,
          caseSensitive: false,
        });
        expect(texts(anyCase.matches)).toEqual(numbered(10, 3));
        const limited = await backend.search({ ...query, q: "entry", limit: 2 });
        expect(limited.matches).toHaveLength(2);
        expect(limited.limited).toBe(true);
        await expect(backend.search({ ...query, q: "(", regex: true })).rejects.toBeInstanceOf(
          SearchQueryError,
        );
        // Catastrophic for a backtracking engine; RE2 runs it in linear time, to the right answer.
        const hostile = await backend.search({ ...query, q: "^(a+)+$", regex: true });
        expect(hostile).toMatchObject({ matches: [], timedOut: false });
        const bang = await backend.search({ ...query, q: "^(a+)+!$", regex: true });
        expect(texts(bang.matches)).toEqual([`${"a".repeat(40)}!`]);
        await expect(backend.search({ ...query, q: "a(?=!)", regex: true })).rejects.toThrow(/RE2 syntax/);
        // The time limit still holds (1 ms: over before the worker has started).
        const late = await backend.search({ ...query, q: "entry", regex: true, timeoutMs: 1 });
        expect(late.timedOut).toBe(true);
        // Cancelled by its caller: stops and says so (a scan left to its limit would resolve with timedOut).
        const cancel = new AbortController();
        const cancelled = backend.search({ ...query, q: "(a+)+$x", regex: true, signal: cancel.signal });
        cancel.abort();
        await expect(cancelled).rejects.toBeInstanceOf(SearchAbortedError);
      }),
    );

    it(
      "resume: resumeFrom says continue for a cursor of the followed source; malformed cursors are CursorErrors",
      withFixture(numbered(0, 5), async ({ backend }) => {
        const feed = await backend.follow({ tail: 0 }, () => {});
        try {
          const { cursor } = await backend.tail(2);
          const middle = (await backend.tailCursor(2)) as string;
          expect(await backend.resumeFrom(middle, feed.cursor)).toEqual({ kind: "continue", from: middle });
          expect(await backend.resumeFrom(cursor, feed.cursor)).toEqual({ kind: "continue", from: cursor });
          expect(() => backend.check("not a cursor")).toThrow(CursorError);
          await expect(backend.resumeFrom("not a cursor", feed.cursor)).rejects.toBeInstanceOf(CursorError);
          await expect(backend.readAfter("not a cursor", 1)).rejects.toBeInstanceOf(CursorError);
        } finally {
          await feed.close();
        }
      }),
    );

    it(
      "restart: a cursor from before resumes exactly when cursors are durable, else with a `restarted` gap",
      withFixture(numbered(0, 6), async ({ backend, reopen }) => {
        const old = (await backend.tailCursor(2)) as string;
        const next = await reopen();
        expect(next.cursors.durable).toBe(backend.cursors.durable);
        const feed = await next.follow({ tail: 0 }, () => {});
        try {
          const plan = await next.resumeFrom(old, feed.cursor);
          if (next.cursors.durable) {
            expect(plan).toEqual({ kind: "continue", from: old });
            expect(texts((await next.readAfter(old, 10)).lines)).toEqual(numbered(4, 2));
          } else {
            expect(plan).toMatchObject({ kind: "gap", reason: "restarted" });
            await expect(next.readAfter(old, 10)).rejects.toMatchObject({ reason: "restarted" });
          }
        } finally {
          await feed.close();
        }
      }),
    );

    it(
      "info and openRaw describe the whole source",
      withFixture(numbered(0, 30), async ({ backend }) => {
        const info = await backend.info(null);
        expect(info.exists).toBe(true);
        const raw = await backend.openRaw();
        const chunks: Buffer[] = [];
        for await (const chunk of raw as AsyncIterable<Buffer | string>) chunks.push(Buffer.from(chunk));
        const body = Buffer.concat(chunks);
        expect(body.length).toBe(info.size);
        if (options.rawIsText !== false) expect(body.toString()).toBe(`${numbered(0, 30).join("\n")}\n`);
      }),
    );
  });
}
