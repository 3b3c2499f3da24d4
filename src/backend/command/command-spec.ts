import { parse } from "shell-quote";

/** What a command stream runs: an argv, started without a shell unless given as a shell string. */
export interface CommandSpec {
  /** argv[0] is looked up on the child's PATH. */
  argv: string[];
  /** The spec as given, without its prefix (shown in start-up messages). */
  text: string;
}

/** Prefixes that make a stream spec a command: `cmd:` an argv in shell quoting, `sh:` a string for /bin/sh -c. */
const CMD = "cmd:";
const SH = "sh:";

export class CommandSpecError extends Error {
  override name = "CommandSpecError";
}

/** Whether a stream spec (the part after NAME=) names a command rather than a file. */
export function isCommandSpec(given: string): boolean {
  return given.startsWith(CMD) || given.startsWith(SH);
}

/**
 * `cmd:journalctl -f -o 'short-iso'` → ["journalctl", "-f", "-o", "short-iso"]: split with shell quoting rules
 * but run without a shell, so `|`, `>`, `;`, globs and `$VAR` are refused or kept literal (use `sh:` for them).
 * `sh:STRING` → ["/bin/sh", "-c", STRING]. Throws CommandSpecError with a message for the user.
 */
export function parseCommandSpec(given: string): CommandSpec {
  if (given.startsWith(SH)) {
    const text = given.slice(SH.length);
    if (text.trim() === "") throw new CommandSpecError("sh: needs a command string");
    return { argv: ["/bin/sh", "-c", text], text };
  }
  if (!given.startsWith(CMD)) throw new CommandSpecError(`not a command: "${given}"`);
  const text = given.slice(CMD.length);
  // No shell runs it: $NAME stays as it is written instead of being expanded to "" (shell-quote's default).
  const words = parse(text, (key) => `$${key}`);
  const argv: string[] = [];
  for (const word of words) {
    if (typeof word === "string") {
      argv.push(word);
      continue;
    }
    if ("comment" in word) break;
    const shown = word.op === "glob" ? word.pattern : word.op;
    throw new CommandSpecError(
      `cmd: runs no shell, so "${shown}" means nothing in "${text}"; quote it, or use sh:'...' for a shell command`,
    );
  }
  if (argv.length === 0) throw new CommandSpecError("cmd: needs a command to run");
  return { argv, text };
}
