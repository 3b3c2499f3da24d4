import { appendFile, readFile, writeFile } from "node:fs/promises";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { decodeCursor, encodeCursor } from "../../src/backend/file/file-cursor.js";
import { CursorError } from "../../src/core/cursor.js";
import { parseEntry } from "../../src/core/entry.js";
import type { ServerMessage } from "../../src/protocol/messages.js";
import { useClosers } from "../helpers/closer.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { startServer } from "../server/harness.js";
import { request, streamStatus } from "./http-client.js";
import { bearer, closeWs, openWs, sha256, startSecured, type Upgrade, WRITE } from "./security-harness.js";

const tempDir = useTempDirs("livetrail-fuzz-");
const track = useClosers();

const ESC = "\u001b";
/** Hostile text: NUL, ANSI escapes, bidi overrides, lone surrogates, JSON-ish fragments, cursor-ish fragments. */
const hostileText = fc.oneof(
  fc.string({ unit: "binary", maxLength: 200 }),
  fc.string({ unit: "grapheme-composite", maxLength: 100 }),
  fc
    .array(
      fc.constantFrom(
        "\u0000",
        `${ESC}[31m`,
        `${ESC}]0;title\u0007`,
        "\u202e",
        "\ud800",
        "\udfff",
        "\r\n",
        "1.",
        "0123456789ab",
        ".zz",
        ".-",
        '{"type":"subscribe"',
        '"stream":"audit"',
        "}",
        "[",
        "\\u0000",
        "__proto__",
        "../",
      ),
      { maxLength: 30 },
    )
    .map((parts) => parts.join("")),
);

/** Deeply nested JSON of either shape, within the 64 KiB message limit. */
const nestedJson = fc
  .tuple(fc.integer({ min: 1, max: 10_000 }), fc.boolean())
  .map(([depth, arrays]) =>
    arrays ? "[".repeat(depth) + "]".repeat(depth) : `${'{"a":'.repeat(depth)}1${"}".repeat(depth)}`,
  );

/** Protocol-shaped messages with hostile field values. */
const protocolish = fc
  .record({
    type: fc.oneof(fc.constantFrom("subscribe", "unsubscribe", "ping", "hello", ""), hostileText),
    stream: fc.oneof(fc.constantFrom("audit", "../audit", "/etc/passwd", ""), hostileText, fc.integer()),
    since: fc.oneof(fc.constant(undefined), hostileText, fc.integer()),
    tail: fc.oneof(fc.constant(undefined), fc.integer(), fc.double(), fc.constant(1e300), fc.constant(-1)),
    id: fc.oneof(fc.constant(undefined), hostileText, fc.object()),
    t: fc.oneof(fc.constant(undefined), fc.double(), hostileText),
  })
  .map((m) => JSON.stringify(m));

describe("cursor decoding under hostile input", () => {
  test("decodeCursor only ever returns a canonical cursor or throws CursorError", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          hostileText,
          fc.string({ maxLength: 80 }),
          fc.stringMatching(/^1\.[0-9a-f]{12}\.[0-9a-z]{1,3}\.-?[0-9a-z]{1,12}\.-?[0-9a-z]{1,12}$/),
        ),
        (text) => {
          try {
            const data = decodeCursor(text);
            expect(encodeCursor(data)).toBe(text); // accepted means canonical: one text per position
          } catch (error) {
            expect(error).toBeInstanceOf(CursorError);
          }
        },
      ),
      { numRuns: 5_000 },
    );
  });

  test("every valid position round-trips", () => {
    fc.assert(
      fc.property(
        fc.stringMatching(/^[0-9a-f]{12}$/),
        fc.integer({ min: 0, max: 256 }),
        fc.maxSafeNat(),
        fc.maxSafeInteger(),
        (fileId, fpLen, offset, seq) => {
          const data = { fileId, fpLen, offset, seq };
          expect(decodeCursor(encodeCursor(data))).toEqual(data);
        },
      ),
      { numRuns: 2_000 },
    );
  });

  test("non-string input and 10 MB cursors are refused cheaply with CursorError", () => {
    for (const value of [null, undefined, 42, {}, ["1."]]) {
      expect(() => decodeCursor(value as unknown as string)).toThrow(CursorError);
    }
    expect(() => decodeCursor(`1.${"a".repeat(10 * 1024 * 1024)}`)).toThrow(CursorError);
  });
});

