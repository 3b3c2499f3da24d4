import { readFile } from "node:fs/promises";
import { describe, expect, it } from "vitest";
import { WebSocket } from "ws";
import { useClosers } from "../helpers/closer.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { appendLines, makeLines, startServer, writeLines } from "./harness.js";

const track = useClosers();
const tempDir = useTempDirs("livetrail-compat-");

/** An old-dashboard client: concatenates whatever text frames arrive, as its `auditRaw += data` did. */
async function oldClient(url: string): Promise<{ ws: WebSocket; frames: string[]; text(): string }> {
  const ws = new WebSocket(url);
  const frames: string[] = [];
  ws.on("message", (data, isBinary) => {
    expect(isBinary).toBe(false);
    frames.push(data.toString());
  });
  await new Promise<void>((resolve, reject) => {
    ws.once("open", () => resolve());
    ws.once("error", reject);
  });
  track({ close: async () => ws.terminate() });
  return { ws, frames, text: () => frames.join("") };
}

describe("the old endpoints", () => {
  it("GET and HEAD /api/audit return the audit log text", async () => {
    const dir = await tempDir();
    const file = dir.file("AUTO_REPAIR_AUDIT.log");
    await writeLines(file, makeLines(0, 50, "entry"));
    const { url } = track(await startServer([{ name: "audit", file }]));
    const res = await fetch(`${url}/api/audit`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain; charset=utf-8");
    expect(await res.text()).toBe(await readFile(file, "utf8"));
    const head = await fetch(`${url}/api/audit`, { method: "HEAD" });
    expect(head.status).toBe(200);
    expect(head.headers.get("content-length")).toBe(String((await readFile(file)).length));
    expect(await head.text()).toBe("");
  });

  it("WS /ws/audit sends the last ~1000 characters cut at a line start, then each new line once per client", async () => {
    const dir = await tempDir();
    const file = dir.file("AUTO_REPAIR_AUDIT.log");
    const history = makeLines(0, 100, "history entry with some words");
    await writeLines(file, history);
    const { wsUrl } = track(await startServer([{ name: "audit", file }]));
    const clients = [await oldClient(`${wsUrl}/ws/audit`), await oldClient(`${wsUrl}/ws/audit`)];
    for (const c of clients) await waitFor(() => c.frames.length >= 1, { message: "initial frame" });

    const whole = `${history.join("\n")}\n`;
    for (const c of clients) {
      const initial = c.frames[0] as string;
      expect(initial.length).toBeLessThanOrEqual(1000);
      expect(initial.length).toBeGreaterThan(1000 - 60); // whole lines only: at most one line short
      expect(whole.endsWith(initial)).toBe(true);
      expect(whole[whole.length - initial.length - 1]).toBe("\n"); // starts at a line start
    }
    const fresh = makeLines(0, 3, "fresh");
    await appendLines(file, fresh.slice(0, 1));
    await appendLines(file, fresh.slice(1));
    for (const c of clients) {
      await waitFor(() => c.text().includes(fresh[2] as string), { message: "fresh lines" });
      expect(c.frames.slice(1).join("")).toBe(`${fresh.join("\n")}\n`);
    }
  });
});
