/** One finding of `livetrail doctor`: what was checked, how it went, and what to do about it. */
export interface CheckResult {
  /** The check's short name: file, token-file, inotify, port, clock, proxy, tls. */
  check: string;
  status: "ok" | "warn" | "fail";
  /** What was found, naming the thing (a path, a port). */
  message: string;
  /** How to fix it (warn and fail). */
  fix?: string;
}

export const ok = (check: string, message: string): CheckResult => ({ check, status: "ok", message });
export const warn = (check: string, message: string, fix: string): CheckResult => ({
  check,
  status: "warn",
  message,
  fix,
});
export const fail = (check: string, message: string, fix: string): CheckResult => ({
  check,
  status: "fail",
  message,
  fix,
});

/** One line per result: `fail port     127.0.0.1:8080 is in use by ... - fix: ...`. */
export function formatResult(result: CheckResult): string {
  const fix = result.fix === undefined ? "" : ` - fix: ${result.fix}`;
  return `${result.status.padEnd(4)} ${result.check.padEnd(10)} ${result.message}${fix}`;
}