describe("the entry parser under hostile input", () => {
  test("never throws, never changes the text: the message is the text or its tail after the timestamp", () => {
    const stamped = fc
      .tuple(
        fc.date({ min: new Date("0001-01-01"), max: new Date("9999-12-31"), noInvalidDate: true }),
        hostileText,
      )
      .map(([d, rest]) => `[${d.toISOString()}] ${rest}`);
    fc.assert(
      fc.property(fc.oneof(hostileText, stamped, fc.string({ unit: "binary" })), (text) => {
        const entry = parseEntry(text);
        expect(["error", "warn", "ok", "info"]).toContain(entry.level);
        if (entry.ts === undefined) expect(entry.message).toBe(text);
        else {
          expect(text.endsWith(entry.message)).toBe(true);
          expect(Number.isFinite(entry.tsMs)).toBe(true);
        }
      }),
      { numRuns: 5_000 },
    );
  });

  test("10 MB lines (with and without a timestamp, full of escapes and NULs) parse without harm", () => {
    const big = `${ESC}[31m\u0000error `.repeat((10 * 1024 * 1024) / 12);
    for (const text of [big, `[2025-12-17T17:40:37Z] ${big}`, `[${"9".repeat(10 * 1024 * 1024)}`]) {
      const entry = parseEntry(text);
      expect(text.endsWith(entry.message)).toBe(true);
    }
  });
});

describe("the WebSocket message handler under hostile frames (through a real socket)", () => {
  test("random and hostile frames get error frames or a documented close; the server keeps serving and the log is unchanged", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await writeFile(file, "[2025-12-17T17:40:37Z] first\n[2025-12-17T17:40:38Z] second\n");
    const hash = await sha256(file);
    const s = track(
      await startServer([{ name: "audit", file }], { security: { messagesPerSecond: 1_000_000 } }),
    );
    const control = await openWs(`${s.wsUrl}/ws`);
    if (!control.ok) throw new Error("control refused");
    control.ws.send(JSON.stringify({ type: "subscribe", stream: "audit" }));
    await waitFor(() => control.messages.some((m) => m.type === "live"), { message: "control live" });

    let fuzz: Upgrade | null = null;
    const closes: number[] = [];
    const socket = async () => {
      if (fuzz?.ok && fuzz.ws.readyState === fuzz.ws.OPEN) return fuzz;
      fuzz = await openWs(`${s.wsUrl}/ws`);
      if (!fuzz.ok) throw new Error(`fuzz socket refused ${fuzz.status}`);
      fuzz.closed.then(({ code }) => closes.push(code));
      return fuzz;
    };
    const frame = fc.oneof(
      { arbitrary: protocolish, weight: 5 },
      { arbitrary: hostileText.map((t) => ({ text: t })), weight: 3 },
      { arbitrary: nestedJson, weight: 1 },
      { arbitrary: fc.uint8Array({ maxLength: 300 }).map((bytes) => ({ binary: bytes })), weight: 1 },
      // Invalid UTF-8 sent as a *text* frame: RFC 6455 says close with 1007.
      {
        arbitrary: fc
          .constantFrom([0xff], [0xc3, 0x28], [0xed, 0xa0, 0x80], [0xf8, 0x88, 0x80, 0x80, 0x80])
          .map((b) => ({ badText: Buffer.from(b) })),
        weight: 1,
      },
    );
    await fc.assert(
      fc.asyncProperty(frame, async (f) => {
        const c = await socket();
        if (!c.ok) return;
        const before = c.messages.length;
        const pingId = Math.random();
        if (typeof f === "string") c.ws.send(f);
        else if ("text" in f) c.ws.send(f.text);
        else if ("binary" in f) c.ws.send(f.binary, { binary: true });
        else c.ws.send(f.badText, { binary: false });
        c.ws.send(JSON.stringify({ type: "ping", t: pingId }));
        // Either the socket answers the ping after the frame (so the frame was handled) or it was closed.
        await waitFor(
          () =>
            c.ws.readyState !== c.ws.OPEN ||
            c.messages.slice(before).some((m: ServerMessage) => m.type === "pong" && m.t === pingId),
          { message: "a pong or a close" },
        );
      }),
      { numRuns: 300 },
    );
    if (fuzz !== null) await closeWs(fuzz);
    // Invalid UTF-8 closes with 1007; nothing else in the generated frames may close the socket.
    for (const code of closes) expect([1005, 1007]).toContain(code);

    // A 10 MB frame is refused with 1009 without harm.
    const big = await openWs(`${s.wsUrl}/ws`);
    if (!big.ok) throw new Error("refused");
    big.ws.send("x".repeat(10 * 1024 * 1024));
    expect((await big.closed).code).toBe(1009);

    // Hostile cursors and queries over HTTP are client errors, never server errors.
    await fc.assert(
      fc.asyncProperty(
        hostileText,
        fc.constantFrom("", "%ff", "%c3%28", "%00", "%", "%zz"),
        async (t, raw) => {
          // Every byte percent-encoded (lone surrogates included), plus raw malformed or invalid-UTF-8 escapes.
          const e =
            [...Buffer.from(t, "utf8")].map((b) => `%${b.toString(16).padStart(2, "0")}`).join("") + raw;
          for (const path of [
            `lines?before=${e}`,
            `lines?after=${e}`,
            `lines?at=${e}`,
            `search?q=${e}&regex=1`,
          ]) {
            const r = await request(`${s.url}/api/streams/audit/${path}`);
            expect([200, 400, 404, 410, 503], path).toContain(r.status);
          }
          // An accepted event stream stays open: only its status is read.
          expect([200, 400]).toContain(await streamStatus(`${s.url}/api/streams/audit/events?since=${e}`));
        },
      ),
      { numRuns: 40 },
    );

    expect(await sha256(file)).toBe(hash);
    // The control client was served throughout and still gets new lines.
    await appendFile(file, "[2025-12-17T17:40:39Z] after the fuzzing\n");
    await waitFor(
      () =>
        control.messages.some(
          (m) => m.type === "lines" && m.lines.some((l) => l.text.endsWith("after the fuzzing")),
        ),
      { message: "the control client to get the new line" },
    );
    await closeWs(control);
  }, 120_000);

  test("a 10 MB line in the log is delivered cut, and the lines after it arrive intact", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await writeFile(file, "[2025-12-17T17:40:37Z] first\n");
    const s = track(await startServer([{ name: "audit", file }]));
    const c = await openWs(`${s.wsUrl}/ws`);
    if (!c.ok) throw new Error("refused");
    c.ws.send(JSON.stringify({ type: "subscribe", stream: "audit" }));
    await waitFor(() => c.messages.some((m) => m.type === "live"), { message: "live" });
    await appendFile(
      file,
      `[2025-12-17T17:40:38Z] ${`${ESC}[31m\u0000`.repeat((10 * 1024 * 1024) / 6)}\n[2025-12-17T17:40:39Z] after\n`,
    );
    const hash = await sha256(file);
    await waitFor(
      () => c.messages.some((m) => m.type === "lines" && m.lines.some((l) => l.text.endsWith("after"))),
      {
        timeoutMs: 30_000,
        message: "the line after the huge one",
      },
    );
    const lines = c.messages.flatMap((m) => (m.type === "lines" ? m.lines : []));
    const huge = lines.find((l) => l.trunc !== undefined);
    expect(huge?.trunc).toBeGreaterThan(10 * 1024 * 1024);
    expect(await sha256(file)).toBe(hash);
    await closeWs(c);
  });
});

