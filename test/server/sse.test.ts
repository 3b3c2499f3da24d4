import { type ClientRequest, type IncomingMessage, request } from "node:http";
import { describe, expect, it } from "vitest";
import type { WireLine } from "../../src/protocol/messages.js";
import { useClosers } from "../helpers/closer.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { appendLines, makeLines, startServer, writeLines } from "./harness.js";

const track = useClosers();
const tempDir = useTempDirs("livetrail-sse-");

interface SseEvent {
  id?: string;
  event: string;
  data: string;
}

/** A real SSE client over node:http that parses the event stream as it arrives. */
class SseClient {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  response: IncomingMessage | null = null;
  private buffer = "";
  private constructor(private readonly req: ClientRequest) {}

  static open(url: string, headers: Record<string, string> = {}): Promise<SseClient> {
    return new Promise((resolve, reject) => {
      const req = request(url, { headers: { accept: "text/event-stream", ...headers } });
      const client = new SseClient(req);
      req.on("response", (res) => {
        client.response = res;
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => client.push(chunk));
        res.on("error", () => undefined);
        resolve(client);
      });
      req.on("error", reject);
      req.end();
    });
  }

  private push(chunk: string): void {
    this.buffer += chunk;
    for (let end = this.buffer.indexOf("\n\n"); end >= 0; end = this.buffer.indexOf("\n\n")) {
      const block = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const event: SseEvent = { event: "message", data: "" };
      let hasData = false;
      for (const line of block.split("\n")) {
        if (line.startsWith(":")) this.comments.push(line);
        else if (line.startsWith("id: ")) event.id = line.slice(4);
        else if (line.startsWith("event: ")) event.event = line.slice(7);
        else if (line.startsWith("data: ")) {
          event.data = line.slice(6);
          hasData = true;
        }
      }
      if (hasData) this.events.push(event);
    }
  }

  lines(): WireLine[] {
    return this.events.filter((e) => e.event === "message").map((e) => JSON.parse(e.data) as WireLine);
  }

  close(): void {
    this.req.destroy();
  }
}

describe("Server-Sent Events", () => {
  it("carries cursors as ids and resumes exactly after Last-Event-ID", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await writeLines(file, makeLines(0, 5, "old"));
    const { url } = track(await startServer([{ name: "audit", file }], { heartbeatMs: 200 }));
    const events = `${url}/api/streams/audit/events`;

    const first = await SseClient.open(`${events}?tail=2`);
    track({ close: async () => first.close() });
    expect(first.response?.statusCode).toBe(200);
    expect(first.response?.headers["content-type"]).toMatch(/^text\/event-stream/);
    expect(first.response?.headers["x-accel-buffering"]).toBe("no");
    await waitFor(() => first.events.some((e) => e.event === "live"), { message: "live event" });
    expect(first.lines().map((l) => l.text)).toEqual(makeLines(3, 2, "old"));

    const batch = makeLines(0, 10, "new");
    await appendLines(file, batch);
    await waitFor(() => first.lines().length === 12, { message: "12 lines" });
    const withIds = first.events.filter((e) => e.event === "message");
    for (const e of withIds) expect(e.id).toBe((JSON.parse(e.data) as WireLine).c);
    const resumeId = withIds[6]?.id as string; // after "new 4"
    // An idle stream gets heartbeat comments.
    await waitFor(() => first.comments.includes(": hb"), { message: "a heartbeat comment" });
    first.close();

    const more = makeLines(10, 5, "new");
    await appendLines(file, more);
    const second = await SseClient.open(events, { "last-event-id": resumeId });
    track({ close: async () => second.close() });
    await waitFor(() => second.events.some((e) => e.event === "live"), { message: "live after resume" });
    await appendLines(file, ["END"]);
    await waitFor(() => second.lines().some((l) => l.text === "END"), { message: "END" });
    expect(second.lines().map((l) => l.text)).toEqual([...batch.slice(5), ...more, "END"]);
  });

  it("rejects a malformed Last-Event-ID and an unknown stream", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await writeLines(file, []);
    const { url } = track(await startServer([{ name: "audit", file }]));
    const bad = await fetch(`${url}/api/streams/audit/events`, { headers: { "last-event-id": "nonsense" } });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { error: string }).error).toBe("bad_cursor");
    const unknown = await fetch(`${url}/api/streams/nope/events`);
    expect(unknown.status).toBe(404);
  });
});
