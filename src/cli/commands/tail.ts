import { stat } from "node:fs/promises";
import type { Command } from "commander";
import { escapeMessage } from "../../append/entry-format.js";
import { Follower, type StartAt } from "../../backend/file/follower.js";
import type { FollowerEvent } from "../../backend/file/follower-events.js";
import { CursorError } from "../../core/cursor.js";
import { parseEntry } from "../../core/entry.js";
import type { Line } from "../../core/line.js";
import { resolveAuditFile } from "../audit-file.js";
import { CliError, isErrno } from "../cli-error.js";
import { watchOutputClosed } from "../remote-tail/output-closed.js";
import { isRemoteUrl } from "../remote-tail/remote-target.js";

interface TailOptions {
  lines: string;
  since?: string;
  follow: boolean;
  json?: boolean;
  pollInterval: string;
  stream?: string;
  grep?: string;
  tokenFile?: string;
}

export function registerTail(program: Command): void {
  program
    .command("tail")
    .summary("print entries of an audit file live")
    .description(
      "Print the last lines of a file, then each new line as it is written, following the file by name like " +
        "`tail -F`: rotation by rename or copytruncate, deletion and re-creation are handled and reported on " +
        "stderr. --since prints exactly the lines after a cursor from an earlier --json run. FILE defaults to " +
        "$LIVETRAIL_FILE, else ./status/AUTO_REPAIR_AUDIT.log. On a terminal, control characters in lines are " +
        "shown escaped (\\x1b).",
    )
    .argument(
      "[file]",
      "file to follow, or a livetrail server's URL (http(s)://HOST:PORT) to follow remotely",
    )
    .option("-n, --lines <n>", "start with the last N lines (0: only new lines)", "10")
    .option("--since <cursor>", "start right after this cursor instead (with a URL: a cursor or an ISO time)")
    .option("--no-follow", "print what is there and exit")
    .option("--json", "one JSON object per line: {type:'line', seq, cursor, text, ts?, level}; events too")
    .option(
      "--poll-interval <ms>",
      "fallback stat poll interval, for file systems without change events",
      "1000",
    )
    .optionsGroup("With a URL (a livetrail server, over its /ws protocol):")
    .option("--stream <name>", "the stream to follow (default: the server's default stream)")
    .option("--grep <regex>", "print only lines this regular expression (RE2 syntax) finds something in")
    .option("--token-file <file>", "read the token from this file (else $LIVETRAIL_TOKEN)")
    .addHelpText(
      "after",
      "\nExit status: 0 stopped (end of file with --no-follow, or SIGINT/SIGTERM); 1 error (with --no-follow: the " +
        "file is missing or cannot be read); 2 usage.\n\nWith a URL: lines as the server sends them, coloured by level on " +
        "a terminal; --json prints the HTTP API's line objects. A dropped connection or a server restart is " +
        "resumed from the last line printed (backoff up to 5 s), with no line missed or printed twice; gaps the " +
        "server reports go to stderr; a server that cannot be reached at the start is an error (exit 1). Exits as " +
        "soon as its output is closed (| head).",
    )
    .action(async (fileArg: string | undefined, options: TailOptions, command: Command) => {
      const linesGiven = command.getOptionValueSource("lines") === "cli";
      const start = startFrom(options, linesGiven);
      if (fileArg !== undefined && isRemoteUrl(fileArg)) {
        const { remoteTail } = await import("../remote-tail/remote-tail.js");
        const tailN = "tail" in start ? start.tail : 0;
        if (tailN > 100_000) throw new CliError("-n with a URL is at most 100000", 2);
        await remoteTail({
          url: fileArg,
          tail: tailN,
          follow: options.follow,
          json: options.json === true,
          ...pick(options, ["stream", "since", "grep", "tokenFile"]),
        });
        return;
      }
      for (const flag of ["stream", "grep", "tokenFile"] as const) {
        if (options[flag] !== undefined) throw new CliError(`--${kebab(flag)} needs a URL to follow`, 2);
      }
      const pollIntervalMs = Number(options.pollInterval);
      if (!Number.isInteger(pollIntervalMs) || pollIntervalMs < 10) {
        throw new CliError(
          `--poll-interval needs a whole number of milliseconds >= 10, got "${options.pollInterval}"`,
          2,
        );
      }
      const file = resolveAuditFile(fileArg);
      if (!options.follow) await mustExist(file);
      await tail(file, start, pollIntervalMs, options);
    });
}

function pick<K extends keyof TailOptions>(options: TailOptions, keys: K[]): Partial<Pick<TailOptions, K>> {
  const out: Partial<Pick<TailOptions, K>> = {};
  for (const key of keys) if (options[key] !== undefined) out[key] = options[key];
  return out;
}

