import { parseEntry } from "../../../src/core/entry.js";

/**
 * Docker's json-file format as the daemon writes it (moby daemon/logger/jsonfilelog, jsonlog/jsonlogbytes.go):
 * one JSON object per line, `log` then `stream` then `time` (RFC 3339, nanoseconds, UTC); `log` ends in "\n"
 * except in the parts of a line longer than 16 KiB (the copier's buffer, daemon/logger/copier.go), which all carry
 * the first part's time. The encoder escapes `"`, `\`, control characters, and `<`, `>`, `&` as \u003c-style
 * escapes, like Go's encoding/json.
 */
export const PART_BYTES = 16 * 1024;

export function escapeJsonString(text: string): string {
  let out = "";
  for (const ch of text) {
    const c = ch.codePointAt(0) as number;
    if (ch === '"') out += '\\"';
    else if (ch === "\\") out += "\\\\";
    else if (ch === "\n") out += "\\n";
    else if (ch === "\r") out += "\\r";
    else if (ch === "\t") out += "\\t";
    else if (c < 0x20 || ch === "<" || ch === ">" || ch === "&" || c === 0x2028 || c === 0x2029)
      out += `\\u${c.toString(16).padStart(4, "0")}`;
    else out += ch;
  }
  return out;
}

export function record(log: string, stream: "stdout" | "stderr", time: string): string {
  return `{"log":"${escapeJsonString(log)}","stream":"${stream}","time":"${time}"}\n`;
}

/** The records of one line as the daemon writes them: split into 16 KiB parts (by bytes, as the copier reads). */
export function recordsOf(
  line: string,
  stream: "stdout" | "stderr" = "stdout",
  time = nanoTime(line),
): string {
  const bytes = Buffer.from(line, "utf8");
  if (bytes.length <= PART_BYTES) return record(`${line}\n`, stream, time);
  let out = "";
  for (let at = 0; at < bytes.length; at += PART_BYTES) {
    const last = at + PART_BYTES >= bytes.length;
    // The copier cuts bytes, so a part may end inside a character; the daemon's encoder then writes U+FFFD.
    // These tests cut ASCII text only.
    const part = bytes.subarray(at, Math.min(bytes.length, at + PART_BYTES)).toString("utf8");
    out += record(last ? `${part}\n` : part, stream, time);
  }
  return out;
}

/** A record time for a line: the `[...]` stamp of an entry line with nanoseconds, else a fixed one. */
export function nanoTime(line: string): string {
  const ms = parseEntry(line).tsMs;
  const iso = new Date(ms ?? Date.parse("2026-12-04T12:00:00Z")).toISOString();
  return `${iso.slice(0, 19)}.123456789Z`;
}

export const toJsonLog = (lines: string[], stream: "stdout" | "stderr" = "stdout") =>
  lines.map((line) => recordsOf(line, stream)).join("");
