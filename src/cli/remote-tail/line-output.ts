import { RE2JS } from "re2js";
import { escapeMessage } from "../../append/entry-format.js";
import { type EntryLevel, parseEntry } from "../../core/entry.js";
import type { FrameLine } from "../../protocol/lines-frame.js";
import type { WireLine } from "../../protocol/messages.js";
import { CliError } from "../cli-error.js";

export interface LineOutputOptions {
  /** One JSON object per line, the HTTP API's line shape (WireLine). */
  json: boolean;
  /** Colour by level and escape control characters: stdout is a terminal. */
  terminal: boolean;
  /** Only lines this RE2 pattern finds something in. */
  grep?: string;
}

const COLOURS: Readonly<Record<EntryLevel, string>> = {
  error: "\x1b[31m",
  warn: "\x1b[33m",
  ok: "\x1b[32m",
  info: "",
};
const RESET = "\x1b[0m";

/** Turns received lines into stdout text: plain, coloured on a terminal, or JSON; filtered by --grep. */
export class LineOutput {
  private readonly pattern: RE2JS | null;

  constructor(private readonly options: LineOutputOptions) {
    // RE2 (linear time): a pattern like (a+)+$ cannot stall the client on a long line.
    try {
      this.pattern = options.grep === undefined ? null : RE2JS.compile(options.grep);
    } catch (error) {
      throw new CliError(`--grep: ${(error as Error).message}`, 2);
    }
  }

  /** The text to write for these lines (empty when --grep keeps none). */
  format(lines: readonly FrameLine[]): string {
    let out = "";
    for (const line of lines) {
      if (this.pattern !== null && !this.pattern.matcher(line.text).find()) continue;
      const entry = parseEntry(line.text);
      if (this.options.json) {
        const wire: WireLine = { seq: line.seq, text: line.text, c: line.c };
        const ts = line.ts ?? entry.ts;
        if (ts !== undefined) wire.ts = ts;
        if (entry.level !== "info") wire.level = entry.level;
        if (line.trunc !== undefined) wire.trunc = line.trunc;
        if (line.ch !== undefined) wire.ch = line.ch;
        out += `${JSON.stringify(wire)}\n`;
        continue;
      }
      // A log line must not be able to drive the terminal (escape sequences, cursor movement).
      let text = this.options.terminal ? escapeMessage(line.text) : line.text;
      if (line.trunc !== undefined) text += ` [... line truncated: ${line.trunc} bytes]`;
      const colour = this.options.terminal ? COLOURS[entry.level] : "";
      out += colour === "" ? `${text}\n` : `${colour}${text}${RESET}\n`;
    }
    return out;
  }
}
