import { describe, expect, it } from "vitest";
import { FileBackend } from "../../src/backend/file/file-backend.js";
import type { ServerMessage } from "../../src/protocol/messages.js";
import type { Batch } from "../../src/server/frames.js";
import { Hub, type HubSubscriber } from "../../src/server/hub.js";
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
}

describe("hub fan-out", () => {
  it("a subscriber that throws is ended alone; the others keep receiving every line", async () => {
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
});