describe("the append API after hostile foreign writes to the same file", () => {
  test("random foreign partial lines (any bytes, cut UTF-8, CR, no newline) never get an entry glued to them", async () => {
    const s = track(await startSecured(await tempDir(), { writeTokens: [WRITE] }));
    const foreign = fc.oneof(
      fc.uint8Array({ minLength: 1, maxLength: 40 }).map((b) => Buffer.from(b)),
      fc.string({ unit: "binary", minLength: 1, maxLength: 40 }).map((t) => Buffer.from(t)),
      fc
        .constantFrom(
          "partial",
          "admin login by ",
          "line\n",
          "\r",
          "two\nlines",
          "crlf\r\n",
          "\u202e",
          "\n\n",
        )
        .map((t) => Buffer.from(t)),
      fc.constantFrom(Buffer.from([0xc3]), Buffer.from([0xe2, 0x82]), Buffer.from([0xf0, 0x9f, 0x98])),
    );
    const step = fc.oneof(
      { arbitrary: foreign.map((bytes) => ({ foreign: bytes })), weight: 2 },
      { arbitrary: fc.integer({ min: 1, max: 3 }).map((entries) => ({ entries })), weight: 2 },
    );
    let n = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), async (steps) => {
        for (const op of steps) {
          const before = await readFile(s.file);
          if ("foreign" in op) {
            await appendFile(s.file, op.foreign);
            continue;
          }
          const messages = Array.from({ length: op.entries }, () => `entry ${n++}`);
          const r = await request(`${s.url}/api/streams/audit/entries`, {
            method: "POST",
            headers: { "content-type": "application/json", ...bearer(WRITE) },
            body: JSON.stringify({ entries: messages.map((message) => ({ message })) }),
          });
          expect(r.status).toBe(201);
          const after = await readFile(s.file);
          // The file is what it was, then a newline if it ended mid-line, then the entries, one line each.
          expect(after.subarray(0, before.length).equals(before)).toBe(true);
          const midLine = before.length > 0 && before[before.length - 1] !== 0x0a;
          const added = after.subarray(before.length).toString("utf8");
          expect(r.json()).toMatchObject({ bytes: after.length - before.length });
          expect(added.startsWith("\n")).toBe(midLine);
          const lines = (midLine ? added.slice(1) : added).split("\n");
          expect(lines.pop()).toBe("");
          expect(lines.map((l) => l.replace(/^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\] /, ""))).toEqual(messages);
        }
      }),
      { numRuns: 40 },
    );
  }, 120_000);
});
