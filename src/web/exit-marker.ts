import type { ServerMessage } from "../protocol/messages.js";

type Exited = Extract<ServerMessage, { type: "exited" }>;

/**
 * The marker row's words for a command stream's `exited` message: how the process ended, and whether and when
 * the server starts it again ("process exited with code 3 · restarting in 2 s", "killed by SIGKILL · stopped").
 */
export function exitedText(msg: Pick<Exited, "code" | "signal" | "restartInMs">): string {
  const how =
    msg.signal !== null
      ? `killed by ${msg.signal}`
      : msg.code !== null
        ? `process exited with code ${msg.code}`
        : "process exited";
  if (msg.restartInMs === null) return `${how} · not restarted`;
  const wait =
    msg.restartInMs < 1000
      ? `${msg.restartInMs} ms`
      : `${Math.round(msg.restartInMs / 100) / 10} s`.replace(/\.0 s$/, " s");
  return `${how} · restarting in ${wait}`;
}
