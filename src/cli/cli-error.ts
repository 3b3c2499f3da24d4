import { AppendError } from "../append/appender.js";
import { EntryError } from "../append/entry-format.js";

/** A failure the CLI reports as one line on stderr with a chosen exit status (no stack trace). */
export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    message: string,
    /** 1: the command failed; 2: the command line was wrong; 3: `verify` found the log or its seal changed. */
    readonly exitCode: 1 | 2 | 3 = 1,
  ) {
    super(message);
  }
}

const ERRNO_TEXT: Record<string, string> = {
  ENOENT: "no such file or directory",
  EACCES: "permission denied",
  EPERM: "operation not permitted",
  EISDIR: "is a directory",
  ENOTDIR: "a parent is not a directory",
  ENOSPC: "no space left on device",
  EROFS: "read-only file system",
  EDQUOT: "disk quota exceeded",
  EFBIG: "file too large",
  EIO: "input/output error",
  ELOOP: "too many levels of symbolic links",
  ENAMETOOLONG: "file name too long",
  EMFILE: "too many open files",
  ENFILE: "too many open files",
};

/** An error from a system call (Node's ErrnoException): `code` is an errno name such as ENOENT. */
export function isErrno(error: unknown): error is NodeJS.ErrnoException {
  const code = (error as NodeJS.ErrnoException | null)?.code;
  return error instanceof Error && typeof code === "string" && /^E[A-Z0-9]+$/.test(code);
}

/** The system's words for an errno without our own text: Node's message is "CODE: text, syscall 'path'". */
function errnoText(error: NodeJS.ErrnoException, code: string): string {
  const known = ERRNO_TEXT[code];
  if (known !== undefined) return known;
  const m = /^[A-Z0-9]+: ([^,]+)/.exec(error.message);
  return m?.[1] ?? "system error";
}

/** Turns any thrown value into the message and exit status the CLI prints, without a stack for known errors. */
export function describeError(error: unknown): { message: string; exitCode: number } {
  if (error instanceof CliError) return { message: error.message, exitCode: error.exitCode };
  if (error instanceof EntryError) {
    const usage = error.code === "bad-level" || error.code === "bad-category";
    return { message: error.message, exitCode: usage ? 2 : 1 };
  }
  // A write that failed or stopped short: what happened and what the file holds now, in one line.
  if (error instanceof AppendError) return { message: error.message, exitCode: 1 };
  // Any other system call that failed: the path and the reason, no stack (it is not a bug in livetrail).
  if (isErrno(error)) {
    const code = error.code as string;
    const where = error.path ? `${error.path}: ` : "";
    return { message: `${where}${errnoText(error, code)} (${code})`, exitCode: 1 };
  }
  // Anything else is a bug: the stack helps to find it.
  if (error instanceof Error) return { message: error.stack ?? error.message, exitCode: 1 };
  return { message: String(error), exitCode: 1 };
}
