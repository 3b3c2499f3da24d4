import { describe, expect, it } from "vitest";
import { decodeCursor, encodeCursor } from "../../src/backend/file/file-cursor.js";
import { parseClientMessage } from "../../src/protocol/client-message.js";
import { CloseCode } from "../../src/protocol/errors.js";
import type { ServerMessage, WireLine } from "../../src/protocol/messages.js";
import { useClosers } from "../helpers/closer.js";
import { useTempDirs } from "../helpers/temp-dir.js";
import { waitFor } from "../helpers/wait-for.js";
import { appendLines, makeLines, startServer, TestClient, writeLines } from "./harness.js";

const track = useClosers();
const tempDir = useTempDirs("livetrail-protocol-");

type ErrorFrame = Extract<ServerMessage, { type: "error" }>;

describe("client messages", () => {
  it("every malformed message gets an error frame and the connection stays usable", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await writeLines(file, makeLines(0, 3));
    const { wsUrl } = track(await startServer([{ name: "audit", file }]));
    const client = track(await TestClient.connect(`${wsUrl}/ws`));
    const hello = client.messages[0];
    expect(hello).toMatchObject({ type: "hello", v: 2, streams: [{ name: "audit", default: true }] });

    const cases: [unknown, string][] = [
      ["not json at all", "bad_json"],
      ["{", "bad_json"],
      ["[]", "bad_message"],
      ["42", "bad_message"],
      ["null", "bad_message"],
      [{}, "bad_message"],
      [{ type: "dance" }, "bad_message"],
      [{ type: 7 }, "bad_message"],
      [{ type: "subscribe" }, "bad_message"],
      [{ type: "subscribe", stream: "" }, "bad_message"],
      [{ type: "subscribe", stream: 5 }, "bad_message"],
      [{ type: "subscribe", stream: "audit", tail: -1 }, "bad_message"],
      [{ type: "subscribe", stream: "audit", tail: 1.5 }, "bad_message"],
      [{ type: "subscribe", stream: "audit", tail: "10" }, "bad_message"],
      [{ type: "subscribe", stream: "audit", since: 12 }, "bad_message"],
      [{ type: "subscribe", stream: "audit", since: "x", tail: 1 }, "bad_message"],
      [{ type: "subscribe", stream: "audit", id: 3 }, "bad_message"],
      [{ type: "subscribe", stream: "nope" }, "unknown_stream"],
      [{ type: "subscribe", stream: "audit", since: "garbage" }, "bad_cursor"],
      [{ type: "subscribe", stream: "audit", since: "1.zzzzzzzzzzzz.0.0.0" }, "bad_cursor"],
      [{ type: "unsubscribe", stream: "audit" }, "not_subscribed"],
      [{ type: "unsubscribe" }, "bad_message"],
      [{ type: "ping", t: "now" }, "bad_message"],
    ];
    for (const [message, code] of cases) {
      const from = client.messages.length;
      client.send(message);
      const reply = await client.waitFor<ErrorFrame>((m) => m.type === "error", {
        from,
        message: `error for ${JSON.stringify(message)}`,
      });
      expect(reply.code, JSON.stringify(message)).toBe(code);
      expect(reply.message.length).toBeGreaterThan(0);
    }
    // A binary frame.
    let from = client.messages.length;
    client.ws.send(Buffer.from([1, 2, 3]));
    expect((await client.waitFor<ErrorFrame>((m) => m.type === "error", { from })).code).toBe("bad_message");
    // Request ids come back on errors.
    from = client.messages.length;
    client.send({ type: "subscribe", stream: "nope", id: "req-7" });
    expect(await client.waitFor<ErrorFrame>((m) => m.type === "error", { from })).toMatchObject({
      id: "req-7",
      code: "unknown_stream",
    });

    // Still usable: ping, subscribe, receive, duplicate subscribe, unsubscribe.
    from = client.messages.length;
    client.send({ type: "ping", t: 123 });
    expect(await client.waitFor((m) => m.type === "pong", { from })).toEqual({ type: "pong", t: 123 });
    await client.subscribe("audit");
    from = client.messages.length;
    client.send({ type: "subscribe", stream: "audit" });
    expect((await client.waitFor<ErrorFrame>((m) => m.type === "error", { from })).code).toBe(
      "already_subscribed",
    );
    await appendLines(file, ["[2025-12-17T17:40:37Z] still here"]);
    await client.waitForLines(1);
    from = client.messages.length;
    client.send({ type: "unsubscribe", stream: "audit", id: "u1" });
    expect(await client.waitFor((m) => m.type === "unsubscribed", { from })).toEqual({
      type: "unsubscribed",
      stream: "audit",
      id: "u1",
    });
    expect(client.closeCode).toBeNull();
  });

  it("a message over the size limit closes with 1009; several streams share one socket", async () => {
    const dir = await tempDir();
    const a = dir.file("a.log");
    const b = dir.file("b.log");
    await writeLines(a, []);
    await writeLines(b, []);
    const { wsUrl } = track(
      await startServer(
        [
          { name: "a", file: a },
          { name: "b", file: b },
        ],
        { maxMessageBytes: 1024 },
      ),
    );
    const client = track(await TestClient.connect(`${wsUrl}/ws`));
    await client.subscribe("a");
    await client.subscribe("b");
    await appendLines(a, ["to a"]);
    await appendLines(b, ["to b"]);
    await client.waitForLines(1, "a");
    await client.waitForLines(1, "b");
    expect(client.texts("a")).toEqual(["to a"]);
    expect(client.texts("b")).toEqual(["to b"]);

    client.send({ type: "ping", pad: "x".repeat(2000) });
    await waitClosed(client);
    expect(client.closeCode).toBe(CloseCode.messageTooBig);
  });

  it("a cursor off a line boundary of the current file is refused with bad_cursor before any subscribed", async () => {
    const dir = await tempDir();
    const file = dir.file("audit.log");
    await writeLines(file, makeLines(0, 5));
    const { wsUrl } = track(await startServer([{ name: "audit", file }]));
    const client = track(await TestClient.connect(`${wsUrl}/ws`));
    await client.subscribe("audit", { tail: 5 });
    const good = decodeCursor((client.lines("audit")[2] as WireLine).c);
    const off = encodeCursor({ ...good, offset: good.offset - 1 });
    client.send({ type: "unsubscribe", stream: "audit" });
    await client.waitFor((m) => m.type === "unsubscribed");
    const from = client.messages.length;
    client.send({ type: "subscribe", stream: "audit", since: off, id: "x" });
    const error = await client.waitFor<ErrorFrame>((m) => m.type === "error", { from });
    expect(error).toMatchObject({ code: "bad_cursor", id: "x", stream: "audit" });
    expect(client.messages.slice(from).some((m) => m.type === "subscribed")).toBe(false);
    // Nothing stays subscribed: subscribing again works.
    await client.subscribe("audit");
    expect(client.messages.slice(from).filter((m) => m.type === "live")).toHaveLength(1);
  });

  it("parseClientMessage accepts the documented shapes and ignores unknown fields", () => {
    expect(parseClientMessage('{"type":"subscribe","stream":"s","tail":10,"extra":1}')).toEqual({
      ok: true,
      message: { type: "subscribe", stream: "s", tail: 10 },
    });
    expect(parseClientMessage('{"type":"subscribe","stream":"s","since":"c","id":"1"}')).toEqual({
      ok: true,
      message: { type: "subscribe", stream: "s", since: "c", id: "1" },
    });
    expect(parseClientMessage('{"type":"ping"}')).toEqual({ ok: true, message: { type: "ping" } });
    expect(parseClientMessage('{"type":"subscribe","stream":"s","tail":100001}')).toMatchObject({
      ok: false,
    });
  });
});

async function waitClosed(client: TestClient): Promise<void> {
  await waitFor(() => client.closeCode !== null, { message: "socket closed" });
}
