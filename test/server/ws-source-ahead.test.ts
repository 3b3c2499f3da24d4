import { appendFile, rename, stat, truncate, writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import type { ServerMessage, WireLine } from "../../src/protocol/messages.js";
import { useClosers } from "../helpers/closer.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { appendLines, makeLines, startServer, TestClient, writeLines } from "./harness.js";

const track = useClosers();
const tempDir = useTempDirs("livetrail-ahead-");

const count = (client: TestClient, type: ServerMessage["type"]): number =>
  client.messages.filter((m) => m.type === type).length;

/**
 * The file at the path can be ahead of the hub: rotated or truncated before the follower looks, or (logrotate
 * 'create') renamed away with a new empty file left at the path while the writer still appends to the old one.
 * Catch-up must then neither compare positions of two different files nor loop.
 */
describe("catch-up while the source is ahead of the hub", () => {
  it("a tail while a new empty file sits at the path (rename rotation) comes from the followed file, then live", async () => {
    const dir = await tempDir();
    const file = dir.file("a.log");
    await writeLines(file, makeLines(0, 100));
    const { wsUrl } = track(await startServer([{ name: "a", file }], { windowLines: 10 }));
    const watcher = track(await TestClient.connect(`${wsUrl}/ws`));
    await watcher.subscribe("a");

    await rename(file, `${file}.1`);
    await writeFile(file, "");
    // The writer still appends to the renamed file; once this line arrives the follower has seen the rename.
    await appendFile(`${file}.1`, "[2025-12-17T17:40:37Z] after rename\n");
    await watcher.waitFor((m) => m.type === "lines" && m.lines.some((l) => l.text.endsWith("after rename")));

    const client = track(await TestClient.connect(`${wsUrl}/ws`));
    await client.subscribe("a", { tail: 50 });
    const recent = [...makeLines(91, 9), "[2025-12-17T17:40:37Z] after rename"];
    expect(client.texts("a")).toEqual(recent);
    expect(count(client, "gap")).toBe(0);
    expect(count(client, "live")).toBe(1);

    // The writer moves to the new file: the rotation and its lines arrive live.
    const fresh = makeLines(0, 3, "new");
    await appendLines(file, fresh);
    await client.waitForLines(recent.length + fresh.length, "a");
    expect(client.texts("a")).toEqual([...recent, ...fresh]);
    expect(count(client, "rotated")).toBe(1);
    expect(count(client, "gap")).toBe(0);
  });

  it("a resume from an older file renamed out of view (not a rotated name) while a new empty file sits at the path gets a gap to the followed file's window, then live", async () => {
    const dir = await tempDir();
    const file = dir.file("a.log");
    await writeLines(file, makeLines(0, 5, "v0"));
    const { wsUrl } = track(await startServer([{ name: "a", file }], { windowLines: 10 }));
    const watcher = track(await TestClient.connect(`${wsUrl}/ws`));
    await watcher.subscribe("a", { tail: 5 });
    const since = (watcher.lines("a").at(-1) as WireLine).c;
    // First rotation, with bytes in the new file: the hub follows it.
    await rename(file, `${file}.gone-1`);
    const v1 = makeLines(0, 30, "v1");
    await writeLines(file, v1);
    await watcher.waitForLines(5 + v1.length, "a");
    // Second rotation, logrotate 'create': an empty file at the path, the writer still on the renamed one.
    await rename(file, `${file}.gone-2`);
    await writeFile(file, "");
    await appendFile(`${file}.gone-2`, "[2025-12-17T17:40:37Z] after rename\n");
    await watcher.waitFor((m) => m.type === "lines" && m.lines.some((l) => l.text.endsWith("after rename")));

    const client = track(await TestClient.connect(`${wsUrl}/ws`));
    await client.subscribe("a", { since });
    const recent = [...v1.slice(-9), "[2025-12-17T17:40:37Z] after rename"];
    expect(client.texts("a")).toEqual(recent);
    const gaps = client.messages.filter((m) => m.type === "gap");
    expect(gaps).toHaveLength(1);
    expect(gaps[0]).toMatchObject({ reason: "file-changed", from: since });

    const fresh = makeLines(0, 3, "v2");
    await appendLines(file, fresh);
    await client.waitForLines(recent.length + fresh.length, "a");
    expect(client.texts("a")).toEqual([...recent, ...fresh]);
    expect(count(client, "rotated")).toBe(1);
  });

  it("a resume from an older file rotated to NAME.2 while NAME.1 is still written and an empty file sits at the path is exact (rotated history), then live", async () => {
    const dir = await tempDir();
    const file = dir.file("a.log");
    await writeLines(file, makeLines(0, 5, "v0"));
    const { wsUrl } = track(await startServer([{ name: "a", file }], { windowLines: 10 }));
    const watcher = track(await TestClient.connect(`${wsUrl}/ws`));
    await watcher.subscribe("a", { tail: 5 });
    const since = (watcher.lines("a").at(-1) as WireLine).c;
    // First rotation, with bytes in the new file: the hub follows it.
    await rename(file, `${file}.2`);
    const v1 = makeLines(0, 30, "v1");
    await writeLines(file, v1);
    await watcher.waitForLines(5 + v1.length, "a");
    // Second rotation, logrotate 'create': an empty file at the path, the writer still on the renamed one.
    await rename(file, `${file}.1`);
    await writeFile(file, "");
    await appendFile(`${file}.1`, "[2025-12-17T17:40:37Z] after rename\n");
    await watcher.waitFor((m) => m.type === "lines" && m.lines.some((l) => l.text.endsWith("after rename")));

    const client = track(await TestClient.connect(`${wsUrl}/ws`));
    await client.subscribe("a", { since });
    // The rest of a.log.2 (nothing), then all of a.log.1, which the feed still reads: no line lost, no gap.
    const recent = [...v1, "[2025-12-17T17:40:37Z] after rename"];
    await client.waitForLines(recent.length, "a");
    expect(client.texts("a")).toEqual(recent);
    expect(count(client, "gap")).toBe(0);

    const fresh = makeLines(0, 3, "v2");
    await appendLines(file, fresh);
    await client.waitForLines(recent.length + fresh.length, "a");
    expect(client.texts("a")).toEqual([...recent, ...fresh]);
    expect(count(client, "rotated")).toBe(1);
  });

  it("a resume after copytruncate the follower has not seen sends the new content once", async () => {
    const dir = await tempDir();
    const file = dir.file("a.log");
    await writeLines(file, makeLines(0, 100));
    // Polling only, slowly: the follower most likely looks after the client has resumed.
    const { wsUrl } = track(
      await startServer([{ name: "a", file }], { windowLines: 10, watch: false, pollIntervalMs: 1000 }),
    );
    const first = track(await TestClient.connect(`${wsUrl}/ws`));
    await first.subscribe("a", { tail: 100 });
    const since = (first.lines("a")[20] as WireLine).c; // older than the window: read from the file
    await first.close();

    const rewritten = makeLines(0, 20, "new");
    await writeLines(file, rewritten); // truncate and rewrite, shorter than the cursor's offset
    const client = track(await TestClient.connect(`${wsUrl}/ws`));
    await client.subscribe("a", { since });
    await client.waitForLines(rewritten.length, "a");
    const marker = makeLines(0, 1, "marker");
    await appendLines(file, marker);
    await client.waitForText(marker[0] as string);
    expect(client.texts("a")).toEqual([...rewritten, ...marker]);
    expect(count(client, "gap")).toBeLessThanOrEqual(1);
  });

  it("a resume past the end of a file truncated in place (same first bytes) gets a truncated gap, then the file once", async () => {
    const dir = await tempDir();
    const file = dir.file("a.log");
    const all = makeLines(0, 100);
    await writeLines(file, all.slice(0, 30));
    const keep = (await stat(file)).size;
    await appendLines(file, all.slice(30));
    const { wsUrl } = track(
      await startServer([{ name: "a", file }], { windowLines: 10, watch: false, pollIntervalMs: 1000 }),
    );
    const first = track(await TestClient.connect(`${wsUrl}/ws`));
    await first.subscribe("a", { tail: 100 });
    const since = (first.lines("a")[59] as WireLine).c;
    await first.close();

    await truncate(file, keep); // the first 30 lines stay: same head, same identity, shorter than the cursor
    const client = track(await TestClient.connect(`${wsUrl}/ws`));
    await client.subscribe("a", { since });
    await client.waitForLines(30, "a");
    const marker = makeLines(0, 1, "marker");
    await appendLines(file, marker);
    await client.waitForText(marker[0] as string);
    expect(client.texts("a")).toEqual([...all.slice(0, 30), ...marker]);
    const gaps = client.messages.filter((m) => m.type === "gap");
    expect(gaps.map((g) => g.type === "gap" && g.reason)).toEqual(["truncated"]);
  });

  it("a resume during a rotation the follower has not seen never replays the old file as the new one", async () => {
    const dir = await tempDir();
    const file = dir.file("a.log");
    await writeLines(file, makeLines(0, 20, "old"));
    const { wsUrl } = track(await startServer([{ name: "a", file }], { watch: false, pollIntervalMs: 1000 }));
    const first = track(await TestClient.connect(`${wsUrl}/ws`));
    await first.subscribe("a", { tail: 20 });
    const since = (first.lines("a").at(-1) as WireLine).c;
    await first.close();

    await rename(file, `${file}.1`);
    const fresh = makeLines(0, 5, "new");
    await writeLines(file, fresh);
    const client = track(await TestClient.connect(`${wsUrl}/ws`));
    await client.subscribe("a", { since });
    expect(count(client, "error")).toBe(0);
    await client.waitForLines(fresh.length, "a");
    const marker = makeLines(0, 1, "marker");
    await appendLines(file, marker);
    await client.waitForText(marker[0] as string);
    // The client had every old line: it gets the new file's lines, each once, and nothing else.
    expect(client.texts("a")).toEqual([...fresh, ...marker]);
  });
});
