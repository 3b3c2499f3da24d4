import { describe, expect, it } from "vitest";
import { type RawData, WebSocket } from "ws";
import { FollowedLine, type Line } from "../../src/core/line.js";
import { DISPLAY_LINE_BYTES } from "../../src/core/line-head.js";
import { type FrameLine, frameLines } from "../../src/protocol/lines-frame.js";
import {
  BINARY_LINES_HEAD,
  BinaryFrameError,
  decodeBinaryLines,
  FLAG_ASCII,
} from "../../src/protocol/lines-frame-binary.js";
import type { LinesFrame, ServerMessage } from "../../src/protocol/messages.js";
import { encodeBinaryLines } from "../../src/server/binary-lines-frame.js";
import { Batch } from "../../src/server/frames.js";
import { useClosers } from "../helpers/closer.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { appendLines, makeLines, startServer, writeLines } from "../server/harness.js";

const track = useClosers();
const tempDir = useTempDirs("livetrail-binary-frame-");

const PREFIX = "1.abc.";

/** Consecutive lines of a file from these texts (LF terminators unless `crlf`). */
function linesOf(texts: readonly string[], extra: (i: number) => Partial<Line> = () => ({})): Line[] {
  let at = 0;
  return texts.map((text, i) => {
    const end = at + Buffer.byteLength(text) + 1;
    const line = Object.assign(new FollowedLine(i + 1, text, at, end, PREFIX), extra(i));
    at = end;
    return line;
  });
}

const json = (batch: Batch): LinesFrame => JSON.parse(batch.frame("json").toString()) as LinesFrame;

describe("the binary lines frame", () => {
  it("carries what the JSON frame carries: texts of any script, cut heads, stderr marks, source times", () => {
    const long = `${"é".repeat(DISPLAY_LINE_BYTES)}tail`;
    const lines = linesOf(
      ["plain ascii", "naïve café", "emoji 😀 and 中文", "", "bad \uFFFD byte", long, "last"],
      (i) => (i === 1 ? { channel: "stderr" } : i === 2 ? { time: "2025-12-17T17:40:37.5Z" } : {}),
    );
    const batch = new Batch("audit", lines);
    const binary = batch.frame("binary");
    expect(binary[0]).toBe(0x4c);
    expect((binary[2] as number) & FLAG_ASCII).toBe(0);
    const decoded = decodeBinaryLines(binary);
    expect(decoded).toEqual(json(batch));
    expect(decoded.trunc).toEqual({ 5: Buffer.byteLength(long) });
    const back = frameLines(decoded);
    expect(back.map((l) => l.c)).toEqual(lines.map((l) => l.cursor));
    expect(back[1]?.ch).toBe("stderr");
    expect(back[2]?.ts).toBe("2025-12-17T17:40:37.5Z");
  });

  it("flags an all-ASCII frame, whose text lengths are then string lengths", () => {
    const lines = linesOf(makeLines(0, 50));
    const binary = new Batch("s", lines).frame("binary");
    expect((binary[2] as number) & FLAG_ASCII).toBe(FLAG_ASCII);
    expect(decodeBinaryLines(binary).text).toEqual(lines.map((l) => l.text));
    // A sub-array at any offset of a larger buffer (how `ws` may hand a message over) decodes the same.
    const shifted = Buffer.concat([Buffer.from([1, 2, 3]), binary]).subarray(3);
    expect(decodeBinaryLines(shifted).text).toEqual(lines.map((l) => l.text));
  });

  it("refuses bytes that do not follow the layout, with a clear error", () => {
    const good = Buffer.from(new Batch("s", linesOf(["one", "two"])).frame("binary"));
    // Two lines: the text lengths at 12 + 4 × 2, the meta at 12 + 8 × 2.
    const lengthsAt = BINARY_LINES_HEAD + 8;
    const metaAt = BINARY_LINES_HEAD + 16;
    const edit = (f: (b: Buffer) => void): Buffer => {
      const b = Buffer.from(good);
      f(b);
      return b;
    };
    const cases: [string, Uint8Array, RegExp][] = [
      ["empty", new Uint8Array(0), /shorter than its header/],
      ["wrong magic", edit((b) => (b[0] = 0x7b)), /not a version 1/],
      ["wrong version", edit((b) => (b[1] = 9)), /not a version 1/],
      ["no lines", edit((b) => b.writeUInt32LE(0, 4)), /overrun/],
      ["too many lines", edit((b) => b.writeUInt32LE(2 ** 31, 4)), /overrun/],
      ["meta past the end", edit((b) => b.writeUInt32LE(2 ** 32 - 1, 8)), /overrun/],
      ["meta not JSON", edit((b) => (b[metaAt] = 0x21)), /meta is not JSON/],
      ["text lengths too long", edit((b) => b.writeUInt32LE(4, lengthsAt)), /add up/],
      ["text cut off", good.subarray(0, good.length - 1), /add up/],
      ["not UTF-8", edit((b) => (b[b.length - 1] = 0xff)), /not valid UTF-8/],
      ["a false ASCII flag", lie(), /do not match/],
    ];
    for (const [what, bytes, message] of cases) {
      expect(() => decodeBinaryLines(bytes), what).toThrow(BinaryFrameError);
      expect(() => decodeBinaryLines(bytes), what).toThrow(message);
    }
    const wrongMeta = encodeBinaryLines({ ...json(new Batch("s", linesOf(["x"]))), cursor: 5 as never });
    expect(() => decodeBinaryLines(wrongMeta)).toThrow(/lacks stream, seq or cursor/);
  });
});

