import { appendFile, link, rename, writeFile } from "node:fs/promises";
import { expect, it } from "vitest";
import { FileBackend } from "../../src/backend/file/file-backend.js";
import type { ServerMessage } from "../../src/protocol/messages.js";
import { Subscription } from "../../src/server/delivery/subscription.js";
import { Hub } from "../../src/server/hub.js";
import type { Sink } from "../../src/server/sink.js";
import { makeTempDir } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";

/** A client that takes everything at once and records it. */
class S implements Sink {
  format = "json" as const;
  maxBufferedBytes = 1 << 20;
  open = true;
  got: ServerMessage[] = [];
  send(d: Buffer | string) {
    this.got.push(JSON.parse(d.toString()));
  }
  bufferedBytes() {
    return 0;
  }
  drained() {
    return Promise.resolve();
  }
  overflow() {}
}
const delivery = { slowClients: "catch-up" as const, catchUpChunkLines: 100, catchUpFrameBytes: 1 << 16 };

/**
 * A client resumes while a rotation is on disk but the follower (polling slowly) has not acted on it: the stream is
 * still the old file, whose lines after the cursor are in the hub's window. They must come once, then the new
 * file's. Found by test/server/subscription-model.test.ts: a young file got a3, a4 again with a1, a2 (its cursors'
 * fingerprints are shorter than the follower's, so they were compared through the path, which held the new file);
 * an older one lost a3, a4 behind a file-changed gap.
 */
it.each([
  ["young file (fingerprint shorter than 256 bytes)", ""],
  ["file over 256 bytes", "x".repeat(300)],
])("resume while a rotation is on disk but not yet acted on: %s", async (_what, pad) => {
  const dir = await makeTempDir();
  const path = dir.file("a.log");
  await writeFile(path, `a1${pad}\na2\n`);
  const hub = new Hub("a", new FileBackend("a", path, { watch: false, pollIntervalMs: 1500 }), true, {
    windowLines: 100,
    windowBytes: 1 << 20,
    maxFrameBytes: 1 << 16,
  });
  await hub.start();
  const s1 = new S();
  const sub1 = new Subscription(hub, s1, { delivery });
  await sub1.start({ tail: 0 });
  const c = sub1.lastCursor as string; // after a2
  sub1.close();
  s1.open = false;
  await appendFile(path, "a3\na4\n");
  await waitFor(() => hub.windowAll().lines.length === 4, { timeoutMs: 5000 }); // the hub read a3, a4
  await writeFile(`${path}.new`, "b1\n");
  await link(path, `${path}.1`);
  await rename(`${path}.new`, path);
  const s2 = new S();
  const sub2 = new Subscription(hub, s2, { delivery });
  void sub2.start({ since: c });
  await waitFor(() => s2.got.some((m) => m.type === "lines" && m.text.includes("b1")), { timeoutMs: 5000 });
  await hub.close();
  await dir.remove();
  const texts = s2.got.flatMap((m) => (m.type === "lines" ? m.text : []));
  expect(texts.map((t) => t.slice(0, 2))).toEqual(["a3", "a4", "b1"]);
});
