import { rename, truncate } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import type { ServerMessage, WireLine } from "../../src/protocol/messages.js";
import { useClosers } from "../helpers/closer.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { appendLines, makeLines, startServer, TestClient, writeLines } from "./harness.js";

const track = useClosers();
const tempDir = useTempDirs("livetrail-resume-");

describe("resume by cursor", () => {
  // windowLines 1000 serves the resume from memory; 10 forces reading the gap from the file.
  for (const windowLines of [1000, 10]) {
    it(`after a client reconnect gets exactly the lines after the cursor (window ${windowLines})`, async () => {
      const dir = await tempDir();
      const file = dir.file("audit.log");
      await writeLines(file, makeLines(0, 20, "old"));
      const { wsUrl } = track(await startServer([{ name: "audit", file }], { windowLines }));

      const first = track(await TestClient.connect(`${wsUrl}/ws`));
      await first.subscribe("audit");
      const batch1 = makeLines(0, 50, "a");
      await appendLines(file, batch1);
      await first.waitForLines(50);
      const seen = first.lines();
      const resumeAt = seen[29] as WireLine;
      await first.close();

      const batch2 = makeLines(0, 200, "b");
      await appendLines(file, batch2);

      const second = track(await TestClient.connect(`${wsUrl}/ws`));
      await second.subscribe("audit", { since: resumeAt.c });
      const expected = [...batch1.slice(30), ...batch2];
      await second.waitForLines(expected.length);
      const batch3 = makeLines(0, 5, "c");
      await appendLines(file, batch3);
      await second.waitForText(batch3[4] as string);
      expect(second.texts()).toEqual([...expected, ...batch3]);
      // No gap was reported: the cursor's file is the current one.
      expect(second.messages.some((m) => m.type === "gap")).toBe(false);
    });
  }

  it("across a server restart (lines written while it was down included)", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await writeLines(file, makeLines(0, 10, "old"));
    const one = await startServer([{ name: "audit", file }]);
    const client = await TestClient.connect(`${one.wsUrl}/ws`);
    await client.subscribe("audit");
    const before = makeLines(0, 30, "before");
    await appendLines(file, before);
    await client.waitForLines(30);
    const cursor = (client.lines()[29] as WireLine).c;
    await client.close();
    await one.close();

    const during = makeLines(0, 40, "during");
    await appendLines(file, during);

    const two = track(await startServer([{ name: "audit", file }], { windowLines: 5 }));
    const again = track(await TestClient.connect(`${two.wsUrl}/ws`));
    await again.subscribe("audit", { since: cursor });
    await again.waitForLines(40);
    const after = makeLines(0, 3, "after");
    await appendLines(file, after);
    await again.waitForLines(43);
    await appendLines(file, ["END"]);
    await again.waitForText("END");
    expect(again.texts()).toEqual([...during, ...after, "END"]);
  });

  it("a cursor of a file that has since been replaced gets a gap, then the new file from its start", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await writeLines(file, makeLines(0, 10, "gen1"));
    const { wsUrl } = track(await startServer([{ name: "audit", file }]));
    const a = track(await TestClient.connect(`${wsUrl}/ws`));
    await a.subscribe("audit", { tail: 10 });
    const cursor = (a.lines()[4] as WireLine).c;
    await a.close();

    await rename(file, `${file}.old`);
    await writeLines(file, makeLines(0, 4, "gen2"));
    const b = track(await TestClient.connect(`${wsUrl}/ws`));
    await b.subscribe("audit", { since: cursor });
    const gap = await b.waitFor<Extract<ServerMessage, { type: "gap" }>>((m) => m.type === "gap");
    expect(gap.reason).toBe("file-changed");
    expect(gap.from).toBe(cursor);
    await b.waitForLines(4);
    await appendLines(file, ["END"]);
    await b.waitForText("END");
    expect(b.texts()).toEqual([...makeLines(0, 4, "gen2"), "END"]);
  });
});

