import { appendFile, readFile, rename, writeFile } from "node:fs/promises";
import { gzipSync } from "node:zlib";
import { describe, expect, it } from "vitest";
import type { WireLine } from "../../../src/protocol/messages.js";
import { useClosers } from "../../helpers/closer.js";
import { useTempDirs } from "../../helpers/temp-dir.js";
import { appendLines, makeLines, startServer, TestClient, writeLines } from "../../server/harness.js";

const track = useClosers();
const tempDir = useTempDirs("livetrail-rotated-resume-");

/**
 * A cursor into the followed file, taken before a logrotate-style rotation (rename to .1, a new file at the
 * path), resumes exactly: the rest of .1, then the new file; no gap while .1 exists. Through a real server and
 * WebSocket clients, so the catch-up's order between the two files (the backend's compare) is exercised too.
 */
describe("resuming across a rotation", () => {
  for (const restart of [false, true]) {
    for (const windowLines of [1000, 5]) {
      it(`a cursor into the rotated file resumes with the rest of .1, then the new file (restart: ${restart}, window ${windowLines})`, async () => {
        const dir = await tempDir();
        const file = dir.file("audit.log");
        await writeLines(file, makeLines(0, 20, "old"));
        const streams = [{ name: "audit", file }];
        let server = await startServer(streams, { windowLines });
        const closeServer = track(server);
        const a = track(await TestClient.connect(`${server.wsUrl}/ws`));
        await a.subscribe("audit", { tail: 20 });
        await a.waitForLines(20);
        const cursor = (a.lines()[7] as WireLine).c;
        await a.close();

        // Without a restart the live feed must have acted on the rotation first: a live client sees it.
        const watcher = restart ? null : track(await TestClient.connect(`${server.wsUrl}/ws`));
        await watcher?.subscribe("audit");
        if (restart) await closeServer.close();
        await rename(file, `${file}.1`);
        await writeLines(file, makeLines(0, 5, "new"));
        if (restart) server = track(await startServer(streams, { windowLines }));
        else await watcher?.waitFor((m) => m.type === "rotated");

        const b = track(await TestClient.connect(`${server.wsUrl}/ws`));
        await b.subscribe("audit", { since: cursor });
        await b.waitForLines(17);
        await appendLines(file, ["END"]);
        await b.waitForText("END");
        expect(b.texts()).toEqual([...makeLines(8, 12, "old"), ...makeLines(0, 5, "new"), "END"]);
        expect(b.messages.filter((m) => m.type === "gap")).toEqual([]);
      });
    }
  }

  it("a cursor into a rotated file compressed since resumes from the .gz (cursors name the .gz by identity)", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    // .2.gz was compressed before the client saw it: its cursor comes from paging history.
    await writeFile(`${file}.2.gz`, gzipSync(`${makeLines(0, 10, "two").join("\n")}\n`));
    await writeLines(`${file}.1`, makeLines(0, 10, "one"));
    await writeLines(file, makeLines(0, 3, "cur"));
    const server = track(await startServer([{ name: "audit", file }]));
    const page = (await (
      await fetch(`${server.url}/api/streams/audit/lines?after=start&limit=4`)
    ).json()) as {
      lines: WireLine[];
    };
    expect(page.lines.map((l) => l.text)).toEqual(makeLines(0, 4, "two"));
    const b = track(await TestClient.connect(`${server.wsUrl}/ws`));
    await b.subscribe("audit", { since: (page.lines[3] as WireLine).c });
    await b.waitForLines(19);
    expect(b.texts()).toEqual([
      ...makeLines(4, 6, "two"),
      ...makeLines(0, 10, "one"),
      ...makeLines(0, 3, "cur"),
    ]);
    expect(b.messages.filter((m) => m.type === "gap")).toEqual([]);
    // And the .gz itself was never rewritten by reading it.
    expect((await readFile(`${file}.2.gz`)).length).toBeGreaterThan(0);
  });

  it("a cursor two rotations back, while the feed still reads the renamed file (path empty), resumes exactly", async () => {
    const dir = await tempDir();
    const file = dir.file("a.log");
    await writeLines(file, makeLines(0, 5, "v0"));
    const server = track(await startServer([{ name: "a", file }], { windowLines: 10 }));
    const watcher = track(await TestClient.connect(`${server.wsUrl}/ws`));
    await watcher.subscribe("a", { tail: 5 });
    const since = (watcher.lines("a")[2] as WireLine).c;
    // logrotate order: .1 → .2, then the followed file → .1 with a new file at the path.
    await rename(file, `${file}.1`);
    const v1 = makeLines(0, 30, "v1");
    await writeLines(file, v1);
    await watcher.waitForLines(5 + v1.length, "a");
    await rename(`${file}.1`, `${file}.2`);
    await rename(file, `${file}.1`);
    // 'create': an empty file at the path while the writer still appends to the renamed one.
    await writeFile(file, "");
    await appendFile(`${file}.1`, "[2025-12-17T17:40:37Z] after rename\n");
    await watcher.waitFor((m) => m.type === "lines" && m.lines.some((l) => l.text.endsWith("after rename")));

    const client = track(await TestClient.connect(`${server.wsUrl}/ws`));
    await client.subscribe("a", { since });
    const expected = [...makeLines(3, 2, "v0"), ...v1, "[2025-12-17T17:40:37Z] after rename"];
    await client.waitForLines(expected.length, "a");
    const fresh = makeLines(0, 3, "v2");
    await appendLines(file, fresh);
    await client.waitForLines(expected.length + fresh.length, "a");
    expect(client.texts("a")).toEqual([...expected, ...fresh]);
    expect(client.messages.filter((m) => m.type === "gap")).toEqual([]);
  });
});
