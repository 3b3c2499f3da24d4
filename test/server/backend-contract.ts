import { describe, expect, it } from "vitest";
import type { StreamBackend } from "../../src/backend/backend.js";
import type { FollowerEvent } from "../../src/backend/file/follower-events.js";
import type { Line } from "../../src/core/line.js";
import { waitFor } from "../helpers/wait-for.js";

/** A backend under test plus the means to change its source (a file here; a Redis stream later). */
export interface BackendFixture {
  backend: StreamBackend;
  /** Appends whole lines to the source. */
  append(lines: string[]): Promise<void>;
  /** Replaces the source with a different one holding `lines` (rotation, or a new stream). */
  replace(lines: string[]): Promise<void>;
  /** Removes the source. */
  remove(): Promise<void>;
  close(): Promise<void>;
}

const stamp = (i: number) =>
  `[2025-12-17T10:${String(Math.floor(i / 60)).padStart(2, "0")}:${String(i % 60).padStart(2, "0")}Z]`;
const numbered = (from: number, count: number) =>
  Array.from({ length: count }, (_, k) => `${stamp(from + k)} entry ${from + k}`);
const texts = (lines: Line[]) => lines.map((l) => l.text);

/**
 * What the server relies on from any StreamBackend. Every implementation runs this suite with its own fixture
 * (each test gets a fresh source holding `initial` lines).
 */
export function streamBackendContract(
  name: string,
  make: (initial: string[]) => Promise<BackendFixture>,
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
      "follow() starts with the tail, then delivers appended lines; the feed's cursor tracks them",
      withFixture(numbered(0, 10), async ({ backend, append }) => {
        const seen: Line[] = [];
        const feed = await backend.follow({ tail: 3 }, (e: FollowerEvent) => {
          if (e.type === "lines") seen.push(...e.lines);
        });
        try {
          expect(texts(seen)).toEqual(numbered(7, 3));
          await append(numbered(10, 2));
          await waitFor(() => seen.length === 5, { message: "appended lines" });
          expect(texts(seen)).toEqual([...numbered(7, 3), ...numbered(10, 2)]);
          expect(feed.cursor).toBe(seen[4]?.cursor);
          expect(backend.positionOf(feed.cursor as string)).toBe(seen[4]?.end);
        } finally {
          await feed.close();
        }
      }),
    );

    it(
      "readAfter pages forward from the start or a cursor; readBefore pages back; positions are ordered",
      withFixture(numbered(0, 25), async ({ backend }) => {
        const first = await backend.readAfter(null, 10);
        expect(texts(first.lines)).toEqual(numbered(0, 10));
        expect(first.more).toBe(true);
        const second = await backend.readAfter(first.cursor, 100);
        expect(texts(second.lines)).toEqual(numbered(10, 15));
        expect(second.more).toBe(false);
        const back = await backend.readBefore(second.cursor, 5);
        expect(texts(back.lines)).toEqual(numbered(20, 5));
        expect(back.more).toBe(true);
        const further = await backend.readBefore(back.cursor, 100);
        expect(texts(further.lines)).toEqual(numbered(0, 20));
        expect(further.more).toBe(false);
        for (const line of [...first.lines, ...second.lines]) {
          const before = backend.cursorBefore(line);
          expect(backend.positionOf(before)).toBeLessThan(backend.positionOf(line.cursor));
          const again = await backend.readAfter(before, 1);
          expect(again.lines[0]?.text).toBe(line.text);
        }
        const start = await backend.startCursor();
        expect(texts((await backend.readAfter(start, 3)).lines)).toEqual(numbered(0, 3));
      }),
    );

    it(
      "tail(n) gives the last lines and the end position",
      withFixture(numbered(0, 8), async ({ backend, append }) => {
        const tail = await backend.tail(3);
        expect(texts(tail.lines)).toEqual(numbered(5, 3));
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
      "locate() tells the current source from a replaced or removed one",
      withFixture(numbered(0, 5), async ({ backend, replace, remove }) => {
        const { cursor } = await backend.tail(1);
        expect(await backend.locate(cursor)).toBe("same");
        await replace(numbered(100, 3));
        expect(await backend.locate(cursor)).toBe("changed");
        const fresh = await backend.tail(1);
        expect(await backend.locate(fresh.cursor)).toBe("same");
        await remove();
        expect(await backend.locate(fresh.cursor)).toBe("gone");
        expect(await backend.startCursor()).toBeNull();
        expect((await backend.info()).exists).toBe(false);
      }),
    );

    it(
      "sameSource() tells cursors of one source (even made at different sizes) from those of another",
      withFixture(numbered(0, 2), async ({ backend, append, replace }) => {
        const small = (await backend.tail(1)).cursor;
        const start = (await backend.startCursor()) as string;
        await append(numbered(2, 20));
        const grown = (await backend.tail(1)).cursor;
        expect(await backend.sameSource(small, grown)).toBe(true);
        expect(await backend.sameSource(start, grown)).toBe(true);
        await replace(numbered(100, 20));
        const other = (await backend.tail(1)).cursor;
        expect(await backend.sameSource(grown, other)).toBe(false);
        expect(await backend.sameSource(small, other)).toBe(false);
      }),
    );

    it(
      "positionOf rejects a malformed cursor",
      withFixture([], async ({ backend }) => {
        expect(() => backend.positionOf("not a cursor")).toThrow();
      }),
    );

    it(
      "search finds matching lines with cursors; info and openRaw describe the whole source",
      withFixture(numbered(0, 30), async ({ backend }) => {
        const result = await backend.search({
          q: "entry 2",
          regex: false,
          caseSensitive: true,
          limit: 100,
          timeoutMs: 10_000,
        });
        expect(texts(result.matches)).toEqual(numbered(0, 30).filter((t) => t.includes("entry 2")));
        const m = result.matches[0] as Line;
        expect(texts((await backend.readAfter(m.cursor, 1)).lines)).toEqual(numbered(3, 1));
        const info = await backend.info();
        const raw = await backend.openRaw();
        const chunks: Buffer[] = [];
        for await (const chunk of raw as AsyncIterable<Buffer>) chunks.push(chunk);
        const body = Buffer.concat(chunks);
        expect(body.length).toBe(info.size);
        expect(body.toString()).toBe(`${numbered(0, 30).join("\n")}\n`);
      }),
    );
  });
}
