import { describe, expect, it } from "vitest";
import { RingBackend } from "../../../src/backend/ring/ring-backend.js";
import { CursorError } from "../../../src/core/cursor.js";
import { numbered, streamBackendContract } from "../contract/stream-backend.contract.js";

const toText = (lines: string[]) => (lines.length === 0 ? "" : `${lines.join("\n")}\n`);
const big = { maxLines: 10_000, maxBytes: 1 << 24 };

streamBackendContract("RingBackend", async (initial) => {
  const backend = new RingBackend("ring", big);
  backend.write(Buffer.from(toText(initial)));
  return {
    backend,
    append: async (lines) => backend.write(Buffer.from(toText(lines))),
    // A ring lives in memory: a new server starts an empty one, fed again from its input.
    reopen: async () => {
      const next = new RingBackend("ring", big);
      next.write(Buffer.from(toText(initial)));
      return next;
    },
    close: async () => {},
  };
});

/** What only a ring does: it drops its oldest lines, and takes bytes in any pieces. */
describe("RingBackend: a bounded stream in memory", () => {
  it("drops the oldest lines past its line budget; a reader behind them gets a trimmed gap with the count", async () => {
    const ring = new RingBackend("r", { maxLines: 10, maxBytes: 1 << 20 });
    ring.write(Buffer.from(toText(numbered(0, 5))));
    const early = (await ring.tailCursor(3)) as string; // after entry 1
    ring.write(Buffer.from(toText(numbered(5, 20))));
    expect((await ring.readAfter(null, 100)).lines.map((l) => l.text)).toEqual(numbered(15, 10));
    const plan = await ring.resumeFrom(early, null);
    expect(plan).toMatchObject({ kind: "gap", reason: "trimmed", skipped: 13 });
    await expect(ring.readAfter(early, 1)).rejects.toMatchObject({ reason: "trimmed" });
    const to = (plan as { to: string }).to;
    expect((await ring.readAfter(to, 1)).lines[0]?.text).toBe(numbered(15, 1)[0]);
  });

  it("keeps to its byte budget (at least the newest line)", async () => {
    const ring = new RingBackend("r", { maxLines: 1000, maxBytes: 100 });
    ring.write(Buffer.from(toText(numbered(0, 50))));
    const held = (await ring.readAfter(null, 1000)).lines;
    expect((await ring.info(null)).size).toBeLessThanOrEqual(100);
    expect(held.at(-1)?.text).toBe(numbered(49, 1)[0]);
    ring.write(Buffer.from(`${"x".repeat(500)}\n`));
    expect((await ring.readAfter(null, 1000)).lines.map((l) => l.text)).toEqual(["x".repeat(500)]);
  });

  it("joins lines and UTF-8 characters split across writes; a last line without newline is kept at the end, marked", async () => {
    const ring = new RingBackend("r", { maxLines: 100, maxBytes: 1 << 20 });
    const bytes = Buffer.from("première ligne\r\nzweite Zeile ü\nunfinished");
    for (let i = 0; i < bytes.length; i += 3) ring.write(bytes.subarray(i, i + 3));
    expect((await ring.readAfter(null, 10)).lines.map((l) => l.text)).toEqual([
      "première ligne",
      "zweite Zeile ü",
    ]);
    ring.end();
    const lines = (await ring.readAfter(null, 10)).lines;
    expect(lines.map((l) => l.text)).toEqual(["première ligne", "zweite Zeile ü", "unfinished"]);
    expect(lines[2]?.unterminated).toBe(true);
  });

  it("refuses cursors that are not its own, beyond its end, or between lines", async () => {
    const ring = new RingBackend("r", { maxLines: 100, maxBytes: 1 << 20 });
    ring.write(Buffer.from(toText(numbered(0, 3))));
    const end = (await ring.tail(0)).cursor;
    const [prefix, run, position] = end.split(".");
    await expect(ring.resumeFrom(`1.0123456789ab.0.5.1`, end)).rejects.toBeInstanceOf(CursorError);
    const beyond = `${prefix}.${run}.${(Number.parseInt(position as string, 36) + 10).toString(36)}.3`;
    await expect(ring.resumeFrom(beyond, end)).rejects.toBeInstanceOf(CursorError);
    await expect(ring.readAfter(`${prefix}.${run}.3.0`, 1)).rejects.toBeInstanceOf(CursorError);
  });
});
