import { describe, expect, it } from "vitest";
import { FileBackend } from "../../src/backend/file/file-backend.js";
import type { ServerMessage } from "../../src/protocol/messages.js";
import type { Batch } from "../../src/server/frames.js";
import { type FeedTap, Hub, type HubSubscriber } from "../../src/server/hub.js";
import { useClosers } from "../helpers/closer.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { appendLines, makeLines, writeLines } from "./harness.js";

const track = useClosers();
const tempDir = useTempDirs("livetrail-hub-");

/** Records what the hub hands it; `fails` makes it throw on every batch and event. */
class Recorder implements HubSubscriber {
  readonly texts: string[] = [];
  readonly events: ServerMessage[] = [];
  aborted: unknown = null;
  constructor(private readonly fails: boolean) {}
  onBatch(batch: Batch): number {
    if (this.fails) throw new Error("subscriber broke");
    this.texts.push(...batch.lines.map((l) => l.text));
    return 1;
  }
  onEvent(message: ServerMessage): void {
    if (this.fails) throw new Error("subscriber broke");
    this.events.push(message);
  }
  abort(error: unknown): void {
    this.aborted = error;
  }
  /** Backed up: every call asks the hub to wait, and the wait never ends. */
  backedUp = false;
  paceCalls = 0;
  pace(): Promise<void> | null {
    this.paceCalls++;
    return this.backedUp ? new Promise<void>(() => {}) : null;
  }
}

/** A started hub on a new, empty file. */
async function startHub(): Promise<{ hub: Hub; file: string }> {
  const dir = await tempDir();
  const file = dir.file("a.log");
  await writeLines(file, []);
  const hub = track(
    new Hub("a", new FileBackend("a", file, { pollIntervalMs: 50 }), true, {
      windowLines: 100,
      windowBytes: 1 << 20,
      maxFrameBytes: 1 << 16,
    }),
  );
  await hub.start();
  return { hub, file };
}

describe("hub fan-out", () => {
  it("a subscriber that throws is ended alone; the others keep receiving every line", async () => {
    const { hub, file } = await startHub();
    const before = new Recorder(false);
    const broken = new Recorder(true);
    const after = new Recorder(false);
    for (const s of [before, broken, after]) hub.add(s);

    const lines = makeLines(0, 20);
    await appendLines(file, lines);
    await waitFor(() => after.texts.length >= lines.length, {
      message: "the lines after the broken subscriber",
    });
    expect(before.texts).toEqual(lines);
    expect(after.texts).toEqual(lines);
    expect((broken.aborted as Error).message).toBe("subscriber broke");
    expect(hub.clientCount).toBe(2);
  });

  it("asks subscribers before each further chunk of a burst, and reads on when all stay backed up", async () => {
    const { hub, file } = await startHub();
    const stalled = [new Recorder(false), new Recorder(false)];
    for (const s of stalled) {
      s.backedUp = true;
      hub.add(s);
    }
    // ~3 MiB: the follower reads it in 1 MiB chunks, so it asks at least twice.
    const lines = makeLines(0, (3 * 2 ** 20) / 40).map((l) => l.padEnd(40, "."));
    await appendLines(file, lines);
    await waitFor(() => (stalled[1] as Recorder).texts.length >= lines.length, {
      message: "every line despite subscribers that never drain",
    });
    for (const s of stalled) {
      expect(s.texts).toEqual(lines);
      expect(s.paceCalls).toBeGreaterThanOrEqual(2);
    }
  });

  it("a tap sees every line and event before the subscribers, and one that throws is reported and kept", async () => {
    const errors: string[] = [];
    const dir = await tempDir();
    const file = dir.file("t.log");
    await writeLines(file, []);
    const hub = track(
      new Hub("t", new FileBackend("t", file, { pollIntervalMs: 50 }), true, {
        windowLines: 100,
        windowBytes: 1 << 20,
        maxFrameBytes: 1 << 16,
        onError: (_stream, error) => errors.push(error.message),
      }),
    );
    await hub.start();
    const order: string[] = [];
    const seen: string[] = [];
    const events: string[] = [];
    const tap: FeedTap = {
      onLines(from, lines) {
        expect(from).toBe(hub);
        order.push("tap");
        seen.push(...lines.map((l) => l.text));
      },
      onEvent(_from, event) {
        events.push(event.type);
      },
    };
    const broken: FeedTap = {
      onLines() {
        throw new Error("tap broke");
      },
      onEvent() {
        throw new Error("tap broke");
      },
    };
    hub.tap(broken);
    const untap = hub.tap(tap);
    const subscriber = new Recorder(false);
    const onBatch = subscriber.onBatch.bind(subscriber);
    subscriber.onBatch = (batch) => {
      order.push("subscriber");
      return onBatch(batch);
    };
    hub.add(subscriber);

    await appendLines(file, makeLines(0, 5));
    await waitFor(() => subscriber.texts.length >= 5, { message: "the first lines" });
    await writeLines(file, makeLines(100, 1));
    await waitFor(() => events.length >= 1, { message: "the truncation" });
    expect(seen.slice(0, 5)).toEqual(makeLines(0, 5));
    expect(order[0]).toBe("tap");
    expect(events[0]).toBe("reset");
    expect(errors.filter((m) => m === "tap broke").length).toBeGreaterThanOrEqual(2);

    untap();
    const before = seen.length;
    await appendLines(file, makeLines(200, 3));
    await waitFor(() => subscriber.texts.includes(makeLines(200, 3)[2] as string), {
      message: "lines after untap",
    });
    expect(seen.length).toBe(before);
  });
});
