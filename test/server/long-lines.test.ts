import { appendFile, writeFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import WebSocket from "ws";
import type { WireLine } from "../../src/protocol/messages.js";
import { useClosers } from "../helpers/closer.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { startServer, TestClient } from "./harness.js";

const track = useClosers();
const tempDir = useTempDirs("livetrail-long-");
const KiB = 1024;

/** Lines far over 64 KiB: shown by their head, delivered whole where the client wants whole lines. */
describe("long lines", () => {
  it("/ws carries a long line's first 64 KiB and its length; SSE, /ws/audit and the line endpoint carry it whole", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    // A multi-byte character straddles the 64 KiB mark: the head must end between characters.
    const long = `[2025-12-17T17:40:37Z] ${"a".repeat(64 * KiB - 24)}é${"b".repeat(900 * KiB)}`;
    const longBytes = Buffer.byteLength(long);
    await writeFile(file, "[2025-12-17T17:40:36Z] before\n");
    const { url, wsUrl } = track(await startServer([{ name: "audit", file }]));

    const client = track(await TestClient.connect(`${wsUrl}/ws`));
    await client.subscribe("audit", { tail: 10 });
    const texts: string[] = [];
    const compat = new WebSocket(`${wsUrl}/ws/audit`);
    compat.on("message", (data) => texts.push(data.toString()));
    track({ close: async () => compat.terminate() });
    await new Promise((resolve) => compat.once("open", resolve));
    await waitFor(() => texts.length > 0, { message: "the compat feed's first frame" });
    const sse = await fetch(`${url}/api/streams/audit/events`);
    const sseBody = sse.body?.getReader();
    const decoder = new TextDecoder();
    let sseText = "";

    await appendFile(file, `${long}\n[2025-12-17T17:40:38Z] after\n`);
    await client.waitForText("[2025-12-17T17:40:38Z] after");
    const [, shown, after] = client.lines("audit");
    expect(Buffer.byteLength(shown?.text as string)).toBeLessThanOrEqual(64 * KiB);
    expect(shown?.text).toBe(long.slice(0, 64 * KiB - 24 + 23)); // up to, not into, the "é"
    expect(shown?.trunc).toBe(longBytes);
    expect(after?.text).toBe("[2025-12-17T17:40:38Z] after");

    await waitFor(() => texts.join("").includes("after"), { message: "the compat feed's lines" });
    expect(texts.join("")).toContain(`${long}\n`);

    while (!sseText.includes("after")) {
      const { value, done } = await (sseBody as ReadableStreamDefaultReader<Uint8Array>).read();
      if (done) break;
      sseText += decoder.decode(value, { stream: true });
    }
    await sseBody?.cancel();
    const sseLine = sseText
      .split("\n")
      .filter((l) => l.startsWith('data: {"seq"'))
      .map((l) => JSON.parse(l.slice(6)) as WireLine)
      .find((l) => l.text.length > 1000);
    expect(sseLine?.text).toBe(long);
    expect(sseLine?.trunc).toBeUndefined();

    const whole = await fetch(
      `${url}/api/streams/audit/line?cursor=${encodeURIComponent(shown?.c as string)}`,
    );
    expect(whole.status).toBe(200);
    const body = (await whole.json()) as { line: WireLine };
    expect(body.line.text).toBe(long);
    expect(body.line.c).toBe(shown?.c);
    const page = (await (await fetch(`${url}/api/streams/audit/lines?limit=5`)).json()) as {
      lines: WireLine[];
    };
    expect(page.lines[1]?.trunc).toBe(longBytes);
    expect(Buffer.byteLength(page.lines[1]?.text as string)).toBeLessThanOrEqual(64 * KiB);

    // Resuming after the long line gives exactly the next one.
    const again = track(await TestClient.connect(`${wsUrl}/ws`));
    await again.subscribe("audit", { since: shown?.c as string });
    expect(again.texts("audit")).toEqual(["[2025-12-17T17:40:38Z] after"]);
  });

  it("a line over maxLineBytes is cut there and marked with its real length, everywhere", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    const huge = "z".repeat(300 * KiB);
    await writeFile(file, `${huge}\n`);
    const { url } = track(await startServer([{ name: "audit", file }], { maxLineBytes: 100 * KiB }));
    const page = (await (await fetch(`${url}/api/streams/audit/lines`)).json()) as { lines: WireLine[] };
    const c = page.lines[0]?.c as string;
    expect(page.lines[0]?.trunc).toBe(300 * KiB);
    const body = (await (
      await fetch(`${url}/api/streams/audit/line?cursor=${encodeURIComponent(c)}`)
    ).json()) as {
      line: WireLine;
    };
    expect(body.line.text).toBe("z".repeat(100 * KiB));
    expect(body.line.trunc).toBe(300 * KiB);
    const bad = await fetch(`${url}/api/streams/audit/line?cursor=nope`);
    expect(bad.status).toBe(400);
  });
});
