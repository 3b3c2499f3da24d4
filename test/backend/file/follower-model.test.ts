import { appendFile, copyFile, link, rename, truncate, unlink, writeFile } from "node:fs/promises";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { Follower } from "../../../src/backend/file/follower.js";
import type { FollowerEvent } from "../../../src/backend/file/follower-events.js";
import { makeTempDir } from "../../helpers/temp-dir.js";
import { waitFor } from "../../helpers/wait-for.js";

/**
 * Model-based test: random sequences of writes, split writes, writes to a renamed-away file, rename rotation (with
 * and without an empty new file created at once, as logrotate does), copytruncate (also with an immediate
 * rewrite) and delete run against a real file and a follower, and against an in-memory model of what the
 * follower must report. After every step the test waits until the follower has caught up (never sleeps); the
 * reported lines and events must then equal the model's exactly.
 */
type Op =
  | { kind: "write"; text: string }
  | { kind: "splitWrite"; text: string; cut: number }
  | { kind: "writeOld"; text: string }
  | { kind: "rename" }
  | { kind: "renameCreateEmpty" }
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
  { weight: 2, arbitrary: text.map((t): Op => ({ kind: "writeOld", text: t })) },
  { weight: 1, arbitrary: fc.constant<Op>({ kind: "rename" }) },
  { weight: 1, arbitrary: fc.constant<Op>({ kind: "renameCreateEmpty" }) },
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
  /** The follower still reads a file renamed away from the path (a writer may still append to it). */
  detached = false;
  /** While detached: bytes in the new file at the path (the follower moves to it once it has any). */
  newFile: Buffer = Buffer.alloc(0);
  /** The followed file was deleted: the follower has no file until one appears. */
  waiting = false;
  /** Bytes in the file the follower reads. */
  followedSize = 0;
  /** "missing" is reported once until the follower attaches to a file again. */
  missingReported = false;

  /** Bytes, not characters: a character cut in two is only part of a line once both halves are in. */
  append(data: Buffer | string): void {
    const bytes = Buffer.from(data);
    this.followedSize += bytes.length;
    let all = Buffer.concat([this.carry, bytes]);
    for (let lf = all.indexOf(10); lf >= 0; lf = all.indexOf(10)) {
      const line = decoder.decode(all.subarray(0, lf));
      this.seen.push({ line: line.endsWith("\r") ? line.slice(0, -1) : line });
      all = all.subarray(lf + 1);
    }
    this.carry = Buffer.from(all);
  }

  flushCarry(): void {
    if (this.carry.length > 0) this.seen.push({ line: decoder.decode(this.carry), unterminated: true });
    this.carry = Buffer.alloc(0);
  }

  missing(): void {
    if (this.missingReported) return;
    this.missingReported = true;
    this.seen.push({ event: "missing" });
  }

  /** Bytes were appended to the path. */
  pathWrite(bytes: Buffer): void {
    this.exists = true;
    if (this.detached) {
      this.newFile = Buffer.concat([this.newFile, bytes]);
      if (this.newFile.length === 0) return;
      this.flushCarry();
      this.attachNew();
      this.append(this.newFile);
      this.detached = false;
      this.newFile = Buffer.alloc(0);
    } else if (this.waiting) {
      this.waiting = false;
      this.attachNew();
      this.append(bytes);
    } else {
      this.append(bytes);
    }
  }

  private attachNew(): void {
    this.seen.push({ event: "rotated" });
    this.followedSize = 0;
    this.missingReported = false;
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
      () =>
        JSON.stringify(observe(events)) === JSON.stringify(model.seen) &&
        (model.waiting || follower.stats.readOffset === model.followedSize),
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
          await appendFile(path, bytes.subarray(0, cut));
          model.pathWrite(bytes.subarray(0, cut));
          if (cut < bytes.length) {
            await settle(`first part of a split write ${JSON.stringify(step.text)}`);
            await appendFile(path, bytes.subarray(cut));
            model.pathWrite(bytes.subarray(cut));
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
          // While detached, the path holds only the new empty file: moving it away leaves the followed file alone.
          await rename(path, `${path}.${++rotations}`);
          if (!model.detached) oldPath = `${path}.${rotations}`;
          model.exists = false;
          model.detached = true;
          model.newFile = Buffer.alloc(0);
          model.missing();
          break;
        case "renameCreateEmpty": {
          // logrotate's way: the old file gets a new name and an empty file takes its place in one step (no
          // moment without a file at the path); the writer keeps appending to the old file until it reopens.
          if (!model.exists || model.detached || model.waiting) continue;
          oldPath = `${path}.${++rotations}`;
          await link(path, oldPath);
          await writeFile(`${path}.new`, "");
          await rename(`${path}.new`, path);
          model.detached = true;
          model.newFile = Buffer.alloc(0);
          break;
        }
        case "copytruncate":
        case "copytruncateAndWrite": {
          if (!model.exists || model.detached || model.waiting || model.followedSize === 0) continue;
          await copyFile(path, `${path}.${++rotations}`);
          await truncate(path, 0);
          model.flushCarry();
          model.followedSize = 0;
          model.seen.push({ event: "truncated" });
          if (step.kind === "copytruncateAndWrite") {
            // The file regrows at once, possibly beyond the old offset before the follower looks: its different
            // first bytes (a marker no other write uses) must still reveal the truncation.
            const data = Buffer.from(`#${rotations}${step.text}`);
            await appendFile(path, data);
            model.pathWrite(data);
          }
          break;
        }
        case "delete":
          if (!model.exists) continue;
          await unlink(path);
          model.exists = false;
          if (model.detached) {
            model.newFile = Buffer.alloc(0);
          } else {
            model.flushCarry();
            model.waiting = true;
          }
          model.missing();
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
  it("matches the model over random write / split write / rotate / truncate / delete sequences", async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { minLength: 1, maxLength: 25 }), fc.boolean(), (ops, watch) =>
        runScenario(ops, watch),
      ),
      { numRuns: 60, endOnFailure: true },
    );
  }, 120_000);
});
