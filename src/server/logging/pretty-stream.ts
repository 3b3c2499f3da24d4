import { Writable } from "node:stream";

const LEVEL_NAMES: Record<number, string> = {
  10: "TRACE",
  20: "DEBUG",
  30: "INFO ",
  40: "WARN ",
  50: "ERROR",
  60: "FATAL",
};
const LEVEL_COLOURS: Record<number, string> = { 40: "\x1b[33m", 50: "\x1b[31m", 60: "\x1b[31m" };
/** pino's own fields, shown as the line's time, level and message rather than as key=value pairs. */
const OWN_FIELDS = new Set(["level", "time", "msg", "pid", "hostname", "reqId"]);

/**
 * pino's JSON records as one readable line each, `12:00:01.234 INFO  GET /api/streams 200 key=value ...`, for a
 * terminal. A dozen lines instead of pino-pretty and its 13 dependencies; anything that is not a record passes
 * through unchanged.
 */
export function prettyLogStream(out: NodeJS.WritableStream): Writable {
  return new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const text of chunk.toString("utf8").split("\n"))
        if (text !== "") out.write(`${prettyLine(text)}\n`);
      done();
    },
  });
}

export function prettyLine(text: string): string {
  let record: Record<string, unknown>;
  try {
    record = JSON.parse(text) as Record<string, unknown>;
  } catch {
    return text;
  }
  const level = Number(record.level);
  const time = new Date(Number(record.time)).toISOString().slice(11, 23);
  const fields = Object.entries(record)
    .filter(([key]) => !OWN_FIELDS.has(key))
    .map(([key, value]) => `${key}=${typeof value === "string" ? value : JSON.stringify(value)}`);
  const colour = LEVEL_COLOURS[level];
  const name = LEVEL_NAMES[level] ?? String(record.level);
  return [time, colour === undefined ? name : `${colour}${name}\x1b[0m`, record.msg ?? "", ...fields]
    .filter((part) => part !== "")
    .join(" ");
}
