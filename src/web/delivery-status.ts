import type { AlertTargetStatus } from "../protocol/messages.js";
import { safeText } from "./safe-text.js";

/** One webhook target as the alerts panel shows it: plain strings, put into the DOM as text. */
export interface TargetView {
  name: string;
  /** The host (and port) the target posts to; the server never sends the path (often a credential). */
  host: string;
  counts: string;
  /** The last attempt failed: the row is shown in red and the topbar button gets its warning mark. */
  failing: boolean;
  /** The last error with its status and time, null when the target never failed. */
  error: string | null;
}

/**
 * Did the target's last delivery fail? The server keeps the last error even after later successes, so the error
 * counts only when it is not older than the last success (both ISO times from the same clock).
 */
export function lastAttemptFailed(t: AlertTargetStatus): boolean {
  return t.lastError !== null && (t.lastSentAt === null || t.lastError.at >= t.lastSentAt);
}

export function anyFailing(targets: readonly AlertTargetStatus[]): boolean {
  return targets.some(lastAttemptFailed);
}

export function targetView(t: AlertTargetStatus): TargetView {
  const e = t.lastError;
  const queued = t.queued > 0 ? ` · ${t.queued} queued` : "";
  return {
    name: safeText(t.name),
    host: hostOf(t.url),
    counts: `${t.sent} sent · ${t.failed} failed · ${t.dropped} dropped${queued}`,
    failing: lastAttemptFailed(t),
    error:
      e === null
        ? null
        : `${e.status === null ? "no answer" : `status ${e.status}`} at ${shortTime(e.at)}: ${safeText(e.message)}`,
  };
}

/** `2026-12-04 19:00:00 UTC`; the string itself when it is not a time. */
export function shortTime(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime())
    ? safeText(iso)
    : d
        .toISOString()
        .replace("T", " ")
        .replace(/\.\d+Z$/, " UTC");
}

function hostOf(url: string): string {
  try {
    return new URL(url).host || safeText(url);
  } catch {
    return safeText(url);
  }
}