/** A frame of "é" whose header claims ASCII: its byte lengths are then not its string lengths. */
function lie(): Buffer {
  const b = Buffer.from(new Batch("s", linesOf(["é", "a"])).frame("binary"));
  b[2] = FLAG_ASCII;
  return b;
}

/** A real `ws` client that keeps text and binary messages apart, decoding binary lines frames. */
class Client {
  readonly messages: (ServerMessage & { binary: boolean })[] = [];
  private constructor(readonly ws: WebSocket) {
    ws.on("message", (data: RawData, isBinary) => {
      const bytes = data as Buffer;
      const message = isBinary ? decodeBinaryLines(bytes) : (JSON.parse(bytes.toString()) as ServerMessage);
      this.messages.push({ ...message, binary: isBinary });
    });
  }

  static async connect(url: string): Promise<Client> {
    const ws = new WebSocket(url, { perMessageDeflate: false });
    const client = new Client(ws);
    await new Promise<void>((resolve, reject) => {
      ws.once("open", () => resolve());
      ws.once("error", reject);
    });
    await client.next((m) => m.type === "hello");
    return client;
  }

  send(message: unknown): void {
    this.ws.send(typeof message === "string" ? message : JSON.stringify(message));
  }

  next(predicate: (m: ServerMessage & { binary: boolean }) => boolean, from = 0) {
    return waitFor(() => this.messages.slice(from).find(predicate), { message: "a matching server message" });
  }

  lines(): FrameLine[] {
    return this.messages.flatMap((m) => (m.type === "lines" ? frameLines(m) : []));
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      if (this.ws.readyState === WebSocket.CLOSED) return resolve();
      this.ws.once("close", () => resolve());
      this.ws.close();
    });
  }
}

describe("binary lines frames over /ws", () => {
  it("go to a subscription that asks for them, as binary messages with the lines and cursors JSON gives", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await writeLines(file, [...makeLines(0, 20), "ünïcode 😀 line"]);
    const { wsUrl } = track(await startServer([{ name: "audit", file }]));
    const binary = track(await Client.connect(`${wsUrl}/ws`));
    const plain = track(await Client.connect(`${wsUrl}/ws`));
    expect(binary.messages[0]).toMatchObject({ type: "hello", frames: ["json", "binary"] });

    binary.send({ type: "subscribe", stream: "audit", tail: 21, frames: "binary" });
    plain.send({ type: "subscribe", stream: "audit", tail: 21 });
    for (const c of [binary, plain]) await c.next((m) => m.type === "live");
    await appendLines(file, makeLines(21, 500, "live"));
    for (const c of [binary, plain]) await waitFor(() => c.lines().length === 521, { message: "521 lines" });

    const kinds = (c: Client, binaryKind: boolean) =>
      c.messages.filter((m) => m.type === "lines").every((m) => m.binary === binaryKind);
    expect(kinds(binary, true)).toBe(true);
    expect(kinds(plain, false)).toBe(true);
    // Control messages stay JSON text on a binary subscription.
    expect(binary.messages.find((m) => m.type === "subscribed")?.binary).toBe(false);
    expect(binary.lines()).toEqual(plain.lines());
    expect(binary.lines()[20]?.text).toBe("ünïcode 😀 line");
  });

  it("a bad frames value or a binary message from the client gets an error frame; the socket stays usable", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await writeLines(file, makeLines(0, 3));
    const { wsUrl } = track(await startServer([{ name: "audit", file }]));
    const client = track(await Client.connect(`${wsUrl}/ws`));
    let from = client.messages.length;
    client.send({ type: "subscribe", stream: "audit", frames: "xml" });
    expect(await client.next((m) => m.type === "error", from)).toMatchObject({
      code: "bad_message",
      message: '"frames" must be "json" or "binary"',
    });
    from = client.messages.length;
    client.ws.send(new Batch("audit", linesOf(["forged"])).frame("binary"), { binary: true });
    expect(await client.next((m) => m.type === "error", from)).toMatchObject({ code: "bad_message" });
    client.send({ type: "subscribe", stream: "audit", tail: 3, frames: "binary" });
    await waitFor(() => client.lines().length === 3, { message: "3 lines" });
    expect(client.lines().map((l) => l.text)).toEqual(makeLines(0, 3));
  });
});
