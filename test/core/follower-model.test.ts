import { appendFile, copyFile, rename, truncate, unlink, writeFile } from "node:fs/promises";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Follower } from "../../src/core/follower.js";
import type { FollowerEvent } from "../../src/core/follower-events.js";
import { makeTempDir } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";

/**
 * Model-based test: random sequences of writes, partial writes, writes to a renamed-away file, rename rotation,
 * copytruncate (also with an immediate rewrite) and delete run against a real file and a follower, and against an in-memory model of what the
 * follower must report. After every step the test waits until the follower has caught up (never sleeps), then
 * the reported lines and events must equal the model's exactly.
 */
type Op =
  | { kind: "write"; text: string }
  | { kind: "splitWrite"; text: string; cut: number }
  | { kind: "writeOld"; text: string }
  | { kind: "rename" }
  | { kind: "copytruncate" }
  | { kind: "copytruncateAndWrite"; text: string }
  | { kind: "delete" };

const decoder = new TextDecoder();

type Seen =
  | { line: string; unterminated?: true }
  | { event: "missing" | "rotated" | "truncated" }
  | FollowerEvent;

const text = fc
  .array(fc.constantFrom("a", "b", " ", "é", "😀", "\n", "\n", "\r\n", "\r"), { minLength: 1, maxLength: 12 })
  .map((chars) => chars.join(""));
const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 5, arbitrary: text.map((t): Op => ({ kind: "write", text: t })) },
  {
    weight: 2,
    arbitrary: fc.tuple(text, fc.nat()).map(([t, n]): Op => ({ kind: "splitWrite", text: t, cut: n })),
  },
  { weight: 1, arbitrary: text.map((t): Op => ({ kind: "writeOld", text: t })) },
  { weight: 1, arbitrary: fc.constant<Op>({ kind: "rename" }) },
  { weight: 1, arbitrary: fc.constant<Op>({ kind: "copytruncate" }) },
  { weight: 1, arbitrary: text.map((t): Op => ({ kind: "copytruncateAndWrite", text: t })) },
  { weight: 1, arbitrary: fc.constant<Op>({ kind: "delete" }) },
);

/** What the follower must have reported, and the files as they are. */
class Model {
  seen: Seen[] = [];
  /** Bytes after the last LF of the followed file (held back by the follower). */
  carry: Buffer = Buffer.alloc(0);
  /** Whether the path names a file. */
  exists = true;
  /** The followed file was renamed away and the path is empty: writes to "old" still reach the follower. */
  detached = false;
  /** Bytes in the file the follower reads (the renamed one while detached). */
  followedSize = 0;

  /** Bytes, not characters: a character cut in two is only part of a line once both halves are in. */
  append(data: Buffer | string): void {
    const bytes = Buffer.from(data);
    this.followedSize += bytes.length;
    let all = Buffer.concat([this.carry, bytes]);
    for (let lf = all.indexOf(10); lf >= 0; lf = all.indexOf(10)) {
      const text = decoder.decode(all.subarray(0, lf));
      this.seen.push({ line: text.endsWith("\r") ? text.slice(0, -1) : text });
      all = all.subarray(lf + 1);
    }
    this.carry = Buffer.from(all);
  }

  flushCarry(): void {
    if (this.carry.length > 0) this.seen.push({ line: decoder.decode(this.carry), unterminated: true });
    this.carry = Buffer.alloc(0);
  }

  /** A new file appears at the path (created by a write). */
  appeared(): void {
    if (this.detached) this.flushCarry();
    this.detached = false;
    this.exists = true;
    this.followedSize = 0;
    this.seen.push({ event: "rotated" });
  }
}

function observe(events: FollowerEvent[]): Seen[] {
  const seen: Seen[] = [];
  for (const event of events) {
    if (event.type === "lines") {
      for (const l of event.lines)
        seen.push(l.unterminated ? { line: l.text, unterminated: true } : { line: l.text });
    } else if (event.type === "missing" || event.type === "rotated" || event.type === "truncated") {
      seen.push({ event: event.type });
    } else {
      seen.push(event);
    }
  }
  return seen;
}