const kebab = (name: string): string => name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);

function startFrom(options: TailOptions, linesGiven: boolean): StartAt {
  if (options.since !== undefined) {
    if (linesGiven) throw new CliError("use either -n or --since, not both", 2);
    return { cursor: options.since };
  }
  const n = Number(options.lines);
  if (options.lines.trim() === "" || !Number.isSafeInteger(n) || n < 0) {
    throw new CliError(`-n needs a whole number >= 0, got "${options.lines}"`, 2);
  }
  return { tail: n };
}

async function mustExist(file: string): Promise<void> {
  try {
    if ((await stat(file)).isDirectory()) throw new CliError(`${file}: is a directory`, 1);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") throw new CliError(`${file}: no such file`, 1);
    throw error;
  }
}

async function tail(
  file: string,
  start: StartAt,
  pollIntervalMs: number,
  options: TailOptions,
): Promise<void> {
  const follower = new Follower(file, { start, pollIntervalMs });
  const text = options.json ? null : new TextPrinter(file, process.stdout.isTTY === true);
  const print = text ? (event: FollowerEvent) => text.print(event) : printJson;
  // Following, a read error is reported and retried (the file may become readable, like `tail -F`); without
  // --follow there is no later: the first one is the command's failure.
  const failures: Error[] = [];
  follower.on((event) => {
    if (!options.follow && event.type === "error") failures.push(event.error);
    else print(event);
  });
  // Registered before start so a signal during the initial read still closes the follower.
  const stopped =
    options.follow &&
    new Promise<void>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
      // `tail FILE | head` on a quiet log: stop when head has gone, not at the next line.
      watchOutputClosed(resolve);
    });
  try {
    await follower.start();
    if (text && follower.cursor !== null) text.waitingForFile = false;
    if (stopped) await stopped;
    else {
      const [failure] = failures;
      if (failure !== undefined)
        throw isErrno(failure) ? failure : new CliError(`${file}: ${failure.message}`);
      const { offset, readOffset } = follower.stats;
      if (readOffset > offset) {
        process.stderr.write(`livetrail: ${file}: the last line has no newline yet; not shown\n`);
      }
    }
  } catch (error) {
    if (error instanceof CursorError) throw new CliError(`--since: ${error.message}`, 2);
    throw error;
  } finally {
    await follower.close();
  }
}

function printJson(event: FollowerEvent): void {
  if (event.type === "lines") {
    let out = "";
    for (const line of event.lines) out += `${JSON.stringify(jsonLine(line))}\n`;
    process.stdout.write(out);
  } else if (event.type === "error") {
    process.stdout.write(`${JSON.stringify({ type: "error", message: event.error.message })}\n`);
  } else {
    process.stdout.write(`${JSON.stringify(event)}\n`);
  }
}

function jsonLine(line: Line): Record<string, unknown> {
  const entry = parseEntry(line.text);
  return {
    type: "line",
    seq: line.seq,
    cursor: line.cursor,
    text: line.text,
    ...(entry.ts === undefined ? {} : { ts: entry.ts }),
    level: entry.level,
    ...(line.truncatedFrom === undefined ? {} : { truncatedFrom: line.truncatedFrom }),
  };
}

/** Lines on stdout; what happened to the file on stderr, in the words of `tail -F`. */
class TextPrinter {
  /** No file seen yet: the next file is one that appeared, not a replacement. */
  waitingForFile = true;

  constructor(
    private readonly file: string,
    private readonly terminal: boolean,
  ) {}

  print(event: FollowerEvent): void {
    if (event.type === "lines") {
      this.waitingForFile = false;
      let out = "";
      for (const line of event.lines) {
        // A log line must not be able to drive the terminal (escape sequences, cursor movement).
        out += this.terminal ? escapeMessage(line.text) : line.text;
        if (line.truncatedFrom !== undefined) out += ` [... line truncated: ${line.truncatedFrom} bytes]`;
        out += "\n";
      }
      process.stdout.write(out);
    } else {
      process.stderr.write(`livetrail: ${this.file}: ${this.notice(event)}\n`);
    }
  }

  private notice(event: Exclude<FollowerEvent, { type: "lines" }>): string {
    switch (event.type) {
      case "truncated":
        return "file truncated; following from the start";
      case "rotated": {
        const appeared = this.waitingForFile;
        this.waitingForFile = false;
        return appeared ? "file appeared; following it" : "file replaced; following the new file";
      }
      case "missing":
        return "no such file; waiting for it to appear";
      case "gap":
        return `lines cannot be delivered (${event.reason}); continuing at ${event.to}`;
      case "error":
        return event.error.message;
    }
  }
}
