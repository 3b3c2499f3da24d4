import { EntryError } from "../append/entry-format.js";

/** A failure the CLI reports as one line on stderr with a chosen exit status (no stack trace). */
export class CliError extends Error {
  override readonly name = "CliError";
  constructor(
    message: string,
    /** 1: the command failed; 2: the command line was wrong. */
    readonly exitCode: 1 | 2 = 1,
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
};

/** Turns any thrown value into the message and exit status the CLI prints, without a stack for known errors. */
export function describeError(error: unknown): { message: string; exitCode: number } {
  if (error instanceof CliError) return { message: error.message, exitCode: error.exitCode };
  if (error instanceof EntryError) {
    const usage = error.code === "bad-level" || error.code === "bad-category";
    return { message: error.message, exitCode: usage ? 2 : 1 };
  }
  const errno = error as NodeJS.ErrnoException;
  if (errno && typeof errno.code === "string" && errno.code in ERRNO_TEXT) {
    const where = errno.path ? `${errno.path}: ` : "";
    return { message: `${where}${ERRNO_TEXT[errno.code]} (${errno.code})`, exitCode: 1 };
  }
  if (error instanceof Error) return { message: error.stack ?? error.message, exitCode: 1 };
  return { message: String(error), exitCode: 1 };
}
