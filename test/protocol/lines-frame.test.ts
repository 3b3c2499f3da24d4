import { describe, expect, it } from "vitest";
import { FollowedLine, type Line } from "../../src/core/line.js";
import { frameLines } from "../../src/protocol/lines-frame.js";
import type { LinesFrame } from "../../src/protocol/messages.js";
import { Batch, toWireLine } from "../../src/server/frames.js";

const PREFIX = "1.abc.";

function line(seq: number, text: string, start: number, extra: Partial<Line> = {}): Line {
  const l = new FollowedLine(seq, text, start, start + Buffer.byteLength(text) + 1, PREFIX);
  return Object.assign(l, extra);
}

describe("the lines frame's per-line columns", () => {
  it("carries stderr marks and the source's own times by line index, and frameLines gives them back per line", () => {
    const lines = [
      line(1, "out one", 0, { time: "2025-12-17T17:40:37.123456789Z" }),
      line(2, "err two", 8, { channel: "stderr", time: "2025-12-17T17:40:38Z" }),
      line(3, "plain three", 16),
    ];
    const frame = JSON.parse(new Batch("c", lines).frame("json").toString()) as LinesFrame;
    expect(frame.err).toEqual([1]);
    expect(frame.ts).toEqual({ 0: "2025-12-17T17:40:37.123456789Z", 1: "2025-12-17T17:40:38Z" });
    const back = frameLines(frame);
    expect(back.map((l) => [l.text, l.ch, l.ts, l.c])).toEqual(
      lines.map((l) => [l.text, l.channel, l.time, l.cursor]),
    );
  });

  it("has neither column for lines from plain files, and the HTTP line prefers the source's time to the text's", () => {
    const frame = JSON.parse(
      new Batch("f", [line(1, "[2025-01-01T00:00:00Z] a", 0)]).frame("json").toString(),
    );
    expect(frame).not.toHaveProperty("err");
    expect(frame).not.toHaveProperty("ts");
    const wire = toWireLine(
      line(1, "[2025-01-01T00:00:00Z] a", 0, { time: "2025-12-17T17:40:37Z", channel: "stderr" }),
    );
    expect(wire).toMatchObject({ ts: "2025-12-17T17:40:37Z", ch: "stderr" });
  });
});
