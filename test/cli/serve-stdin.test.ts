import { hostname } from "node:os";
import { describe, expect, it } from "vitest";
import type { LinesPage, SearchResult, WireLine } from "../../src/protocol/messages.js";
import { waitFor } from "../helpers/wait-for.js";
import { makeLines, TestClient } from "../server/harness.js";
import { CLI, finished, killStrays, start } from "./run-cli.js";

killStrays();

/** `livetrail serve NAME=-`: a stream of standard input, kept in a bounded ring, served like a file stream. */
describe("livetrail serve NAME=-", () => {
  it("streams stdin to WebSocket and HTTP clients: history within the ring, search, resume, a gap beyond it", async () => {
    const child = start(process.execPath, [CLI, "serve", "logs=-", "--port", "0", "--stdin-lines", "20"]);
    const result = finished(child, 60_000);
    let out = "";
    child.stdout?.on("data", (d: Buffer) => {
      out += d.toString();
    });
    const write = (lines: string[]) => child.stdin?.write(`${lines.join("\n")}\n`);
    write(makeLines(0, 5, "early"));
    const url = await waitFor(() => /at (http:\/\/\S+)/.exec(out)?.[1], {
      timeoutMs: 20_000,
      message: "url",
    });
    const wsUrl = url.replace(/^http/, "ws");

    const client = await TestClient.connect(`${wsUrl}/ws`);
    try {
      const hello = client.messages[0] as { streams: { name: string; cursors: { durable: boolean } }[] };
      // A stdin stream comes from this machine: its host label is the host name (no --host-label given).
      expect(hello.streams).toEqual([
        { name: "logs", default: true, cursors: { durable: false }, host: hostname() },
      ]);
      await client.subscribe("logs", { tail: 100 });
      expect(client.texts("logs")).toEqual(makeLines(0, 5, "early"));
      const resumeAt = (client.lines("logs").at(-1) as WireLine).c;

      // Live, split across writes (a partial line waits for its newline).
      child.stdin?.write("[2025-12-17T17:40:37Z] live ");
      child.stdin?.write("line\n");
      await client.waitForText("[2025-12-17T17:40:37Z] live line");

      const page = (await (await fetch(`${url}/api/streams/logs/lines?limit=3`)).json()) as LinesPage;
      expect(page.lines.map((l) => l.text)).toEqual([
        ...makeLines(3, 2, "early"),
        "[2025-12-17T17:40:37Z] live line",
      ]);
      expect(page.before).not.toBeNull();
      const found = (await (await fetch(`${url}/api/streams/logs/search?q=live`)).json()) as SearchResult;
      expect(found.matches.map((m) => m.text)).toEqual(["[2025-12-17T17:40:37Z] live line"]);

      // Resume within the ring: exactly the lines after the cursor.
      const again = await TestClient.connect(`${wsUrl}/ws`);
      try {
        await again.subscribe("logs", { since: resumeAt });
        expect(again.texts("logs")).toEqual(["[2025-12-17T17:40:37Z] live line"]);
      } finally {
        await again.close();
      }

      // Past the ring (20 lines): a resume from the first cursor gets a `trimmed` gap, then the ring.
      const first = (client.lines("logs")[0] as WireLine).c;
      write(makeLines(0, 30, "late"));
      await client.waitForText(makeLines(29, 1, "late")[0] as string);
      const late = await TestClient.connect(`${wsUrl}/ws`);
      try {
        await late.subscribe("logs", { since: first });
        const gap = late.messages.find((m) => m.type === "gap");
        expect(gap).toMatchObject({ reason: "trimmed" });
        expect(late.texts("logs")).toEqual(makeLines(10, 20, "late"));
      } finally {
        await late.close();
      }
      const bad = (await fetch(
        `${url}/api/streams/logs/lines?after=${encodeURIComponent(first)}`,
      )) as Response;
      expect(bad.status).toBe(410);
      expect(((await bad.json()) as { error: string }).error).toBe("stale_cursor");
    } finally {
      await client.close();
      child.kill("SIGTERM");
    }
    const { code } = await result;
    expect(code).toBe(0);
  });

  it("refuses standard input for two streams", async () => {
    const child = start(process.execPath, [CLI, "serve", "a=-", "b=-", "--port", "0"]);
    const { code, stderr } = await finished(child);
    expect(code).toBe(2);
    expect(stderr).toContain("one stream");
  });
});
