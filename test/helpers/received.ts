import { type FrameLine, frameLines } from "../../src/protocol/lines-frame.js";
import type { LinesFrame, ServerMessage } from "../../src/protocol/messages.js";

/** A server message as tests look at it: a `lines` frame also carries its lines, each with its own cursor. */
export type Received = Exclude<ServerMessage, LinesFrame> | (LinesFrame & { lines: FrameLine[] });

export function parseReceived(data: string): Received {
  const message = JSON.parse(data) as ServerMessage;
  return message.type === "lines" ? { ...message, lines: frameLines(message) } : message;
}