describe("file events reach clients", () => {
  it("truncation (copytruncate) arrives as an event and new lines keep flowing", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await writeLines(file, makeLines(0, 10, "old"));
    const { wsUrl } = track(await startServer([{ name: "audit", file }]));
    const client = track(await TestClient.connect(`${wsUrl}/ws`));
    await client.subscribe("audit");
    await appendLines(file, makeLines(0, 3, "pre"));
    await client.waitForLines(3);
    await truncate(file, 0);
    await client.waitFor((m) => m.type === "truncated");
    const fresh = makeLines(0, 5, "post");
    await appendLines(file, fresh);
    await client.waitForLines(8);
    expect(client.texts()).toEqual([...makeLines(0, 3, "pre"), ...fresh]);
    const kinds = client.messages.map((m) => m.type).filter((t) => t === "truncated");
    expect(kinds).toEqual(["truncated"]);
  });

  it("rotation by rename arrives as an event, the old file's last lines first, then the new file", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await writeLines(file, makeLines(0, 10, "old"));
    const { wsUrl } = track(await startServer([{ name: "audit", file }]));
    const client = track(await TestClient.connect(`${wsUrl}/ws`));
    await client.subscribe("audit");
    await appendLines(file, makeLines(0, 3, "pre"));
    await client.waitForLines(3);
    await appendLines(file, makeLines(3, 2, "pre"));
    await rename(file, `${file}.1`);
    await writeLines(file, makeLines(0, 4, "rotated"));
    await client.waitFor((m) => m.type === "rotated");
    await client.waitForLines(9);
    await appendLines(file, ["END"]);
    await client.waitForText("END");
    expect(client.texts()).toEqual([...makeLines(0, 5, "pre"), ...makeLines(0, 4, "rotated"), "END"]);
  });
});

describe("a stream whose file does not exist yet", () => {
  it("accepts subscriptions, says the file is missing, and delivers lines once it appears", async () => {
    const dir = await tempDir();
    const file = dir.file("later.log");
    const { wsUrl } = track(await startServer([{ name: "later", file }]));
    const tailer = track(await TestClient.connect(`${wsUrl}/ws`));
    await tailer.subscribe("later", { tail: 10 });
    expect(tailer.messages.some((m) => m.type === "error")).toBe(false);
    const liveOnly = track(await TestClient.connect(`${wsUrl}/ws`));
    await liveOnly.subscribe("later");
    await writeLines(file, makeLines(0, 3, "born"));
    await appendLines(file, ["END"]);
    for (const c of [tailer, liveOnly]) {
      await c.waitForText("END");
      expect(c.texts()).toEqual([...makeLines(0, 3, "born"), "END"]);
    }
  });
});

describe("resume while lines keep arriving", () => {
  it("switches from catch-up to live without a gap or a duplicate", async () => {
    const dir = await tempDir();
    const file = dir.file("busy.log");
    const initial = makeLines(0, 3000, "base");
    await writeLines(file, initial);
    // A small window and small catch-up reads force many file reads racing with live batches.
    const { wsUrl, url } = track(
      await startServer([{ name: "busy", file }], { windowLines: 50, catchUpChunkLines: 100 }),
    );
    const page = (await (await fetch(`${url}/api/streams/busy/lines?after=start&limit=3000`)).json()) as {
      lines: WireLine[];
    };
    expect(page.lines).toHaveLength(3000);

    let writing = true;
    const written: string[] = [];
    const writer = (async () => {
      let i = 0;
      while (writing) {
        const lines = makeLines(i, 1 + (i % 7), "live");
        i += lines.length;
        written.push(...lines);
        await appendLines(file, lines);
        await new Promise((resolve) => setImmediate(resolve));
      }
    })();
    const starts = [0, 1, 500, 1234, 2000, 2900, 2950, 2990, 2999];
    const clients = await Promise.all(
      starts.map(async (k) => {
        const c = track(await TestClient.connect(`${wsUrl}/ws`));
        await c.subscribe("busy", { since: (page.lines[k] as WireLine).c });
        return { c, k };
      }),
    );
    writing = false;
    await writer;
    await appendLines(file, ["END"]);
    for (const { c, k } of clients) {
      await c.waitForText("END", {
        timeoutMs: 30_000,
      });
      expect(c.texts()).toEqual([...initial.slice(k + 1), ...written, "END"]);
      expect(c.messages.some((m) => m.type === "gap")).toBe(false);
    }
  }, 60_000);
});
