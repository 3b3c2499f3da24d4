import { describe, expect, it } from "vitest";
import { CommandBackend } from "../../src/backend/command/command-backend.js";
import { commandEnv } from "../../src/backend/command/command-env.js";
import { parseCommandSpec } from "../../src/backend/command/command-spec.js";
import { frameLines } from "../../src/protocol/lines-frame.js";
import type { ServerMessage } from "../../src/protocol/messages.js";
import { exitedText } from "../../src/web/exit-marker.js";
import { StreamStore } from "../../src/web/store.js";
import { useClosers } from "../helpers/closer.js";
import { startServer, TestClient } from "../server/harness.js";

type Exited = Extract<ServerMessage, { type: "exited" }>;

describe("a command stream's exited marker", () => {
  const track = useClosers();

  it("says how the process ended and when it restarts", () => {
    expect(exitedText({ code: 3, signal: null, restartInMs: 2000 })).toBe(
      "process exited with code 3 · restarting in 2 s",
    );
    expect(exitedText({ code: null, signal: "SIGKILL", restartInMs: 1500 })).toBe(
      "killed by SIGKILL · restarting in 1.5 s",
    );
    expect(exitedText({ code: 0, signal: null, restartInMs: 250 })).toBe(
      "process exited with code 0 · restarting in 250 ms",
    );
    expect(exitedText({ code: 1, signal: null, restartInMs: null })).toBe(
      "process exited with code 1 · not restarted",
    );
  });

  it("a real sh: command that exits 3, then one killed by SIGKILL: marker rows after their lines in the page's store", async () => {
    const backend = (name: string, spec: string) =>
      new CommandBackend(name, {
        command: parseCommandSpec(spec),
        env: commandEnv(process.env, []),
        ring: { maxLines: 100, maxBytes: 1 << 16 },
        start: "boot",
        backoff: { initialMs: 2000, maxMs: 2000, resetAfterMs: 60_000 },
        stopGraceMs: 500,
      });
    const s = track(
      await startServer([
        { name: "crashy", backend: backend("crashy", "sh:echo starting; exit 3") },
        { name: "killed", backend: backend("killed", "sh:echo hi; kill -9 $$") },
      ]),
    );
    const client = track(await TestClient.connect(`${s.wsUrl}/ws`));
    for (const stream of ["crashy", "killed"]) client.send({ type: "subscribe", stream, tail: 10 });
    for (const stream of ["crashy", "killed"]) {
      const exited = (await client.waitFor((m) => m.type === "exited" && m.stream === stream, {
        message: `${stream} exited`,
      })) as Exited;
      // What app.ts does with the messages of one tab, on the page's own store.
      const store = new StreamStore();
      for (const m of client.messages as ServerMessage[]) {
        if (m.type === "lines" && m.stream === stream) store.appendLive(frameLines(m));
        if (m.type === "exited" && m.stream === stream && m === exited)
          store.appendGap({
            from: m.cursor,
            to: m.cursor,
            reason: "marker-exited",
            unavailable: true,
            note: exitedText(m),
          });
      }
      expect(store.text(0)).toBe(stream === "crashy" ? "starting" : "hi");
      expect(store.isGap(store.length - 1)).toBe(true);
      expect(store.gap(store.length - 1)?.note).toBe(
        stream === "crashy"
          ? "process exited with code 3 · restarting in 2 s"
          : "killed by SIGKILL · restarting in 2 s",
      );
      expect(store.resumeCursor).toBe(exited.cursor);
    }
  });
});
