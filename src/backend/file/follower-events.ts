import type { Line } from "../../core/line.js";

/**
 * What a follower reports. The core never logs: the host (server, CLI) decides what to print or forward.
 * Cursors in events are positions a consumer may resume from.
 */
export type FollowerEvent =
  /** Complete lines, in file order, read in one pass (a batch: send it as one frame). */
  | { type: "lines"; lines: Line[] }
  /** The file shrank below our offset (copytruncate): following restarts at offset 0 of the same file. */
  | { type: "truncated"; previousSize: number; cursor: string }
  /** The path now names a different file (rename rotation or delete+recreate); the old file was drained first. */
  | { type: "rotated"; cursor: string }
  /** The path does not exist (yet, or any more); the follower waits for it. */
  | { type: "missing" }
  /**
   * Lines between `from` and `to` cannot be delivered: the resume cursor names a file that is gone or
   * changed, or the file was truncated under a cursor. `to` is where delivery continues.
   */
  | { type: "gap"; reason: GapReason; from: string | null; to: string }
  /** A non-fatal I/O problem (permissions, EIO); the follower keeps trying. */
  | { type: "error"; error: Error };

export type GapReason = "file-changed" | "file-gone" | "truncated";

export type FollowerListener = (event: FollowerEvent) => void;