/** Positions must chain: each line starts where the previous ended, restarting at 0 in a new or truncated file. */
function checkPositions(events: FollowerEvent[]): void {
  let offset = 0;
  let seq = 0;
  for (const event of events) {
    if (event.type === "rotated" || event.type === "truncated") offset = 0;
    if (event.type !== "lines") continue;
    for (const line of event.lines) {
      expect(line.seq).toBe(++seq);
      expect(line.start).toBe(offset);
      const length = Buffer.byteLength(line.text);
      if (line.unterminated) expect(line.end - line.start).toBe(length);
      else expect([length + 1, length + 2]).toContain(line.end - line.start);
      offset = line.end;
    }
  }
}

async function runScenario(ops: Op[], watch: boolean): Promise<void> {
  const dir = await makeTempDir("livetrail-model-");
  const path = dir.file("app.log");
  let rotations = 0;
  let oldPath = "";
  await writeFile(path, "");
  const follower = new Follower(path, { start: { from: "start" }, watch, pollIntervalMs: watch ? 1000 : 10 });
  const events: FollowerEvent[] = [];
  follower.on((event) => events.push(event));
  const model = new Model();
  const settle = (what: string) =>
    waitFor(
      () => {
        const seen = observe(events);
        return (
          JSON.stringify(seen) === JSON.stringify(model.seen) &&
          (!model.exists && !model.detached ? true : follower.stats.readOffset === model.followedSize)
        );
      },
      { timeoutMs: 10_000, message: `follower to match the model after ${what}` },
    ).catch((error: unknown) => {
      // Show the difference, not only the timeout.
      expect({ after: what, seen: observe(events) }).toEqual({ after: what, seen: model.seen });
      throw error;
    });
  try {
    await follower.start();
    for (const step of ops) {
      switch (step.kind) {
        case "write":
        case "splitWrite": {
          const bytes = Buffer.from(step.text);
          const cut = step.kind === "splitWrite" ? step.cut % (bytes.length + 1) : bytes.length;
          const appearing = !model.exists;
          await appendFile(path, bytes.subarray(0, cut));
          if (appearing) model.appeared();
          model.append(bytes.subarray(0, cut));
          if (cut < bytes.length) {
            await settle(`first part of a split write ${JSON.stringify(step.text)}`);
            await appendFile(path, bytes.subarray(cut));
            model.append(bytes.subarray(cut));
          }
          break;
        }
        case "writeOld":
          if (!model.detached) continue;
          await appendFile(oldPath, step.text);
          model.append(step.text);
          break;
        case "rename":
          if (!model.exists) continue;
          oldPath = `${path}.${++rotations}`;
          await rename(path, oldPath);
          model.exists = false;
          model.detached = true;
          model.seen.push({ event: "missing" });
          break;
        case "copytruncate":
          if (!model.exists || model.followedSize === 0) continue;
          await copyFile(path, `${path}.${++rotations}`);
          await truncate(path, 0);
          model.flushCarry();
          model.followedSize = 0;
          model.seen.push({ event: "truncated" });
          break;
        case "copytruncateAndWrite": {
          // The file regrows at once, possibly beyond the old offset before the follower looks: its different
          // first bytes (a marker no other write uses) must still reveal the truncation.
          if (!model.exists || model.followedSize === 0) continue;
          const data = `#${++rotations}${step.text}`;
          await copyFile(path, `${path}.${rotations}`);
          await truncate(path, 0);
          await appendFile(path, data);
          model.flushCarry();
          model.followedSize = 0;
          model.seen.push({ event: "truncated" });
          model.append(data);
          break;
        }
        case "delete":
          if (!model.exists) continue;
          await unlink(path);
          model.exists = false;
          model.flushCarry();
          model.seen.push({ event: "missing" });
          break;
      }
      await settle(JSON.stringify(step));
    }
    checkPositions(events);
  } finally {
    await follower.close();
    await dir.remove();
  }
}

describe("Follower model", () => {
  it("matches the model over random write / partial write / rotate / truncate / delete sequences", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), fc.boolean(), (ops, watch) =>
        runScenario(ops, watch),
      ),
      { numRuns: 60, endOnFailure: true },
    );
  }, 120_000);
});
