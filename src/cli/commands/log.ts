import type { Command } from "commander";
import { appendEntries } from "../../append/appender.js";
import {
  type EntryLevel,
  formatEntry,
  isCategory,
  MAX_ENTRY_BYTES,
  parseLevel,
} from "../../append/entry-format.js";
import { readLines } from "../../append/line-reader.js";
import { IntegrityError } from "../../integrity/integrity-error.js";
import { sealFile } from "../../integrity/seal-file.js";
import { loadSealKey, type SealKey } from "../../integrity/seal-key.js";
import { SealError } from "../../integrity/sealer.js";
import { SidecarError } from "../../integrity/sidecar.js";
import { resolveAuditFile } from "../audit-file.js";
import { CliError } from "../cli-error.js";

interface LogOptions {
  file?: string;
  level?: string;
  sealKey?: string;
}

export function registerLog(program: Command): void {
  program
    .command("log")
    .summary("append an entry to the audit file")
    .description(
      "Append one entry, `[<UTC time>] message`, to the audit file: --file, else $LIVETRAIL_FILE, else " +
        "./status/AUTO_REPAIR_AUDIT.log (directories are created). An entry is always one line: newlines and " +
        "control characters in the message are escaped (\\n, \\t, \\x1b, ...). Each entry is one O_APPEND " +
        "write, so any number of writers can log to the same file at once.",
    )
    .usage("[options] [category] <message | ->")
    .argument(
      "<message...>",
      "[category] message (one quoted argument); `-` reads messages from stdin, one per line",
    )
    .option("-f, --file <path>", "audit file to append to")
    .option("-l, --level <level>", "error, warn, ok or info: written as `ERROR: message`")
    .option(
      "--seal-key <file>",
      "after writing, seal the file (signed checkpoint in FILE.seal/) with this signer key (livetrail keygen)",
    )
    .addHelpText(
      "after",
      `
Examples:
  livetrail log "Auto-repair: Restarted Grafana container"
  livetrail log --level error "PostgreSQL unreachable"   # [..Z] ERROR: PostgreSQL unreachable
  livetrail log test "New repair action"                 # seed form: [..Z] test: New repair action
  journalctl -f -o cat | livetrail log -                 # one entry per line; blank lines skipped

With --seal-key, each write is followed by sealing: every complete line in the file that is not sealed yet (its
own and any other writer's) gets into the Merkle tree and a signed checkpoint, under the sidecar's lock, so
concurrent \`log --seal-key\` processes and \`serve --seal-key\` can seal one file together.

Exit status: 0 written (and sealed); 1 not written (empty or too long message, I/O error; with -, any rejected
line), or written but not sealed; 2 usage error.`,
    )
    .action(async (words: string[], options: LogOptions) => {
      const { category, message } = splitWords(words);
      const level = options.level === undefined ? undefined : parseLevel(options.level);
      const file = resolveAuditFile(options.file);
      const seal = options.sealKey === undefined ? null : await sealerFor(file, options.sealKey);
      if (message === "-") await logStdin(file, level, category, seal);
      else {
        await appendEntries(file, [message], { level, category });
        await seal?.();
      }
    });
}

/** `log MESSAGE` or the seed's `log CATEGORY MESSAGE`; a message of several words must be quoted. */
function splitWords(words: string[]): { category: string | undefined; message: string } {
  if (words.length === 1) return { category: undefined, message: words[0] ?? "" };
  if (words.length === 2) {
    const [category = "", message = ""] = words;
    if (!isCategory(category)) {
      throw new CliError(
        `"${category}" is not a category (one word: letters, digits, "_", "." or "-"): ` +
          "quote the message as one argument",
        2,
      );
    }
    return { category, message };
  }
  throw new CliError(
    `too many arguments (${words.length}): quote the message, e.g. livetrail log "Restarted Grafana container"`,
    2,
  );
}

/**
 * One entry per stdin line, written as the lines arrive (whole lines of one read go out in one write).
 * A line that cannot be an entry (invalid UTF-8, too long) is reported with its number and skipped; the
 * others are still written and the exit status says something was rejected. Blank lines carry nothing: skipped.
 */
async function logStdin(
  file: string,
  level: EntryLevel | undefined,
  category: string | undefined,
  seal: (() => Promise<void>) | null,
): Promise<void> {
  const decoder = new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  let rejected = 0;
  let total = 0;
  for await (const batch of readLines(process.stdin, MAX_ENTRY_BYTES)) {
    const now = new Date();
    const messages: string[] = [];
    for (const line of batch) {
      total++;
      const cut = line.length > line.bytes.length;
      const bytes = line.bytes.at(-1) === 0x0d && !cut ? line.bytes.subarray(0, -1) : line.bytes;
      try {
        if (cut) throw new Error(`line is ${line.length} bytes; too long for an entry`);
        const text = decoder.decode(bytes);
        if (text.trim() === "") continue;
        formatEntry(text, { level, category, time: now });
        messages.push(text);
      } catch (error) {
        rejected++;
        const reason = error instanceof TypeError ? "invalid UTF-8" : (error as Error).message;
        process.stderr.write(`livetrail: stdin line ${line.number} not written: ${reason}\n`);
      }
    }
    await appendEntries(file, messages, { level, category, now });
    if (messages.length > 0) await seal?.();
  }
  if (rejected > 0) throw new CliError(`${rejected} of ${total} stdin lines not written`, 1);
}

/** Seals the file after a write (integrity/seal-file.ts); the key is read once, before anything is written. */
async function sealerFor(file: string, keyPath: string): Promise<() => Promise<void>> {
  let key: SealKey;
  try {
    key = await loadSealKey(keyPath);
  } catch (error) {
    if (error instanceof IntegrityError) throw new CliError(`--seal-key ${keyPath}: ${error.message}`, 2);
    throw error;
  }
  return async () => {
    try {
      await sealFile(file, key);
    } catch (error) {
      if (error instanceof SealError || error instanceof SidecarError || error instanceof IntegrityError) {
        throw new CliError(`${file}: written, but not sealed: ${error.message}`, 1);
      }
      throw error;
    }
  };
}
