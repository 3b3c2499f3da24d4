import { appendFile, truncate, writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { prefixOf } from "../../src/core/cursor.js";
import type { LinesPage } from "../../src/protocol/messages.js";
import { useClosers } from "../helpers/closer.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { appendLines, makeLines, startServer, TestClient, writeLines } from "./harness.js";

const track = useClosers();
const tempDir = useTempDirs("livetrail-server-");

describe("WebSocket delivery", () => {
  it("delivers every appended line exactly once to each of several clients", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await writeLines(file, makeLines(0, 5, "old"));
    const { wsUrl } = track(await startServer([{ name: "audit", file }]));
    const clients = await Promise.all([1, 2, 3].map(() => TestClient.connect(`${wsUrl}/ws`)));
    for (const c of clients) track(c);
    for (const c of clients) await c.subscribe("audit");

    const appended = makeLines(1, 300, "new");
    // Several writes of different sizes, including one split mid-line.
    await appendLines(file, appended.slice(0, 1));
    await appendLines(file, appended.slice(1, 150));
    const next = `${appended.slice(150).join("\n")}\n`;
    await appendFile(file, next.slice(0, 37));
    await appendFile(file, next.slice(37));
    // A marker after everything: once it has arrived, any duplicate would have arrived before it.
    await appendLines(file, ["[2025-12-17T17:41:00Z] END"]);

    for (const c of clients) {
      await c.waitFor((m) => m.type === "lines" && m.lines.some((l) => l.text.endsWith("END")));
      const texts = c.texts("audit");
      expect(texts).toEqual([...appended, "[2025-12-17T17:41:00Z] END"]);
      const seqs = c.lines("audit").map((l) => l.seq);
      for (let i = 1; i < seqs.length; i++) expect(seqs[i]).toBe((seqs[i - 1] as number) + 1);
    }
  });

  it("sends the tail, then live lines", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await writeLines(file, [
      "[2025-12-17T17:40:37Z] backup failed",
      "plain line",
      "[2025-12-17T17:40:38Z] ok",
    ]);
    const { wsUrl } = track(await startServer([{ name: "audit", file }]));
    const client = track(await TestClient.connect(`${wsUrl}/ws`));
    await client.subscribe("audit", { tail: 2 });
    expect(client.texts()).toEqual(["plain line", "[2025-12-17T17:40:38Z] ok"]);
    await appendLines(file, ["[2025-12-17T17:40:39Z] disk warning"]);
    await client.waitForLines(3);
    expect(client.lines()[2]).toMatchObject({ text: "[2025-12-17T17:40:39Z] disk warning", seq: 4 });
  });

  it("serves lines read while the file was young (its fingerprint still growing) with their own cursors", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await writeFile(file, "");
    const { wsUrl } = track(await startServer([{ name: "audit", file }]));
    const live = track(await TestClient.connect(`${wsUrl}/ws`));
    await live.subscribe("audit", { tail: 10 });
    // Separate reads of a file under 256 bytes: each read refreshes its fingerprint and so its cursor prefix.
    for (const text of ["one", "two", "three", "four"]) {
      await appendFile(file, `${text}\n`);
      await live.waitForText(text);
    }
    // A late client gets them from the hub's window, several reads' lines at once.
    const late = track(await TestClient.connect(`${wsUrl}/ws`));
    await late.subscribe("audit", { tail: 10 });
    expect(late.texts()).toEqual(["one", "two", "three", "four"]);
    expect(late.lines().map((l) => l.c)).toEqual(live.lines().map((l) => l.c));
    expect(new Set(live.lines().map((l) => prefixOf(l.c))).size).toBeGreaterThan(1);
  });

  it("gives every line in a frame a cursor that resumes right after it, across a copytruncate", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    // Multi-byte text, a CRLF line and an empty line: sizes are bytes with terminators, not characters.
    await writeFile(file, "[2025-12-17T17:40:37Z] caf\u00e9 \u2603 error\r\n\nthird \u{1F600}\n");
    const { url, wsUrl } = track(await startServer([{ name: "audit", file }]));
    const client = track(await TestClient.connect(`${wsUrl}/ws`));
    await client.subscribe("audit", { tail: 10 });
    await appendFile(file, "fourth\nfifth failed\n");
    await client.waitForLines(5);
    const nextTexts = async (from: number) => {
      const out: (string | undefined)[] = [];
      for (const line of client.lines().slice(from)) {
        const after = encodeURIComponent(line.c);
        const page = (await (
          await fetch(`${url}/api/streams/audit/lines?after=${after}&limit=1`)
        ).json()) as LinesPage;
        out.push(page.lines[0]?.text);
      }
      return out;
    };
    expect(client.texts()).toEqual([
      "[2025-12-17T17:40:37Z] caf\u00e9 \u2603 error",
      "",
      "third \u{1F600}",
      "fourth",
      "fifth failed",
    ]);
    expect(await nextTexts(0)).toEqual(["", "third \u{1F600}", "fourth", "fifth failed", undefined]);
    await truncate(file, 0);
    await appendFile(file, "after truncation\nand more\n");
    await client.waitForLines(7);
    expect(await nextTexts(5)).toEqual(["and more", undefined]);
  });
});
